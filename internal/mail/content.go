package mail

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/net/html"
)

// MaxTemplate is the largest custom verification template content: "Custom
// verification email templates may not exceed 10 MB in size."
const MaxTemplate = 10 << 20

// ErrContent is content SES would refuse with
// CustomVerificationEmailInvalidContent.
var ErrContent = errors.New("invalid template content")

// common are the attributes every allowed tag takes.
var common = []string{"class", "id", "style", "title"}

// allowed are the tags of a custom verification template and their
// attributes beyond common, from SES's "Custom verification email frequently
// asked questions" (Q5). There is no <a>: SES adds the one link itself.
var allowed = map[string][]string{
	"abbr": nil, "acronym": nil, "address": nil, "area": nil, "b": nil, "bdo": nil, "big": nil,
	"blockquote": {"cite"}, "body": nil, "br": nil, "button": nil, "caption": nil, "center": nil,
	"cite": nil, "code": nil, "col": {"span", "width"}, "colgroup": {"span", "width"}, "dd": nil,
	"del": nil, "dfn": nil, "dir": nil, "div": nil, "dl": nil, "dt": nil, "em": nil, "fieldset": nil,
	"font": nil, "form": nil, "h1": nil, "h2": nil, "h3": nil, "h4": nil, "h5": nil, "h6": nil,
	"head": nil, "hr": nil, "html": nil, "i": nil, "img": {"align", "alt", "height", "src", "width"},
	"input": nil, "ins": nil, "kbd": nil, "label": nil, "legend": nil, "li": nil, "map": nil,
	"menu": nil, "ol": {"start", "type"}, "optgroup": nil, "option": nil, "p": nil, "pre": nil,
	"q": {"cite"}, "s": nil, "samp": nil, "select": nil, "small": nil, "span": nil, "strike": nil,
	"strong": nil, "sub": nil, "sup": nil, "table": {"summary", "width"}, "tbody": nil,
	"td": {"abbr", "axis", "colspan", "rowspan", "width"}, "textarea": nil, "tfoot": nil,
	"th": {"abbr", "axis", "colspan", "rowspan", "scope", "width"}, "thead": nil, "tr": nil,
	"tt": nil, "u": nil, "ul": {"type"}, "var": nil,
}

// CheckContent reports the first thing in a template's content that SES
// refuses: more than MaxTemplate bytes, a comment, or a tag or attribute
// outside SES's list. Plain text passes.
func CheckContent(content string) error {
	if len(content) > MaxTemplate {
		return fmt.Errorf("%w: %d bytes; a template may not exceed %d bytes (10 MB)", ErrContent, len(content), MaxTemplate)
	}
	z := html.NewTokenizer(strings.NewReader(content))
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() == io.EOF {
				return nil
			}
			return fmt.Errorf("%w: %v", ErrContent, z.Err())
		case html.CommentToken:
			return fmt.Errorf("%w: HTML comments are not allowed; remove <!--%s-->", ErrContent, clip(string(z.Text())))
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			t := z.Token()
			extra, ok := allowed[t.Data]
			if !ok {
				return fmt.Errorf("%w: the tag <%s> is not allowed; SES allows only the tags of its custom verification email FAQ", ErrContent, t.Data)
			}
			for _, a := range t.Attr {
				if !slices.Contains(common, a.Key) && !slices.Contains(extra, a.Key) {
					return fmt.Errorf("%w: the attribute %q is not allowed on <%s>", ErrContent, a.Key, t.Data)
				}
			}
		}
	}
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

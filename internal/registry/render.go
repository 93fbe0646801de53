package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"

	"github.com/mailgun/raymond/v2"
	"github.com/mailgun/raymond/v2/ast"
	"github.com/mailgun/raymond/v2/parser"

	"github.com/sesame/sesame/internal/store"
)

// SES's template language is Handlebars
// (https://docs.aws.amazon.com/ses/latest/dg/send-personalized-email-advanced.html),
// rendered here by raymond (mailgun's maintained fork of aymerick/raymond,
// a Handlebars 3 implementation in Go). Two differences from plain
// Handlebars are SES's: inserted values are not HTML-escaped, and a
// variable at the top level of a part that the data does not give is an
// error (MissingRenderingAttribute) rather than an empty string.

// The rendering errors of TestRenderTemplate, and of a templated send.
var (
	// ErrRenderingParameter: TemplateData is not a JSON object
	// (InvalidRenderingParameter).
	ErrRenderingParameter = errors.New("invalid rendering parameter")
	// ErrMissingAttribute: a variable has no value (MissingRenderingAttribute).
	ErrMissingAttribute = errors.New("missing rendering attribute")
	// ErrInvalidTemplate: a part does not parse or render, e.g. a partial
	// that does not exist (InvalidTemplate).
	ErrInvalidTemplate = errors.New("invalid template")
)

// Rendered is a template rendered with one set of data.
type Rendered struct {
	Subject, Text, HTML string
}

// parseTemplateData reads TemplateData: a JSON object.
func parseTemplateData(data string) (map[string]any, error) {
	d := json.NewDecoder(strings.NewReader(data))
	d.UseNumber() // 1.50 stays 1.50
	var v map[string]any
	if err := d.Decode(&v); err != nil || v == nil || d.More() {
		return nil, wrapf(Invalid, ErrRenderingParameter, "TemplateData is not a JSON object: give the values as {\"name\": \"value\", ...}.")
	}
	return v, nil
}

// render renders the parts of t with data.
func render(t *store.EmailTemplate, data map[string]any) (*Rendered, error) {
	safe := unescaped(data).(map[string]any)
	var out Rendered
	for _, p := range []struct {
		name, src string
		dst       *string
	}{{"subject", t.Subject, &out.Subject}, {"text", t.Text, &out.Text}, {"html", t.HTML, &out.HTML}} {
		if p.src == "" {
			continue
		}
		s, err := renderPart(t.Name, p.name, p.src, data, safe)
		if err != nil {
			return nil, err
		}
		*p.dst = s
	}
	return &out, nil
}

func renderPart(template, part, src string, data, safe map[string]any) (s string, err error) {
	prog, err := parser.Parse(src)
	if err != nil {
		return "", wrapf(Invalid, ErrInvalidTemplate, "Template %s: its %s part is not valid: %v.", template, part, err)
	}
	if name := missing(prog, data); name != "" {
		return "", wrapf(Invalid, ErrMissingAttribute, "Attribute '%s' is not present in the rendering data.", name)
	}
	tpl, err := raymond.Parse(src)
	if err != nil {
		return "", wrapf(Invalid, ErrInvalidTemplate, "Template %s: its %s part is not valid: %v.", template, part, err)
	}
	s, err = tpl.Exec(safe)
	if err != nil {
		return "", wrapf(Invalid, ErrInvalidTemplate, "Template %s: its %s part could not be rendered: %v.", template, part, err)
	}
	return s, nil
}

// missing returns the first variable at the top level of prog (outside any
// block, where the context is data) that data has no value for; "" when
// there is none. Helpers ({{helper arg}}) and @data variables are not
// variables.
func missing(prog *ast.Program, data map[string]any) string {
	for _, n := range prog.Body {
		m, ok := n.(*ast.MustacheStatement)
		if !ok || m.Expression == nil || len(m.Expression.Params) > 0 || m.Expression.Hash != nil {
			continue
		}
		p := m.Expression.FieldPath()
		if p == nil || p.Data || p.Depth > 0 || len(p.Parts) == 0 {
			continue
		}
		var cur any = data
		for _, part := range p.Parts {
			obj, ok := cur.(map[string]any)
			if !ok {
				return p.Original
			}
			if cur, ok = obj[part]; !ok {
				return p.Original
			}
		}
	}
	return ""
}

// unescaped copies v with every string a raymond.SafeString, which raymond
// inserts as it is: SES does not HTML-escape values.
func unescaped(v any) any {
	switch v := v.(type) {
	case string:
		return raymond.SafeString(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = unescaped(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = unescaped(e)
		}
		return out
	}
	return v
}

// MIME writes a rendered template as TestRenderTemplate shows it: the
// Subject, then the text and HTML parts as multipart/alternative (or the
// one part there is). An empty boundary is a random one.
func (r *Rendered) MIME(boundary string) string {
	var b bytes.Buffer
	b.WriteString("Subject: " + mime.QEncoding.Encode("utf-8", r.Subject) + "\r\nMIME-Version: 1.0\r\n")
	part := func(h textproto.MIMEHeader, ctype, body string) textproto.MIMEHeader {
		h.Set("Content-Type", ctype+"; charset=UTF-8")
		h.Set("Content-Transfer-Encoding", "7bit")
		if !is7bit(body) {
			h.Set("Content-Transfer-Encoding", "8bit")
		}
		return h
	}
	switch {
	case r.Text != "" && r.HTML != "":
		mw := multipart.NewWriter(&b)
		if boundary != "" {
			mw.SetBoundary(boundary)
		}
		fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=%q\r\n\r\n", mw.Boundary())
		for _, p := range []struct{ ctype, body string }{{"text/plain", r.Text}, {"text/html", r.HTML}} {
			w, _ := mw.CreatePart(part(textproto.MIMEHeader{}, p.ctype, p.body))
			w.Write([]byte(crlf(p.body)))
		}
		mw.Close()
	default:
		ctype, body := "text/plain", r.Text
		if r.HTML != "" {
			ctype, body = "text/html", r.HTML
		}
		h := part(textproto.MIMEHeader{}, ctype, body)
		fmt.Fprintf(&b, "Content-Type: %s\r\nContent-Transfer-Encoding: %s\r\n\r\n%s", h.Get("Content-Type"), h.Get("Content-Transfer-Encoding"), crlf(body))
	}
	return b.String()
}

func is7bit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// crlf gives every line of s a CRLF end, as RFC 5322 wants.
func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

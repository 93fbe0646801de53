package mail

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MaxMessage is the largest message sent, as in SES: "The total size of
// the email must be less than 10 MB."
const MaxMessage = 10 << 20

// letter is a message before it is encoded.
type letter struct {
	From, To string
	Subject  string
	Text     string // the text/plain alternative
	HTML     string // the text/html alternative
}

// NewMessageID returns an ID in the form SES gives MessageId (verification
// mail and sent mail alike):
// <16 hex digits of time>-<uuid>-000000.
func NewMessageID(now time.Time) string {
	return fmt.Sprintf("%016x-%s-000000", now.UnixMilli(), uuid.NewString())
}

// encode writes l as an RFC 5322 message with CRLF line ends: a
// multipart/alternative of text and HTML, both quoted-printable UTF-8, so
// the message is 7-bit clean for any relay. Header values have CR and LF
// removed, so no value can add a header.
func (l letter) encode(id string, date time.Time) []byte {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, part := range []struct{ typ, s string }{{"text/plain", l.Text}, {"text/html", l.HTML}} {
		w, _ := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		qp := quotedprintable.NewWriter(w)
		qp.Write([]byte(part.s))
		qp.Close()
	}
	mw.Close()

	var b bytes.Buffer
	header := func(name, value string) {
		b.WriteString(fold(name + ": " + oneLine(value)))
		b.WriteString("\r\n")
	}
	header("From", address(l.From))
	header("To", address(l.To))
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(l.Subject)))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", "<"+id+"@"+domainOf(l.From)+">")
	// RFC 3834: a message sent by a program, which no one should answer
	// automatically.
	header("Auto-Submitted", "auto-generated")
	header("MIME-Version", "1.0")
	header("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	b.Write(body.Bytes())
	return b.Bytes()
}

func address(a string) string { return (&mail.Address{Address: a}).String() }

func domainOf(a string) string {
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		return a[i+1:]
	}
	return "localhost"
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", " ").Replace(s)), " ")
}

// fold breaks a header line at spaces so lines stay under 78 characters
// where they can (RFC 5322 §2.2.3); encoded words are separated by spaces.
// The value's first word stays beside the field name, unless it is an
// encoded word, whose line may not exceed 76 characters (RFC 2047 §2).
func fold(line string) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Split(line, " ") {
		switch {
		case i == 0:
		case (i > 1 || strings.HasPrefix(w, "=?")) && n+1+utf8.RuneCountInString(w) > 76:
			b.WriteString("\r\n")
			n = 0
			fallthrough
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += utf8.RuneCountInString(w)
	}
	return b.String()
}

// The verification mail Sesame sends for VerifyEmailIdentity, after SES's
// "Email Address Verification Request" mail.
var (
	defaultText = texttemplate.Must(texttemplate.New("text").Parse(`Hello,

We received a request to authorize this email address ({{.To}}) for use with Sesame, an Amazon SES-compatible service, in region {{.Region}}. If you made this request, confirm that you are authorized to use this address by opening this link:

{{.Link}}

The request is not processed unless you confirm the address with this link. The link works once, and expires {{.Validity}} after the request; asking again sends a new link and voids this one.

If you did NOT request to verify this address, do not open the link, and you may ignore this message.
`))
	defaultHTML = template.Must(template.New("html").Parse(`<!DOCTYPE html>
<html><body style="font-family:sans-serif;max-width:40em">
<p>Hello,</p>
<p>We received a request to authorize this email address (<b>{{.To}}</b>) for use with Sesame, an Amazon SES-compatible service, in region <b>{{.Region}}</b>. If you made this request, confirm that you are authorized to use this address by opening this link:</p>
<p><a href="{{.Link}}">{{.Link}}</a></p>
<p>The request is not processed unless you confirm the address with this link. The link works once, and expires {{.Validity}} after the request; asking again sends a new link and voids this one.</p>
<p>If you did NOT request to verify this address, do not open the link, and you may ignore this message.</p>
</body></html>
`))
	// customFooter is what SES appends to every custom verification
	// mail: the link and a disclaimer that the template cannot remove.
	customFooter = template.Must(template.New("footer").Parse(`<p><a href="{{.Link}}">{{.Link}}</a></p>
<p style="font-size:small">If you did not request to verify this email address, please disregard this message.</p>
`))
)

type view struct {
	To, Region, Link, Validity string
}

func render(t interface{ Execute(io.Writer, any) error }, v view) string {
	var b strings.Builder
	if err := t.Execute(&b, v); err != nil {
		panic(err) // the templates are fixed and tested
	}
	return b.String()
}

// defaultLetter is the verification mail of VerifyEmailIdentity.
func defaultLetter(from, to, region, link string, validity time.Duration) letter {
	v := view{To: to, Region: region, Link: link, Validity: per(validity)}
	return letter{
		From: from, To: to,
		Subject: "Email Address Verification Request in region " + region,
		Text:    render(defaultText, v),
		HTML:    render(defaultHTML, v),
	}
}

// customLetter is a custom verification mail: the template's content with
// the link and disclaimer added before </body>, or at the end.
func customLetter(from, to, subject, content, link string) letter {
	footer := render(customFooter, view{Link: link})
	html := content
	if i := strings.LastIndex(strings.ToLower(content), "</body>"); i >= 0 {
		html = content[:i] + footer + content[i:]
	} else {
		html += "\n" + footer
	}
	text := "To verify your email address, open this link:\n\n" + link +
		"\n\nIf you did not request to verify this email address, please disregard this message.\n"
	return letter{From: from, To: to, Subject: subject, Text: text, HTML: html}
}

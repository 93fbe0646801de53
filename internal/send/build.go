package send

import (
	"bytes"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/sesame/sesame/internal/registry"
)

// once are header fields SES allows only once
// (https://docs.aws.amazon.com/ses/latest/dg/header-fields.html lists
// about 60; these are the ones mail clients write). To and Cc are not
// among them.
var once = map[string]bool{
	"From": true, "Subject": true, "Date": true, "Message-Id": true, "Reply-To": true, "Sender": true,
	"Return-Path": true, "Content-Type": true, "Mime-Version": true, "List-Unsubscribe": true,
	"Content-Transfer-Encoding": true, "In-Reply-To": true, "References": true, "Content-Disposition": true,
}

// dropped are the fields SES removes before delivery: it writes Message-ID
// and Date itself, strips the sending authorization headers, and Bcc is
// for the envelope only.
var dropped = map[string]bool{
	"Message-Id": true, "Date": true, "Bcc": true,
	"X-Ses-Source-Arn": true, "X-Ses-From-Arn": true, "X-Ses-Return-Path-Arn": true,
}

type field struct {
	name  string // canonical (textproto)
	lines []byte // the field as sent, folded lines and CRLF included
}

// rawMessage is a raw message split into its fields and body.
type rawMessage struct {
	fields []field
	header mail.Header
	body   []byte
}

func (r *rawMessage) list(name string) []string {
	v := r.header.Get(name)
	if v == "" {
		return nil
	}
	l, err := mail.ParseAddressList(v)
	if err != nil {
		return []string{v} // reported by address with its reason
	}
	out := make([]string, len(l))
	for i, a := range l {
		out[i] = a.Address
	}
	return out
}

func parseRaw(raw []byte, maxSize int) (*rawMessage, error) {
	if len(raw) > maxSize {
		return nil, rejectf("Message length is more than %d bytes: SES's limit for this call (%d MB), attachments counted base64-encoded.", maxSize, maxSize>>20)
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, invalidf("The raw message's header could not be read (%v): give an RFC 5322 message, header fields then a blank line then the body.", err)
	}
	r := &rawMessage{header: m.Header}
	rest := raw
	for len(rest) > 0 {
		end := bytes.IndexByte(rest, '\n') + 1
		if end == 0 {
			end = len(rest)
		}
		line := rest[:end]
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			r.body = rest[end:]
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && len(r.fields) > 0 {
			f := &r.fields[len(r.fields)-1]
			f.lines = append(f.lines, line...)
		} else {
			name, _, _ := bytes.Cut(line, []byte(":"))
			r.fields = append(r.fields, field{textproto.CanonicalMIMEHeaderKey(string(bytes.TrimSpace(name))), append([]byte(nil), line...)})
		}
		rest = rest[end:]
	}
	seen := map[string]string{}
	for _, f := range r.fields {
		if once[f.name] {
			if _, dup := seen[f.name]; dup {
				given, _, _ := strings.Cut(string(f.lines), ":")
				return nil, invalidf("Duplicate header '%s'.", strings.TrimSpace(given))
			}
			seen[f.name] = f.name
		}
	}
	return r, nil
}

// messageIDHeader is SES's outgoing Message-ID: <MessageId@email.amazonses.com>
// in us-east-1 and <MessageId@REGION.amazonses.com> elsewhere (observed).
func messageIDHeader(region, id string) string {
	host := "email.amazonses.com"
	if region != "us-east-1" {
		host = region + ".amazonses.com"
	}
	return "<" + id + "@" + host + ">"
}

func oneLine(s string) string { return strings.NewReplacer("\r", "", "\n", "").Replace(s) }

// addresses writes an address list header value: display names
// RFC 2047-encoded, as SES wants 7-bit headers.
func addresses(vs []string) string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if a, err := mail.ParseAddress(v); err == nil {
			out = append(out, a.String())
		} else {
			out = append(out, oneLine(v))
		}
	}
	return strings.Join(out, ", ")
}

// build makes the message that is stored and relayed: SES's Message-ID
// and Date (the UTC acceptance time) first, then the call's fields.
func build(p *parsed, m *Message, region, id string, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("Message-ID: " + messageIDHeader(region, id) + "\r\n")
	b.WriteString("Date: " + now.Format(time.RFC1123Z) + "\r\n")
	if p.raw != nil {
		for _, f := range p.raw.fields {
			if !dropped[f.name] {
				b.Write(f.lines)
			}
		}
		b.WriteString("\r\n")
		b.Write(p.raw.body)
		return b.Bytes(), nil
	}
	b.WriteString("From: " + addresses([]string{m.Source}) + "\r\n")
	if len(m.To) > 0 {
		b.WriteString("To: " + addresses(m.To) + "\r\n")
	}
	if len(m.Cc) > 0 {
		b.WriteString("Cc: " + addresses(m.Cc) + "\r\n")
	}
	if len(m.ReplyTo) > 0 {
		b.WriteString("Reply-To: " + addresses(m.ReplyTo) + "\r\n")
	}
	if m.Text == "" && m.HTML == "" {
		return nil, invalidf("The message has no body: give Body.Text or Body.Html (v1), or Content.Simple.Body (v2).")
	}
	r := registry.Rendered{Subject: oneLine(m.Subject), Text: m.Text, HTML: m.HTML}
	b.WriteString(r.MIME(""))
	return b.Bytes(), nil
}

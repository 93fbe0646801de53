package mail

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"
)

// parts reads a message as a mail reader would: its header and the decoded
// text of each alternative, by content type, with LF line ends. The
// message must be 7-bit but for the addresses (RFC 6532).
func parts(t *testing.T, raw []byte) (mail.Header, map[string]string) {
	t.Helper()
	for i, line := range bytes.Split(raw, []byte("\r\n")) {
		if len(line) > 998 {
			t.Errorf("line %d is %d bytes: RFC 5322 allows 998", i, len(line))
		}
		if bytes.IndexByte(line, '\n') >= 0 {
			t.Fatalf("line %d ends in a bare LF: %q", i, line)
		}
		for _, c := range line {
			if c >= 0x80 && !bytes.HasPrefix(line, []byte("To: ")) {
				t.Fatalf("line %d has 8-bit data: %q", i, line)
			}
		}
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	out := map[string]string{}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
			t.Errorf("part %s: encoding %q", p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"))
		}
		b, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		out[p.Header.Get("Content-Type")] = strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	return m.Header, out
}

const testLink = "https://sesame.example.com/verify?token=AbC_-123"

func TestDefaultMessage(t *testing.T) {
	l := defaultLetter("no-reply@sesame.example.com", "Ünïcode+tag@example.com", "eu-west-1", testLink, 24*time.Hour)
	id := NewMessageID(t0)
	h, p := parts(t, l.encode(id, t0))

	if !regexp.MustCompile(`^[0-9a-f]{16}-[0-9a-f-]{36}-000000$`).MatchString(id) {
		t.Errorf("message ID %q is not in SES's form", id)
	}
	if got := h.Get("Message-Id"); got != "<"+id+"@sesame.example.com>" {
		t.Errorf("Message-ID %q", got)
	}
	if d, err := h.Date(); err != nil || !d.Equal(t0) {
		t.Errorf("Date %q: %v", h.Get("Date"), err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != "Email Address Verification Request in region eu-west-1" {
		t.Errorf("Subject %q: %v", subject, err)
	}
	for name, want := range map[string]string{"From": "<no-reply@sesame.example.com>", "MIME-Version": "1.0", "Auto-Submitted": "auto-generated"} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "Ünïcode+tag@example.com" {
		t.Errorf("To %q: %v, %v", h.Get("To"), to, err)
	}
	text, html := p["text/plain; charset=utf-8"], p["text/html; charset=utf-8"]
	for _, want := range []string{testLink, "eu-west-1", "24 hours", "Ünïcode+tag@example.com"} {
		if !strings.Contains(text, want) {
			t.Errorf("text part lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(html, `<a href="`+testLink+`">`) {
		t.Errorf("HTML part lacks the link:\n%s", html)
	}
}

func TestCustomMessage(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{name: "link before </body>", content: "<html><body><h1>Welcome</h1></BODY></html>",
			want: "<h1>Welcome</h1><p><a href=\"" + testLink + "\">"},
		{name: "no body: link at the end", content: "<p>Welcome</p>", want: "<p>Welcome</p>\n<p><a href="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := customLetter("sender@example.com", "user@example.com", "Please\r\nBcc: victim@example.com confirm", tt.content, testLink)
			h, p := parts(t, l.encode(NewMessageID(t0), t0))
			html := p["text/html; charset=utf-8"]
			if !strings.Contains(html, tt.want) || !strings.Contains(html, "please disregard this message") {
				t.Errorf("HTML part:\n%s\nwant %q and the disclaimer", html, tt.want)
			}
			if strings.Index(html, "</BODY>") >= 0 && strings.Index(html, testLink) > strings.Index(html, "</BODY>") {
				t.Error("link after </body>")
			}
			if !strings.Contains(p["text/plain; charset=utf-8"], testLink) {
				t.Error("text part lacks the link")
			}
			if h.Get("Bcc") != "" || h.Get("Subject") != "Please Bcc: victim@example.com confirm" {
				t.Errorf("a line break in the subject made a header: Subject %q, Bcc %q", h.Get("Subject"), h.Get("Bcc"))
			}
			if h.Get("Message-Id") == "" || !strings.HasSuffix(h.Get("Message-Id"), "@example.com>") {
				t.Errorf("Message-ID %q", h.Get("Message-Id"))
			}
		})
	}
}

func TestFold(t *testing.T) {
	long := mime.QEncoding.Encode("utf-8", strings.Repeat("Vérification très longue ", 10))
	for _, line := range strings.Split(fold("Subject: "+long), "\r\n") {
		if len(line) > 78 {
			t.Errorf("folded line of %d characters: %q", len(line), line)
		}
	}
}

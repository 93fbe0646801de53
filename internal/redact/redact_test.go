package redact

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for raw, want := range map[string]string{
		"smtp://user:hunter2@relay.example.com:587":  "smtp://user:REDACTED@relay.example.com:587",
		"smtp://user@relay.example.com":              "smtp://user@relay.example.com",
		"smtp://relay.example.com":                   "smtp://relay.example.com",
		"http://user:hunter2@127.0.0.1:bad":          "http://user:REDACTED@127.0.0.1:bad",         // does not parse
		"smtp://user:hunter2%zz@relay.example.com":   "smtp://user:REDACTED@relay.example.com",     // bad escape
		"smtp://user:hunter2@[::1":                   "smtp://user:REDACTED@[::1",                  // bad literal
		"smtp://user:hun@ter2@relay example.com/x?q": "smtp://user:REDACTED@relay example.com/x?q", // an unescaped @ in the password
		"http://u:p%40ss@h/":                         "http://u:REDACTED@h/",
		"not a url":                                  "not a url",
		"":                                           "",
	} {
		if got := String(raw); got != want {
			t.Errorf("String(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestURL(t *testing.T) {
	u, _ := url.Parse("https://alice:s3cret@ses.example.com/path")
	if got := URL(u); got != "https://alice:REDACTED@ses.example.com/path" {
		t.Errorf("URL = %q", got)
	}
	if URL(nil) != "" {
		t.Error("URL(nil) not empty")
	}
}

func TestParseError(t *testing.T) {
	_, err := url.Parse("smtp://user:hunter2@relay:bad")
	if err == nil || !strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("url.Parse error %v: the test expects it to quote the URL", err)
	}
	if got := ParseError(err); strings.Contains(got.Error(), "hunter2") {
		t.Errorf("ParseError = %v, still quotes the password", got)
	}
}

func TestError(t *testing.T) {
	raw := "http://alice:s3cret@127.0.0.1:bad"
	cause := fmt.Errorf("operation error SES: Get, failed to parse uri: %s: %w", raw, fs.ErrInvalid)
	err := Error(cause, raw)
	if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "alice:REDACTED@127.0.0.1") {
		t.Errorf("Error = %q, want the password masked", err)
	}
	if !errors.Is(err, fs.ErrInvalid) {
		t.Error("the masked error hides its cause from errors.Is")
	}
	// The decoded password, as a client may quote it.
	raw = "http://alice:p%40ss@h"
	if err := Error(errors.New("Post http://alice:p@ss@h/: refused"), raw); strings.Contains(err.Error(), "p@ss") {
		t.Errorf("Error = %q, the decoded password is quoted", err)
	}
	if err := Error(cause, "http://h/"); err != cause {
		t.Errorf("a URL without a password changed the error: %v", err)
	}
	if Error(nil, raw) != nil {
		t.Error("Error(nil) is not nil")
	}
}

// FuzzString: whatever follows the password (a host that parses or not),
// the password is not in what String returns.
func FuzzString(f *testing.F) {
	for _, s := range []string{"h", "h:bad", "@", "[::1", "d@e", "h%zz", "relay example.com:25"} {
		f.Add("hunter", s)
	}
	f.Fuzz(func(t *testing.T, pass, host string) {
		// A password the test can look for: letters g-z, which no escape
		// (%3A) makes, and not found in the rest of the text anyway.
		if len(pass) < 4 || strings.Trim(pass, "ghijklmnopqrstuvwxyz") != "" || strings.Contains("smtp://user:@"+host, pass) || strings.ContainsAny(host, "/?#") {
			return
		}
		raw := "smtp://user:" + pass + "@" + host
		if got := String(raw); strings.Contains(got, pass) {
			t.Errorf("String(%q) = %q: the password is in it", raw, got)
		}
	})
}

// Package redact keeps the passwords of URLs (user:password@host) out of
// errors and logs. Every URL an operator gives with credentials (the SMTP
// relay, an SES endpoint of the doctor or plan, the public URL) is printed
// through it, whether it parses or not.
package redact

import (
	"errors"
	"net/url"
	"strings"
)

// Mask stands for a password.
const Mask = "REDACTED"

// URL is u for errors and logs, its password replaced by Mask.
func URL(u *url.URL) string {
	if u == nil {
		return ""
	}
	if _, ok := u.User.Password(); ok {
		c := *u
		c.User = url.UserPassword(u.User.Username(), Mask)
		return c.String()
	}
	return u.String()
}

// String is the URL raw for errors and logs, its password replaced by Mask,
// also when raw does not parse (a bad port, a bad escape): then the
// password is cut from the text as typed, which is what would leak.
func String(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		if _, ok := u.User.Password(); ok {
			return URL(u)
		}
		return raw
	}
	if info, ok := userinfo(raw); ok {
		if user, _, hasPass := strings.Cut(info, ":"); hasPass {
			return strings.Replace(raw, info+"@", user+":"+Mask+"@", 1)
		}
	}
	return raw
}

// userinfo is the text between "scheme://" and the last "@" of the
// authority, as typed.
func userinfo(raw string) (string, bool) {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "", false
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return "", false
	}
	return rest[:at], true
}

// ParseError is the cause of an error of url.Parse without the URL, which
// url.Error quotes whole, password included.
func ParseError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Error is err with the password of each raw URL masked wherever its text
// quotes it (an SDK's error that quotes the endpoint, say); errors.Is and
// errors.As see err.
func Error(err error, raws ...string) error {
	if err == nil {
		return nil
	}
	var old []string
	for _, raw := range raws {
		info, ok := userinfo(raw)
		if !ok {
			continue
		}
		user, pass, hasPass := strings.Cut(info, ":")
		if !hasPass || pass == "" {
			continue
		}
		old = append(old, info+"@", user+":"+Mask+"@")
		if dec, err := url.PathUnescape(info); err == nil && dec != info {
			old = append(old, dec+"@", user+":"+Mask+"@")
		}
	}
	if len(old) == 0 {
		return err
	}
	msg := strings.NewReplacer(old...).Replace(err.Error())
	if msg == err.Error() {
		return err
	}
	return &masked{msg: msg, err: err}
}

type masked struct {
	msg string
	err error
}

func (m *masked) Error() string { return m.msg }
func (m *masked) Unwrap() error { return m.err }

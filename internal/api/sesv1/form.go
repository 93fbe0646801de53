package sesv1

import (
	"net/url"
	"os"
	"strings"
)

// parseForm is url.ParseQuery for a request's form body, faster on long
// values: SendRawEmail's RawMessage.Data is the whole message in base64,
// whose '+' and '/' the SDKs send percent-encoded, and the standard
// library unescapes such a value a byte at a time (46 µs for a 10 KB
// message of text, 6 µs here: BenchmarkParseForm). This copies the runs
// between escapes whole. A body it does not parse as url.ParseQuery would
// (a bad escape, a semicolon, many pairs, near the standard library's
// limit) goes to url.ParseQuery, whose values and error are then the
// answer, so the two never differ (FuzzParseForm); so does a process
// whose GODEBUG sets urlmaxqueryparams, a limit this does not know.
func parseForm(body string) (url.Values, error) {
	if strings.Contains(body, ";") || strings.Count(body, "&") >= maxFormPairs ||
		strings.Contains(os.Getenv("GODEBUG"), "urlmaxqueryparams") {
		return url.ParseQuery(body)
	}
	m := url.Values{}
	for s := body; s != ""; {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, ok1 := unescapeForm(k)
		v, ok2 := unescapeForm(v)
		if !ok1 || !ok2 {
			return url.ParseQuery(body)
		}
		m[k] = append(m[k], v)
	}
	return m, nil
}

// maxFormPairs is below url.ParseQuery's default limit on the pairs of a
// query (10,000), past which it fails the whole of it.
const maxFormPairs = 1000

// unescapeForm is url.QueryUnescape for a valid s ('+' a space, %XX a
// byte); ok is false for an invalid escape.
func unescapeForm(s string) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	for s != "" {
		i := strings.IndexByte(s, '%')
		run := s
		if i >= 0 {
			run = s[:i]
		}
		for {
			j := strings.IndexByte(run, '+')
			if j < 0 {
				break
			}
			b.WriteString(run[:j])
			b.WriteByte(' ')
			run = run[j+1:]
		}
		b.WriteString(run)
		if i < 0 {
			break
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", false
		}
		b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
		s = s[i+3:]
	}
	return b.String(), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

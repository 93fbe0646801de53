package sesv1

import (
	"encoding/base64"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseForm: parseForm answers as url.ParseQuery does, values and
// error, whatever the body.
func FuzzParseForm(f *testing.F) {
	raw := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a message\xfb\xff>?\r\n", 40)))
	for _, s := range []string{
		"", "&", "=", "a", "a=", "=b", "a=b&a=c", "a=1&&b=2", "a+b=c+d", "%41%42=%43", "a=%4", "a=%zz&b=1", "a=%",
		"a=1;b=2", "x=%2B%2F%3D", "Action=SendRawEmail&RawMessage.Data=" + url.QueryEscape(raw), "a=%e2%82%ac+%E2%82%AC",
		strings.Repeat("a=1&", 1200), "a=+++&b=%2b+%2B",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseForm(s)
		want, wantErr := url.ParseQuery(s)
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("parseForm(%q): error %v, url.ParseQuery's %v", s, err, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("parseForm(%q) = %q, url.ParseQuery's %q", s, got, want)
		}
	})
}

// TestParseFormGODEBUG: an operator's urlmaxqueryparams holds for
// parseForm as for url.ParseQuery, below parseForm's own limit of pairs.
func TestParseFormGODEBUG(t *testing.T) {
	t.Setenv("GODEBUG", "urlmaxqueryparams=10")
	body := strings.Repeat("a=1&", 50)
	if _, err := url.ParseQuery(body); err == nil {
		t.Fatal("url.ParseQuery took 50 pairs under urlmaxqueryparams=10: the setting is not read")
	}
	if got, err := parseForm(body); err == nil {
		t.Errorf("parseForm took 50 pairs under urlmaxqueryparams=10: %d values", len(got["a"]))
	}
}

// BenchmarkParseForm: a SendRawEmail body of a 10 KB message of text,
// whose base64 has the '+' and '/' that the body percent-encodes.
func BenchmarkParseForm(b *testing.B) {
	msg := strings.Repeat("The quick brown fox jumps over the lazy dog? Yes: 42 > 7, ~all~ {of} it.\r\n", 140)
	body := url.Values{"Action": {"SendRawEmail"}, "Version": {"2010-12-01"},
		"RawMessage.Data": {base64.StdEncoding.EncodeToString([]byte(msg))}}.Encode()
	for _, c := range []struct {
		name  string
		parse func(string) (url.Values, error)
	}{{"parseForm", parseForm}, {"url.ParseQuery", url.ParseQuery}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.parse(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

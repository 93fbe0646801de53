package names

import (
	"errors"
	"strings"
	"testing"
)

// seeds are shared by all fuzz targets; testdata/fuzz holds more, including
// any regressions the fuzzer has found.
var seeds = []string{
	"",
	".",
	"example.com",
	"EXAMPLE.com.",
	"bücher.example",
	"xn--bcher-kva.example",
	"例え。テスト",
	"ＥＸＡＭＰＬＥ．ｃｏｍ",
	"a..b",
	"*.example.com",
	"192.0.2.1",
	"[2001:db8::1]",
	"under_score.example",
	"-a.example",
	"xn--.com",
	"exa\u00admple.com",
	"a.\u05d0\u05d1.com",
	"user@example.com",
	"User+label@Example.COM.",
	`"a@b"@example.com`,
	`"a\"b"@example.com`,
	"Joe <joe@example.com>",
	"a@b@c.com",
	"user@[192.0.2.1]",
	"üser@bücher.example",
	".a@x.com",
	"a b@x.com",
}

// checkError checks that err wraps exactly one sentinel.
func checkError(t *testing.T, in string, err error) {
	t.Helper()
	n := 0
	for _, s := range []error{ErrEmpty, ErrInvalid, ErrTooLong} {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%q: error %q wraps %d sentinels, want 1", in, err, n)
	}
}

// checkCanonicalDomain checks the properties every canonical domain has.
func checkCanonicalDomain(t *testing.T, in, d string) {
	t.Helper()
	if d == "" || len(d) > MaxDomainLen {
		t.Fatalf("%q: canonical domain %q has length %d", in, d, len(d))
	}
	if !IsASCII(d) || strings.ToLower(d) != d {
		t.Fatalf("%q: canonical domain %q is not lower-case ASCII", in, d)
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		t.Fatalf("%q: canonical domain %q has one label", in, d)
	}
	for _, l := range labels {
		if l == "" || len(l) > MaxLabelLen || l[0] == '-' || l[len(l)-1] == '-' {
			t.Fatalf("%q: canonical domain %q has bad label %q", in, d, l)
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !isLetterDigit(c) && c != '-' {
				t.Fatalf("%q: canonical domain %q has character %q", in, d, c)
			}
		}
	}
	if allDigits(labels[len(labels)-1]) {
		t.Fatalf("%q: canonical domain %q has a numeric top-level label", in, d)
	}
}

// checkCanonicalEmail checks the properties every canonical address has.
func checkCanonicalEmail(t *testing.T, in, e string) {
	t.Helper()
	if len(e) > MaxEmailLen || !IsASCII(e) {
		t.Fatalf("%q: canonical address %q is too long or not ASCII", in, e)
	}
	local, dom := LocalOf(e), DomainOf(e)
	if local == "" || len(local) > MaxLocalLen {
		t.Fatalf("%q: canonical address %q has bad local part %q", in, e, local)
	}
	if local+"@"+dom != e {
		t.Fatalf("%q: canonical address %q does not split at its last '@'", in, e)
	}
	checkCanonicalDomain(t, in, dom)
	if d, err := Domain(dom); err != nil || d != dom {
		t.Fatalf("%q: domain of %q is not canonical: %q, %v", in, e, d, err)
	}
}

func FuzzDomain(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Domain(s)
		if err != nil {
			checkError(t, s, err)
			if d != "" {
				t.Fatalf("%q: error %v with non-empty result %q", s, err, d)
			}
			return
		}
		checkCanonicalDomain(t, s, d)
		if again, err := Domain(d); err != nil || again != d {
			t.Fatalf("%q: Domain(%q) = %q, %v; not idempotent", s, d, again, err)
		}
		if !strings.Contains(s, "@") {
			if k, id, err := Identity(s); k != KindDomain || id != d || err != nil {
				t.Fatalf("%q: Identity = %v, %q, %v; want Domain %q", s, k, id, err, d)
			}
		}
	})
}

func FuzzEmail(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Email(s)
		if err != nil {
			checkError(t, s, err)
			if e != "" {
				t.Fatalf("%q: error %v with non-empty result %q", s, err, e)
			}
			return
		}
		checkCanonicalEmail(t, s, e)
		if again, err := Email(e); err != nil || again != e {
			t.Fatalf("%q: Email(%q) = %q, %v; not idempotent", s, e, again, err)
		}
		// The local part is kept exactly as given.
		if !strings.HasPrefix(s, LocalOf(e)+"@") {
			t.Fatalf("%q: local part of %q was changed", s, e)
		}
	})
}

func FuzzIdentity(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, id, err := Identity(s)
		wantKind := KindDomain
		if strings.Contains(s, "@") {
			wantKind = KindEmail
		}
		if k != wantKind {
			t.Fatalf("%q: kind %v, want %v", s, k, wantKind)
		}
		if err != nil {
			checkError(t, s, err)
			if id != "" {
				t.Fatalf("%q: error %v with non-empty result %q", s, err, id)
			}
			return
		}
		switch k {
		case KindDomain:
			checkCanonicalDomain(t, s, id)
		case KindEmail:
			checkCanonicalEmail(t, s, id)
		}
		if k2, again, err := Identity(id); k2 != k || again != id || err != nil {
			t.Fatalf("%q: Identity(%q) = %v, %q, %v; not idempotent", s, id, k2, again, err)
		}
	})
}

package console

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/records"
	"github.com/sesame/sesame/internal/store"
)

func TestSessionCodec(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	ss := &sessions{key: bytes.Repeat([]byte{1}, 32), ttl: time.Hour, now: clock}
	s := ss.fresh("123456789012", "AKIAEXAMPLE", "eu-west-1")
	v := ss.encode(s)

	got, err := ss.decode(v)
	if err != nil || *got != *s {
		t.Fatalf("decode(encode(s)) = %+v, %v; want %+v", got, err, s)
	}
	other := &sessions{key: bytes.Repeat([]byte{2}, 32), ttl: time.Hour, now: clock}
	late := &sessions{key: ss.key, ttl: time.Hour, now: func() time.Time { return now.Add(time.Hour) }}
	for _, tc := range []struct {
		name  string
		ss    *sessions
		value string
	}{
		{name: "another key", ss: other, value: v},
		{name: "expired", ss: late, value: v},
		{name: "payload changed", ss: ss, value: "x" + v},
		{name: "MAC cut", ss: ss, value: v[:len(v)-1]},
		{name: "no MAC", ss: ss, value: strings.Split(v, ".")[0]},
		{name: "empty", ss: ss, value: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := tc.ss.decode(tc.value); err == nil {
				t.Errorf("accepted: %+v", s)
			}
		})
	}
	if a, b := ss.fresh("", "", ""), ss.fresh("", "", ""); a.CSRF == b.CSRF || len(a.CSRF) < 40 {
		t.Errorf("CSRF tokens %q and %q: want fresh 256-bit tokens", a.CSRF, b.CSRF)
	}
}

func TestLoadKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", KeyFile)
	k1, err := LoadKey(path)
	if err != nil || len(k1) != 32 {
		t.Fatalf("LoadKey: %d bytes, %v", len(k1), err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	k2, err := LoadKey(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Errorf("second LoadKey gave another key (%v)", err)
	}
	os.WriteFile(path, []byte("not hex\n"), 0o600)
	if _, err := LoadKey(path); err == nil || !strings.Contains(err.Error(), "delete the file") {
		t.Errorf("bad key file: %v", err)
	}
}

func TestOtherValues(t *testing.T) {
	rec := records.Record{Name: "_amazonses.example.com", Type: "TXT", Token: "OwnToken+/="}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	timeline := []store.CheckRecord{
		{At: at, Check: "dkim", Answer: []string{`x._domainkey.example.com. 60 IN CNAME y.`}},
		{At: at, Check: "verification", Answer: []string{
			";; status: NOERROR, flags: qr aa", ";; ANSWER SECTION:",
			`_amazonses.example.com.	60	IN	TXT	"OwnToken+/="`,
			`_amazonses.example.com.	60	IN	TXT	"amazonses:OwnToken+/="`,
			`_amazonses.example.com.	60	IN	TXT	"owntoken+/="`,
			`_amazonses.example.com.	60	IN	TXT	"Other" "Split="`,
		}},
		{At: at, Check: "verification", Answer: []string{`example.com.	60	IN	TXT	"v=spf1 -all"`, `_amazonses.example.com. 60 IN TXT "Other" "Split="`}},
		{At: at.Add(-time.Hour), Check: "verification", Answer: []string{`_amazonses.example.com. 60 IN TXT "Gone="`}},
	}
	e := records.ExpectOf("example.com", records.Instance{Token: rec.Token}, config.SES())
	got := otherValues(timeline, rec, e)
	if want := []string{"OtherSplit="}; !slices.Equal(got, want) {
		t.Errorf("otherValues = %q, want %q: own values, other names and older checks left out", got, want)
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{24 * time.Hour: "24 hours", time.Hour: "1 hour", 90 * time.Minute: "90 minutes", 1500 * time.Millisecond: "1.5s"} {
		if got := duration(d); got != want {
			t.Errorf("duration(%v) = %q, want %q", d, got, want)
		}
	}
}

package sqlite

import (
	"encoding/json"
	"testing"
	"time"

	jsonv1 "github.com/go-json-experiment/json/v1"
	"github.com/google/go-cmp/cmp"
)

// sameRow checks that appendJSON writes what json.Marshal (encoding/json,
// which wrote the rows before) writes, as far as the decoder can tell:
// both decode to the same row, or both fail.
func sameRow(t *testing.T, row *checkRow) {
	t.Helper()
	want, wantErr := json.Marshal(row)
	got, gotErr := row.appendJSON(nil)
	if (wantErr != nil) != (gotErr != nil) {
		t.Fatalf("appendJSON error %v, json.Marshal error %v", gotErr, wantErr)
	}
	if wantErr != nil {
		return
	}
	if !json.Valid(got) {
		t.Fatalf("appendJSON wrote invalid JSON: %s", got)
	}
	var a, b checkRow
	if err := jsonv1.Unmarshal(got, &a); err != nil {
		t.Fatalf("decoding %s: %v", got, err)
	}
	if err := jsonv1.Unmarshal(want, &b); err != nil {
		t.Fatalf("decoding %s: %v", want, err)
	}
	if d := cmp.Diff(b, a); d != "" {
		t.Errorf("rows differ (-json.Marshal +appendJSON):\n%s\nappendJSON: %s\njson.Marshal: %s", d, got, want)
	}
}

func TestCheckRowJSON(t *testing.T) {
	other := t0.Add(1500 * time.Millisecond).In(time.FixedZone("", -7*3600))
	full := rowRecord{At: &other, Check: "dkim", Server: "ns1.example.com. 192.0.2.1",
		Query:    "dig @192.0.2.1 -p 53 +norecurse x._domainkey.example.com. CNAME",
		Answer:   []string{";; status: NOERROR, flags: qr aa", ";; ANSWER SECTION:", "x\t3600\tIN\tCNAME\ty."},
		Expected: "x CNAME y.", Outcome: "match", TTL: time.Hour, Detail: "found"}
	for name, row := range map[string]*checkRow{
		"full":          {Records: []rowRecord{full, {Check: "spf"}}, At: t0},
		"nil records":   {At: t0},
		"no records":    {Records: []rowRecord{}, At: t0},
		"empty answer":  {Records: []rowRecord{{Check: "verification", Answer: []string{}}}, At: t0},
		"escapes":       {Records: []rowRecord{{Check: "a<b>&c\"\\\n\t\x01", Answer: []string{"\u2028\u2029 é 😀", "\xff\xfe bad UTF-8"}, Detail: "<script>"}}, At: t0},
		"negative TTL":  {Records: []rowRecord{{Check: "mx", TTL: -5}}, At: time.Time{}},
		"year 10000":    {Records: []rowRecord{{Check: "mx"}}, At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"record at bad": {Records: []rowRecord{{Check: "mx", At: &time.Time{}}}, At: t0.AddDate(-3000, 0, 0)},
		"zone hour 24":  {Records: []rowRecord{{Check: "mx"}}, At: t0.In(time.FixedZone("", 24*3600))},
	} {
		t.Run(name, func(t *testing.T) { sameRow(t, row) })
	}
}

func FuzzCheckRowJSON(f *testing.F) {
	f.Add("dkim", "ns. 192.0.2.1", "dig x", ";; status: NOERROR", "x CNAME y.", "match", int64(3600e9), "detail", int64(0), true)
	f.Add("<&>", "\xff", "\u2028", "", "", "", int64(-1), "\x00", int64(1e18), false)
	f.Fuzz(func(t *testing.T, check, server, query, answer, expected, outcome string, ttl int64, detail string, at int64, withAnswer bool) {
		when := time.Unix(0, at).UTC()
		rec := rowRecord{Check: check, Server: server, Query: query, Expected: expected, Outcome: outcome, TTL: time.Duration(ttl), Detail: detail}
		if withAnswer {
			rec.Answer = []string{answer, answer + "2"}
			rec.At = &when
		}
		sameRow(t, &checkRow{Records: []rowRecord{rec, {Check: check}}, At: t0})
	})
}

// BenchmarkCheckRowJSON compares appendJSON with the reflective encoder on
// the row one check of a domain with DKIM and MAIL FROM writes.
func BenchmarkCheckRowJSON(b *testing.B) {
	recs := make([]rowRecord, 6)
	for i := range recs {
		name := "abcdefghijklmnopqrstuvwxyz012345._domainkey.d1.example."
		recs[i] = rowRecord{Check: "dkim", Server: "ns1.example.com. 192.0.2.1",
			Query:    "dig @192.0.2.1 -p 53 +norecurse " + name + " CNAME",
			Answer:   []string{";; status: NOERROR, flags: qr aa", ";; ANSWER SECTION:", name + "\t3600\tIN\tCNAME\tabcdefghijklmnopqrstuvwxyz012345.dkim.amazonses.com."},
			Expected: name + " CNAME abcdefghijklmnopqrstuvwxyz012345.dkim.amazonses.com.", Outcome: "match", TTL: time.Hour}
	}
	row := &checkRow{Records: recs, At: t0}
	b.Run("appendJSON", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = row.appendJSON(buf[:0])
		}
	})
	b.Run("encoder", func(b *testing.B) {
		var e encoder
		for b.Loop() {
			e.encode(row)
		}
	})
}

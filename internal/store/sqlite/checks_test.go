package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/store"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// openTest opens a store in a directory of tb's own, closed when tb ends.
func openTest(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(context.Background(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func testIdentity(name string) *identity.Identity {
	id := &identity.Identity{
		Key:  identity.Key{Account: "111111111111", Region: "us-east-1", Name: name},
		Kind: names.KindDomain, Created: t0, Token: identity.NewVerificationToken(), Next: t0,
		DKIM: identity.DKIM{Enabled: true, Tokens: identity.NewDKIMTokens()},
	}
	id.Verification.Start(t0)
	id.DKIM.Check.Start(t0)
	return id
}

// TestLeaseIsNextCheck: a claim sets next_check and leaves the row's data
// as it was, and every read of the identity takes its Next from
// next_check: the lease until it is saved, then what the check saved.
func TestLeaseIsNextCheck(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a, b, idle := testIdentity("a.example"), testIdentity("b.example"), testIdentity("idle.example")
	idle.Next = time.Time{} // nothing to check: next_check is NULL
	if err := s.Import(ctx, []*identity.Identity{a, b, idle}); err != nil {
		t.Fatal(err)
	}
	data := func(k identity.Key) string {
		var d string
		if err := s.db.QueryRowContext(ctx, `SELECT data FROM identities WHERE name = ?`, k.Name).Scan(&d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	before := data(a.Key)
	until := t0.Add(time.Minute)
	if got, err := s.ClaimDue(ctx, t0, until, 10); err != nil || len(got) != 2 {
		t.Fatalf("ClaimDue = %v, %v; want a and b", got, err)
	}
	if data(a.Key) != before {
		t.Errorf("the claim rewrote the row's data:\n%s\nwas\n%s", data(a.Key), before)
	}
	reads := func(want time.Time) {
		t.Helper()
		var got []*identity.Identity
		one, err := s.GetIdentity(ctx, a.Key)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, one)
		m, err := s.GetIdentities(ctx, a.Account, a.Region, []string{a.Name, idle.Name})
		if err != nil || len(m) != 2 {
			t.Fatalf("GetIdentities = %v, %v", m, err)
		}
		got = append(got, m[a.Name])
		if !m[idle.Name].Next.IsZero() {
			t.Errorf("GetIdentities: idle identity's Next = %v, want zero", m[idle.Name].Next)
		}
		l, err := s.ListIdentities(ctx, store.ListQuery{Account: a.Account, Region: a.Region, Limit: 1})
		if err != nil || len(l) != 1 {
			t.Fatalf("ListIdentities = %v, %v", l, err)
		}
		got = append(got, l[0])
		due, err := s.DueIdentities(ctx, want, 10)
		i := slices.IndexFunc(due, func(id *identity.Identity) bool { return id.Name == a.Name })
		if err != nil || i < 0 {
			t.Fatalf("DueIdentities(%v) = %v, %v; want a among them", want, due, err)
		}
		got = append(got, due[i])
		if _, err := s.UpdateIdentity(ctx, a.Key, func(cur *identity.Identity) (*identity.Identity, error) {
			got = append(got, cur.Clone())
			return nil, nil
		}); err != nil {
			t.Fatal(err)
		}
		for i, id := range got {
			if !id.Next.Equal(want) {
				t.Errorf("read %d: Next = %v, want %v", i, id.Next, want)
			}
		}
	}
	reads(until)

	// The check saves: its Next, in data and next_check alike.
	next := t0.Add(time.Hour)
	var seen time.Time
	if err := s.SaveChecks(ctx, []store.CheckUpdate{{Key: a.Key, Apply: func(cur *identity.Identity) *identity.Identity {
		seen = cur.Next
		cur.Next = next
		return cur
	}}}); err != nil {
		t.Fatal(err)
	}
	if !seen.Equal(until) {
		t.Errorf("SaveChecks gave Apply Next = %v, want the lease %v", seen, until)
	}
	reads(next)
	var stored identity.Identity
	if err := json.Unmarshal([]byte(data(a.Key)), &stored); err != nil || !stored.Next.Equal(next) {
		t.Errorf("data after the save has Next %v (%v), want %v", stored.Next, err, next)
	}
}

// TestChecksRetention checks the trimming of the timeline in the steady
// state, with checks of varying sizes, and that rows from before migration
// 4 (one record each, a JSON object) are read with the new ones.
func TestChecksRetention(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	id := testIdentity("example.com")
	if err := s.Import(ctx, []*identity.Identity{id}); err != nil {
		t.Fatal(err)
	}
	k := id.Key
	seq := 0
	rec := func() store.CheckRecord {
		seq++
		return store.CheckRecord{At: t0.Add(time.Duration(seq) * time.Second), Check: "dkim", Server: "ns1.example.com. 192.0.2.1",
			Outcome: "match", TTL: time.Hour, Detail: fmt.Sprint(seq)}
	}
	// Rows as migration 4 leaves those written before it.
	err := s.write(ctx, func(tx *sql.Tx) error {
		for i := 1; i <= 3; i++ {
			data, _ := json.Marshal(rec())
			if _, err := tx.ExecContext(ctx, `INSERT INTO checks (account, region, name, at, total, data) VALUES (?, ?, ?, 0, ?, ?)`,
				k.Account, k.Region, k.Name, i, data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	keep := func(cur *identity.Identity) *identity.Identity { return cur }
	for i := range 60 {
		var recs []store.CheckRecord
		for range 1 + i%13 {
			recs = append(recs, rec())
		}
		if err := s.SaveChecks(ctx, []store.CheckUpdate{{Key: k, Apply: keep, Checks: recs}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.ListChecks(ctx, k, -1)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for j := seq; j > 0 && len(want) < store.MaxChecks; j-- {
			want = append(want, fmt.Sprint(j))
		}
		var details []string
		for _, c := range got {
			details = append(details, c.Detail)
		}
		if d := cmp.Diff(want, details); d != "" {
			t.Fatalf("after check %d: timeline (-want +got):\n%s", i, d)
		}
		// No more is kept than the rows that hold the last MaxChecks.
		var stored, rows int
		s.db.QueryRow(`SELECT count(*) FROM checks`).Scan(&rows)
		s.db.QueryRow(`SELECT max(total) - min(total) + 1 FROM checks`).Scan(&stored)
		if rows > 1 && stored > store.MaxChecks+12 {
			t.Fatalf("after check %d: %d records in %d rows kept", i, stored, rows)
		}
	}
	if got, _ := s.ListChecks(ctx, k, 5); len(got) != 5 || got[0].Detail != fmt.Sprint(seq) {
		t.Errorf("limit 5: %d records, newest %v", len(got), got)
	}
}

// TestClaimDueKeepsIdentity: a claimed identity is stored as it was but
// for its lease.
func TestClaimDueKeepsIdentity(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	id := testIdentity("example.com")
	id.Tags = []identity.Tag{{Key: "k", Value: "v"}}
	if err := s.Import(ctx, []*identity.Identity{id}); err != nil {
		t.Fatal(err)
	}
	until := t0.Add(time.Minute)
	got, err := s.ClaimDue(ctx, t0, until, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("ClaimDue = %v, %v", got, err)
	}
	id.Next = until
	stored, err := s.GetIdentity(ctx, id.Key)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []*identity.Identity{got[0], stored} {
		if d := cmp.Diff(id, x); d != "" {
			t.Errorf("claimed identity (-want +got):\n%s", d)
		}
	}
}

// TestMigrateChecks opens a database of schema version 3, with identities
// and their timelines of one record a row, in this version.
func TestMigrateChecks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	all := migrations
	migrations = all[:3]
	s, err := Open(ctx, dir)
	migrations = all
	if err != nil {
		t.Fatal(err)
	}
	a, b := testIdentity("a.example"), testIdentity("b.example")
	var want []store.CheckRecord
	err = s.write(ctx, func(tx *sql.Tx) error {
		for _, id := range []*identity.Identity{a, b} {
			if err := putIdentity(ctx, tx, id); err != nil {
				return err
			}
		}
		for i := range 5 {
			for _, id := range []*identity.Identity{a, b} {
				c := store.CheckRecord{At: t0, Check: "verification", Server: "ns1.example.com. 192.0.2.1", Outcome: "NoData", Detail: id.Name + fmt.Sprint(i)}
				if id == a {
					want = append([]store.CheckRecord{c}, want...)
				}
				data, _ := json.Marshal(c)
				if _, err := tx.ExecContext(ctx, `INSERT INTO checks (account, region, name, at, data) VALUES (?, ?, ?, ?, ?)`,
					id.Account, id.Region, id.Name, c.At.UnixNano(), data); err != nil {
					return err
				}
			}
		}
		return nil
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.GetIdentity(ctx, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(a, got); d != "" {
		t.Errorf("identity after migration (-want +got):\n%s", d)
	}
	recs, err := s.ListChecks(ctx, a.Key, 10)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, recs); d != "" {
		t.Errorf("timeline after migration (-want +got):\n%s", d)
	}
	// New checks go on from the old ones; deleting the identity deletes
	// them all.
	err = s.SaveChecks(ctx, []store.CheckUpdate{{Key: a.Key, Apply: func(cur *identity.Identity) *identity.Identity { return cur },
		Checks: []store.CheckRecord{{At: t0, Check: "dkim", Detail: "new"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var total int
	s.db.QueryRow(`SELECT max(total) FROM checks WHERE name = 'a.example'`).Scan(&total)
	if total != 6 {
		t.Errorf("total %d after 5 records and 1, want 6", total)
	}
	if recs, _ := s.ListChecks(ctx, a.Key, 10); len(recs) != 6 || recs[0].Detail != "new" {
		t.Errorf("timeline %v", recs)
	}
	if _, err := s.DeleteIdentity(ctx, a.Key); err != nil {
		t.Fatal(err)
	}
	var n int
	s.db.QueryRow(`SELECT count(*) FROM checks WHERE name = 'a.example'`).Scan(&n)
	if n != 0 {
		t.Errorf("%d rows of checks outlived their identity", n)
	}
	if recs, _ := s.ListChecks(ctx, b.Key, 10); len(recs) != 5 {
		t.Errorf("other identity: %d records", len(recs))
	}
}

// TestSaveChecksAfterClaim: SaveChecks gives Apply the identity as stored,
// whether it changed since ClaimDue or not, and never the one ClaimDue
// returned.
func TestSaveChecksAfterClaim(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a, b := testIdentity("a.example"), testIdentity("b.example")
	if err := s.Import(ctx, []*identity.Identity{a, b}); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.ClaimDue(ctx, t0, t0.Add(time.Minute), 10)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("ClaimDue = %v, %v", claimed, err)
	}
	for _, id := range claimed {
		id.Token = "changed by the caller"
	}
	// b changes in the store meanwhile.
	if _, err := s.UpdateIdentity(ctx, b.Key, func(cur *identity.Identity) (*identity.Identity, error) {
		cur.Token = "new token"
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]*identity.Identity{}
	apply := func(cur *identity.Identity) *identity.Identity {
		seen[cur.Name] = cur.Clone()
		return cur
	}
	if err := s.SaveChecks(ctx, []store.CheckUpdate{{Key: a.Key, Apply: apply}, {Key: b.Key, Apply: apply}}); err != nil {
		t.Fatal(err)
	}
	wantA := a.Clone()
	wantA.Next = t0.Add(time.Minute)
	if d := cmp.Diff(wantA, seen["a.example"]); d != "" {
		t.Errorf("a as Apply saw it (-want +got):\n%s", d)
	}
	if got := seen["b.example"].Token; got != "new token" {
		t.Errorf("b as Apply saw it: token %q, want the one stored since the claim", got)
	}
}

// TestSaveChecksKind: SaveChecks' UPDATE leaves the kind column alone, so
// an Apply that changes Kind goes through the upsert, and a second update
// of that identity in the batch still finds its row.
func TestSaveChecksKind(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := testIdentity("a.example")
	if err := s.Import(ctx, []*identity.Identity{a, testIdentity("b.example")}); err != nil {
		t.Fatal(err)
	}
	rec := []store.CheckRecord{{At: t0, Check: "verification", Outcome: "NoData"}}
	toEmail := func(cur *identity.Identity) *identity.Identity { cur.Kind = names.KindEmail; return cur }
	keep := func(cur *identity.Identity) *identity.Identity { cur.Token = "second"; return cur }
	if err := s.SaveChecks(ctx, []store.CheckUpdate{{Key: a.Key, Apply: toEmail, Checks: rec}, {Key: a.Key, Apply: keep, Checks: rec}}); err != nil {
		t.Fatal(err)
	}
	for kind, want := range map[names.Kind]string{names.KindEmail: "a.example", names.KindDomain: "b.example"} {
		l, err := s.ListIdentities(ctx, store.ListQuery{Account: a.Account, Region: a.Region, Kind: kind, Limit: 10})
		if err != nil || len(l) != 1 || l[0].Name != want {
			t.Errorf("ListIdentities(kind %d) = %v, %v; want %s alone", kind, l, err, want)
		}
	}
	got, err := s.GetIdentity(ctx, a.Key)
	if err != nil || got.Kind != names.KindEmail || got.Token != "second" {
		t.Fatalf("GetIdentity = %+v, %v; want kind email and the second update", got, err)
	}
	if recs, err := s.ListChecks(ctx, a.Key, 10); err != nil || len(recs) != 2 {
		t.Errorf("ListChecks = %d records, %v; want 2", len(recs), err)
	}
}

// BenchmarkClaimSave is the store's part of checking one identity: claimed
// in a batch of 256, then its results and six records of evidence saved in
// a batch, among 20,000 identities.
func BenchmarkClaimSave(b *testing.B) {
	ctx := context.Background()
	s := openTest(b)
	const n = 20000
	ids := make([]*identity.Identity, n)
	for i := range ids {
		ids[i] = testIdentity(fmt.Sprintf("d%d.example", i))
		ids[i].MailFrom.Domain = "mail." + ids[i].Name
		ids[i].MailFrom.Check.Start(t0)
	}
	if err := s.Import(ctx, ids); err != nil {
		b.Fatal(err)
	}
	recs := make([]store.CheckRecord, 6)
	for i := range recs {
		name := fmt.Sprintf("abcdefghijklmnopqrstuvwxyz%06d._domainkey.d1.example.", i)
		recs[i] = store.CheckRecord{At: t0, Check: "dkim", Server: "ns1.example.com. 192.0.2.1",
			Query:    "dig @192.0.2.1 -p 53 +norecurse " + name + " CNAME",
			Answer:   []string{";; status: NOERROR, flags: qr aa", ";; ANSWER SECTION:", name + "\t3600\tIN\tCNAME\tabcdefghijklmnopqrstuvwxyz.dkim.amazonses.com."},
			Expected: name + " CNAME abcdefghijklmnopqrstuvwxyz.dkim.amazonses.com.", Outcome: "match", TTL: time.Hour}
	}
	b.ResetTimer()
	for done := 0; done < b.N; {
		now := t0.Add(time.Duration(done/n+1) * 2 * time.Hour)
		claimed, err := s.ClaimDue(ctx, now, now.Add(time.Minute), min(256, b.N-done))
		if err != nil {
			b.Fatal(err)
		}
		ups := make([]store.CheckUpdate, len(claimed))
		for i, id := range claimed {
			ups[i] = store.CheckUpdate{Key: id.Key, Checks: recs, Apply: func(cur *identity.Identity) *identity.Identity {
				cur.Verification.LastChecked = now
				cur.Next = now.Add(time.Hour)
				return cur
			}}
		}
		if err := s.SaveChecks(ctx, ups); err != nil {
			b.Fatal(err)
		}
		done += len(claimed)
	}
}

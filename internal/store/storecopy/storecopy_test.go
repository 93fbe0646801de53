package storecopy_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	msgdkim "github.com/emersion/go-msgauth/dkim"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/pgtest"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/seal"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/sestest"
	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/store/postgres"
	"github.com/sesame/sesame/internal/store/sqlite"
	"github.com/sesame/sesame/internal/store/storecopy"
)

const (
	east = "us-east-1"
	west = "eu-west-1"
)

func openSQLite(t *testing.T, data string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openPostgres(t *testing.T, url string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// rawSQLite opens the database file of data beside the store, for rows the
// store API does not write.
func rawSQLite(t *testing.T, data string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, sqlite.FileName)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestSchemasCovered: every table and column of both schemas, as their
// migrations make them today, is one that the copy handles. A migration
// that adds a table or a column fails here until tables copies it.
func TestSchemasCovered(t *testing.T) {
	ctx := context.Background()
	src := openSQLite(t, t.TempDir())
	dst := openPostgres(t, pgtest.Start(t).NewDatabase(t))
	err := src.Snapshot(ctx, func(tx *sql.Tx) error {
		have, err := storecopy.SourceTables(ctx, tx)
		if err != nil {
			return err
		}
		if handled := len(storecopy.Tables) + len(storecopy.Joined) + 1; len(have) != handled {
			t.Errorf("the SQLite schema has %d tables, the copy handles %d", len(have), handled)
		}
		return storecopy.CheckSource(ctx, tx)
	})
	if err != nil {
		t.Errorf("SQLite: %v", err)
	}
	err = dst.Transaction(ctx, func(tx pgx.Tx) error {
		_, err := storecopy.DestColumns(ctx, tx)
		return err
	})
	if err != nil {
		t.Errorf("PostgreSQL: %v", err)
	}
	// And the copy of an empty store runs the same checks, and succeeds.
	counts, err := storecopy.Copy(ctx, src, dst, storecopy.Options{})
	if err != nil {
		t.Fatalf("copy of an empty store: %v", err)
	}
	for _, c := range counts {
		if c.Rows != 0 {
			t.Errorf("copy of an empty store: %d rows into %s", c.Rows, c.Table)
		}
	}
}

// TestCopyRefusesTheUnknown: a table, a column or a meta row the copy does
// not know fails the copy loudly, and leaves the destination empty, even
// when the failure comes after other tables were copied.
func TestCopyRefusesTheUnknown(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.Start(t)
	for _, tc := range []struct {
		name, sqlite, postgres, want string
	}{
		{"table", `CREATE TABLE bounces (id TEXT PRIMARY KEY)`, "", "table bounces"},
		{"column", `ALTER TABLE identities ADD COLUMN owner TEXT`, "", "column owner"},
		{"meta row", `INSERT INTO meta VALUES ('suppression_generation', 3)`, "", `"suppression_generation"`},
		{"destination table", "", `CREATE TABLE bounces (id text PRIMARY KEY)`, "table bounces"},
		{"destination column", "", `ALTER TABLE mail_messages ADD COLUMN tenant text NOT NULL DEFAULT ''`, "column tenant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := t.TempDir()
			src := openSQLite(t, data)
			acct := store.Account{ID: "111111111111", Name: "ops", Created: time.Now().UTC()}
			if err := src.CreateAccount(ctx, acct, store.AccessKey{ID: "AKIA1", Account: acct.ID, SealedSecret: []byte("x"), Created: acct.Created}); err != nil {
				t.Fatal(err)
			}
			if tc.sqlite != "" {
				if _, err := rawSQLite(t, data).Exec(tc.sqlite); err != nil {
					t.Fatal(err)
				}
			}
			dst := openPostgres(t, pg.NewDatabase(t))
			if tc.postgres != "" {
				if err := dst.Transaction(ctx, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, tc.postgres); return err }); err != nil {
					t.Fatal(err)
				}
			}
			_, err := storecopy.Copy(ctx, src, dst, storecopy.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("copy: %v; want a refusal naming %s", err, tc.want)
			}
			if accts, err := dst.ListAccounts(ctx); err != nil || len(accts) != 0 {
				t.Errorf("after the failed copy, the destination has accounts %v (%v); want none", accts, err)
			}
		})
	}
}

// TestCopy fills a SQLite data directory through a server's API and the
// store, copies it into PostgreSQL, and reads everything back through the
// store API from both; then a server on the PostgreSQL database with the
// same key files takes the same credentials, signs with the copied DKIM
// key, and has the queued mail due. A second copy is refused, and one with
// Replace starts the database again.
func TestCopy(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	data := t.TempDir()
	os.Chmod(data, 0o700)
	dnsCfg := config.SES()
	dnsCfg.DKIMDomain = "dkim.example.net"
	srv := sestest.New(t, sestest.Options{Data: data, DNS: dnsCfg})
	a := srv.NewAccount("copy")
	other := srv.NewAccount("other")
	revoked, err := srv.Sesame.Accounts.AddKey(ctx, other.AccountId)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Sesame.Accounts.Revoke(ctx, revoked.AccessKeyId); err != nil {
		t.Fatal(err)
	}
	fill(t, srv, a, data, now)
	srv.Close()

	src := openSQLite(t, data)
	url := pgtest.Start(t).NewDatabase(t)
	dst := openPostgres(t, url)
	sealer, err := account.LoadSealer(filepath.Join(data, account.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := server.SharedKeys(data, "")
	if err != nil {
		t.Fatal(err)
	}
	opts := storecopy.Options{Sealer: sealer}
	for _, k := range keys {
		opts.Keys = append(opts.Keys, storecopy.Key{Name: k.Name, Fingerprint: k.Fingerprint})
	}
	counts, err := storecopy.Copy(ctx, src, dst, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range counts {
		if c.Rows == 0 { // the fixture misses a table: its copy is not tested
			t.Errorf("no rows copied into %s: fill it", c.Table)
		}
	}
	want := dump(t, src, now)
	// What the comparison below holds: not two empty stores.
	ex := east + " example.com"
	if len(want.Accounts) != 2 || len(want.Keys[other.AccountId]) != 2 || len(want.Identities) != 3 || len(want.Checks[ex]) != 3 ||
		len(want.DKIMKeys[ex]) != 3 || len(want.Messages) != 3 || len(want.Links) != 1 || len(want.DueMail) != 1 || len(want.Due) != 1 ||
		len(want.Templates) != 1 || len(want.Email) != 1 || len(want.ConfigSets) != 1 || !want.SignedOut {
		t.Fatalf("the fixture is not what it should be: %+v", want)
	}
	if diff := cmp.Diff(want, dump(t, dst, now)); diff != "" {
		t.Errorf("PostgreSQL after the copy, -SQLite +PostgreSQL:\n%s", diff)
	}

	// A wrong sealing key is refused before anything is written.
	other32 := bytes.Repeat([]byte{7}, 32)
	wrong, _ := seal.NewSealer(other32)
	if _, err := storecopy.Copy(ctx, src, openPostgres(t, pgtest.Start(t).NewDatabase(t)), storecopy.Options{Sealer: wrong}); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Errorf("copy with another sealing key: %v; want a refusal", err)
	}

	// Again: refused, then with Replace the same again.
	if _, err := storecopy.Copy(ctx, src, dst, opts); !errors.Is(err, storecopy.ErrNotEmpty) || !strings.Contains(err.Error(), "accounts") {
		t.Errorf("a second copy: %v; want ErrNotEmpty naming accounts", err)
	}
	opts.Replace = true
	if _, err := storecopy.Copy(ctx, src, dst, opts); err != nil {
		t.Fatalf("copy with Replace: %v", err)
	}
	if diff := cmp.Diff(want, dump(t, dst, now)); diff != "" {
		t.Errorf("PostgreSQL after the copy with Replace, -SQLite +PostgreSQL:\n%s", diff)
	}
	dst.Close()

	// A server on PostgreSQL with the data directory's key files serves
	// what the SQLite one did.
	pgSrv := sestest.New(t, sestest.Options{Data: data, DNS: dnsCfg, DatabaseURL: url})
	got, err := pgSrv.V2(a.AWS(), east).GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if err != nil {
		t.Fatalf("GetEmailIdentity with the copied credentials: %v", err)
	}
	if !got.VerifiedForSendingStatus || got.DkimAttributes.Status != v2types.DkimStatusSuccess {
		t.Errorf("example.com on PostgreSQL: verified %v, DKIM %s; want verified and SUCCESS", got.VerifiedForSendingStatus, got.DkimAttributes.Status)
	}
	msg := []byte("From: app@example.com\r\nTo: to@example.org\r\nSubject: hi\r\nDate: Fri, 04 Dec 2026 12:00:00 +0000\r\n\r\nhello\r\n")
	signed, err := pgSrv.Sesame.Keyring.Sign(ctx, registry.Scope{Account: a.AccountId, Region: east}, "app@example.com", msg)
	if err != nil || bytes.Equal(signed, msg) {
		t.Fatalf("signing with the copied DKIM key: %v, signed %v", err, !bytes.Equal(signed, msg))
	}
	lookup := func(name string) ([]string, error) {
		token, _, _ := strings.Cut(name, "._domainkey.")
		rec, ok, err := pgSrv.Sesame.Keyring.DKIMKey(ctx, token)
		if err != nil || !ok {
			return nil, fmt.Errorf("no record for %s: %v", name, err)
		}
		return []string{rec}, nil
	}
	vs, err := msgdkim.VerifyWithOptions(bytes.NewReader(signed), &msgdkim.VerifyOptions{LookupTXT: lookup})
	if err != nil || len(vs) != 1 || vs[0].Err != nil {
		t.Errorf("the signature of the copied key against its published record: %v %v", vs, err)
	}
	due, err := pgSrv.Sesame.Store.DueMessages(ctx, time.Now(), 10)
	if err != nil || len(due) != 1 || due[0].ID != "queued-due" {
		t.Errorf("due messages on PostgreSQL: %v %v; want queued-due", due, err)
	}
	if ok, err := pgSrv.Sesame.Store.SessionRevoked(ctx, "signed-out"); !ok || err != nil {
		t.Errorf("the signed-out console session on PostgreSQL: revoked %v %v", ok, err)
	}
	// The serial columns go on after the copied rows: new checks and mail
	// are stored after them.
	k := identity.Key{Account: a.AccountId, Region: east, Name: "example.com"}
	newer := store.CheckRecord{At: time.Now().UTC(), Check: "dkim", Server: "resolver", Outcome: "match"}
	if err := pgSrv.Sesame.Store.SaveChecks(ctx, []store.CheckUpdate{{Key: k, Apply: func(cur *identity.Identity) *identity.Identity { return cur },
		Checks: []store.CheckRecord{newer}}}); err != nil {
		t.Fatalf("a check after the copy: %v", err)
	}
	if recs, err := pgSrv.Sesame.Store.ListChecks(ctx, k, -1); err != nil || len(recs) != 4 || recs[0].Check != "dkim" {
		t.Errorf("checks after a new one: %+v (%v); want 4, the new one first", recs, err)
	}
	if err := pgSrv.Sesame.Store.AddMessage(ctx, &store.Message{ID: "after-copy", Key: k, From: "ops@example.com", To: "z@example.org",
		Raw: []byte("Subject: s\r\n\r\nbody\r\n"), Created: time.Now().UTC(), Status: store.Local}, nil, nil); err != nil {
		t.Errorf("a message after the copy: %v", err)
	}
}

// fill makes rows in every table of the store of srv: through the API what
// it makes, through the store the states only time or other programs make
// (verified identities, checks, mail queued for a relay and claimed).
func fill(t *testing.T, srv *sestest.Server, a *sestest.Account, data string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	v1, v2, v2w := a.V1(east), a.V2(east), a.V2(west)
	try := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	try(v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com"),
		Tags: []v2types.Tag{{Key: aws.String("team"), Value: aws.String("mail")}}}))
	// example.com verified, DKIM too, as the verifier would have made it.
	st := srv.Sesame.Registry.Store
	k := identity.Key{Account: a.AccountId, Region: east, Name: "example.com"}
	try(st.UpdateIdentity(ctx, k, func(cur *identity.Identity) (*identity.Identity, error) {
		cur.Verification.Status = identity.Success
		cur.DKIM.Check.Status = identity.Success
		return cur, nil
	}))
	try(v2.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: aws.String("example.com"),
		MailFromDomain: aws.String("bounce.example.com")}))
	try(v1.PutIdentityPolicy(ctx, &ses.PutIdentityPolicyInput{Identity: aws.String("example.com"), PolicyName: aws.String("send"),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"ses:SendEmail","Resource":"*"}]}`)}))
	for _, nt := range []sestypes.NotificationType{sestypes.NotificationTypeBounce, sestypes.NotificationTypeComplaint} {
		try(v1.SetIdentityNotificationTopic(ctx, &ses.SetIdentityNotificationTopicInput{Identity: aws.String("example.com"), NotificationType: nt,
			SnsTopic: aws.String("arn:aws:sns:us-east-1:" + a.AccountId + ":bounces")}))
	}
	try(v1.SetIdentityFeedbackForwardingEnabled(ctx, &ses.SetIdentityFeedbackForwardingEnabledInput{Identity: aws.String("example.com"), ForwardingEnabled: false}))
	try(v1.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("ops@example.org")})) // a verification mail and its link
	try(v2w.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.net")}))
	try(v2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("welcome"),
		TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("Hi {{name}}"), Text: aws.String("Hello {{name}}")}}))
	try(v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("marketing"),
		Tags: []v2types.Tag{{Key: aws.String("cost"), Value: aws.String("7")}}}))
	try(v2.CreateCustomVerificationEmailTemplate(ctx, &sesv2.CreateCustomVerificationEmailTemplateInput{TemplateName: aws.String("confirm"),
		FromEmailAddress: aws.String("ops@example.com"), TemplateSubject: aws.String("Please confirm"), TemplateContent: aws.String("<p>Confirm</p>"),
		SuccessRedirectionURL: aws.String("https://example.com/ok"), FailureRedirectionURL: aws.String("https://example.com/no")}))
	try(v2.PutAccountSendingAttributes(ctx, &sesv2.PutAccountSendingAttributesInput{SendingEnabled: false}))

	// Due for its next check in the past: the verifier of a server on
	// PostgreSQL would take it.
	try(st.UpdateIdentity(ctx, k, func(cur *identity.Identity) (*identity.Identity, error) {
		cur.Next = now.Add(-time.Minute)
		return cur, nil
	}))
	rec := func(at time.Time, server string) store.CheckRecord {
		return store.CheckRecord{At: at, Check: "verification", Server: server, Query: "dig TXT _amazonses.example.com", Answer: []string{`"tok"`},
			Expected: `_amazonses.example.com. TXT "tok"`, Outcome: "match", TTL: 5 * time.Minute, Detail: "fine"}
	}
	if err := srv.Sesame.Store.SaveChecks(ctx, []store.CheckUpdate{{Key: k, Apply: func(cur *identity.Identity) *identity.Identity { return cur },
		Checks: []store.CheckRecord{rec(now.Add(-2*time.Hour), "ns1.example.com. 192.0.2.1"), rec(now.Add(-2*time.Hour+time.Second), "ns2.example.com. 192.0.2.2")}}}); err != nil {
		t.Fatal(err)
	}
	// A record of before migration 4: one JSON object in the row.
	old := rec(now.Add(-3*time.Hour), "resolver")
	oldJSON := fmt.Sprintf(`{"At":%q,"Check":"verification","Server":"resolver","Query":%q,"Answer":["\"tok\""],"Expected":%q,"Outcome":"match","TTL":300000000000,"Detail":"fine"}`,
		old.At.Format(time.RFC3339Nano), old.Query, old.Expected)
	if _, err := rawSQLite(t, data).Exec(`INSERT INTO checks (account, region, name, at, total, data) VALUES (?, ?, ?, ?, 0, ?)`,
		k.Account, k.Region, k.Name, old.At.UnixNano(), []byte(oldJSON)); err != nil {
		t.Fatal(err)
	}

	// Mail for a relay: one due, with attempts behind it; one claimed by a
	// sender, leased for ten minutes.
	for _, m := range []*store.Message{
		{ID: "queued-due", Key: k, From: "ops@example.com", To: "x@example.org", Subject: "s", Raw: []byte("Subject: s\r\n\r\nbody\r\n"),
			Created: now.Add(-time.Hour), Status: store.Queued, Attempts: 2, NextAttempt: now.Add(-time.Minute), LastError: "421 try later"},
		{ID: "queued-claimed", Kind: store.SentMail, Key: k, From: "app@example.com", To: "y@example.org", Recipients: []string{"y@example.org"}, Counted: 1,
			Sent:    &store.SentInfo{MessageID: "0100-abc", Action: "SendEmail", Source: "app@example.com", To: []string{"y@example.org"}, Subject: "s", Text: "body"},
			Subject: "s", Raw: []byte("Subject: s\r\n\r\nbody\r\n"), Created: now.Add(-time.Hour), Status: store.Queued, NextAttempt: now.Add(-2 * time.Minute)},
	} {
		if err := srv.Sesame.Store.AddMessage(ctx, m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := srv.Sesame.Store.ClaimMessages(ctx, now, now.Add(10*time.Minute), 1)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	if claimed[0].ID != "queued-claimed" { // the earliest due first
		t.Fatalf("claimed %s", claimed[0].ID)
	}
	if err := srv.Sesame.Store.RevokeSession(ctx, "signed-out", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
}

// snapshot is what the store API reads of a whole store, for comparing two.
type snapshot struct {
	Accounts   []store.Account
	Keys       map[string][]store.AccessKey
	Identities []*identity.Identity
	Checks     map[string][]store.CheckRecord
	DKIMKeys   map[string][]store.DKIMKey
	DKIMIDs    []identity.Key
	Counts     []store.Count
	Due        []*identity.Identity
	Messages   []*store.Message
	Links      map[string]*store.Link
	DueMail    []*store.Message
	NextDue    time.Time
	Templates  []*store.Template
	Email      []*store.EmailTemplate
	ConfigSets []*store.ConfigSet
	Sending    []*store.SendingState
	Volume     map[string][]store.Volume
	SignedOut  bool
}

func dump(t *testing.T, st store.Store, now time.Time) *snapshot {
	t.Helper()
	ctx := context.Background()
	s := &snapshot{Keys: map[string][]store.AccessKey{}, Checks: map[string][]store.CheckRecord{}, DKIMKeys: map[string][]store.DKIMKey{},
		Links: map[string]*store.Link{}, Volume: map[string][]store.Volume{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	s.Accounts, err = st.ListAccounts(ctx)
	must(err)
	for _, a := range s.Accounts {
		s.Keys[a.ID], err = st.ListKeys(ctx, a.ID)
		must(err)
		for _, region := range []string{east, west} {
			ids, err := st.ListIdentities(ctx, store.ListQuery{Account: a.ID, Region: region, Limit: 1000})
			must(err)
			s.Identities = append(s.Identities, ids...)
			tpl, err := st.ListTemplates(ctx, a.ID, region, "", 100)
			must(err)
			s.Templates = append(s.Templates, tpl...)
			et, err := st.ListEmailTemplates(ctx, a.ID, region, "", 100)
			must(err)
			s.Email = append(s.Email, et...)
			cs, err := st.ListConfigSets(ctx, a.ID, region, "", 100)
			must(err)
			s.ConfigSets = append(s.ConfigSets, cs...)
			ss, err := st.GetSendingState(ctx, a.ID, region)
			must(err)
			s.Sending = append(s.Sending, ss)
			s.Volume[a.ID+" "+region], err = st.SentVolume(ctx, a.ID, region, time.Time{})
			must(err)
		}
	}
	for _, id := range s.Identities {
		name := id.Region + " " + id.Name
		s.Checks[name], err = st.ListChecks(ctx, id.Key, -1)
		must(err)
		s.DKIMKeys[name], err = st.ListDKIMKeys(ctx, id.Key)
		must(err)
	}
	s.DKIMIDs, err = st.DKIMIdentities(ctx, identity.Key{}, 1000)
	must(err)
	s.Counts, err = st.CountIdentities(ctx)
	must(err)
	s.Due, err = st.DueIdentities(ctx, now, 1000)
	must(err)
	for _, kind := range []store.MessageKind{store.Verification, store.SentMail} {
		ms, err := st.ListMessages(ctx, store.MessageQuery{Kind: kind, Limit: 1000})
		must(err)
		s.Messages = append(s.Messages, ms...)
	}
	for _, m := range s.Messages {
		if m.LinkNonce != "" {
			s.Links[m.LinkNonce], err = st.GetLink(ctx, m.LinkNonce)
			must(err)
		}
	}
	s.DueMail, err = st.DueMessages(ctx, now, 1000)
	must(err)
	s.NextDue, err = st.NextDue(ctx)
	must(err)
	s.SignedOut, err = st.SessionRevoked(ctx, "signed-out")
	must(err)
	return s
}

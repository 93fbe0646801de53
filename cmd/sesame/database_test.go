package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/sesame/sesame/internal/pgtest"
)

// TestDatabaseURL: the commands that open the store open the PostgreSQL
// database of --database-url (or SESAME_DATABASE_URL) instead of the data
// directory's SQLite, and refuse a URL of another database.
func TestDatabaseURL(t *testing.T) {
	url := pgtest.Start(t).NewDatabase(t)
	data := t.TempDir()
	if _, errs, code := sesame(t, "", "accounts", "create", "ops", "--data", data, "--database-url", url); code != 0 {
		t.Fatalf("accounts create on PostgreSQL: exit status %d, %s", code, errs)
	}
	t.Setenv("SESAME_DATABASE_URL", url)
	out, errs, code := sesame(t, "", "accounts", "list", "--data", data)
	if code != 0 || !strings.Contains(out, "ops") {
		t.Errorf("accounts list with SESAME_DATABASE_URL: exit status %d, %q %s; want the account ops", code, out, errs)
	}
	if out, _, _ := sesame(t, "", "outbox", "--data", data); !strings.HasPrefix(out, "CREATED") {
		t.Errorf("outbox on PostgreSQL: %q", out)
	}
	// The data directory's SQLite was not used.
	t.Setenv("SESAME_DATABASE_URL", "")
	if out, _, code := sesame(t, "", "accounts", "list", "--data", data, "--database-url", ""); code != 0 || strings.Contains(out, "ops") {
		t.Errorf("accounts list on SQLite: exit status %d, %q; want no account ops", code, out)
	}
	_, errs, code = sesame(t, "", "accounts", "list", "--data", data, "--database-url", "mysql://root@localhost/sesame")
	if code == 0 || !strings.Contains(errs, "postgres://") {
		t.Errorf("a MySQL URL: exit status %d, %s; want a refusal that names postgres://", code, errs)
	}
}

// TestDatabaseCopy is the move of docs/deploy.md: a `sesame serve` on the
// data directory's SQLite makes an identity through the API; it stops;
// `sesame database copy` copies the database into PostgreSQL; a `sesame
// serve --database-url` with the same data directory (its key files) takes
// the same credentials and has the identity. A second copy is refused, one
// with --replace is not; a wrong key file and a missing database are
// refused with nothing copied.
func TestDatabaseCopy(t *testing.T) {
	bin, err := buildSesame()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := t.TempDir()
	os.Chmod(data, 0o700)
	t.Setenv("SESAME_DATABASE_URL", "")
	creds := accountsCreate(t, bin, data, "ops")
	cmd, u := startServe(t, bin, data)
	token, err := sesClient(u, creds).VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("example.com")})
	if err != nil {
		cmd.Process.Kill()
		t.Fatal(err)
	}
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()

	url := pgtest.Start(t).NewDatabase(t)
	if _, errs, code := sesame(t, "", "database", "copy", "--data", data); code != 2 || !strings.Contains(errs, "--to") {
		t.Errorf("copy without --to: exit status %d, %s; want 2 and --to", code, errs)
	}
	if _, errs, code := sesame(t, "", "database", "copy", "--data", data, "--to", "mysql://root@localhost/sesame"); code != 2 || !strings.Contains(errs, "postgres://") {
		t.Errorf("copy --to mysql://: exit status %d, %s; want 2 and postgres://", code, errs)
	}
	if _, errs, code := sesame(t, "", "database", "copy", "--data", t.TempDir(), "--to", url); code != 1 || !strings.Contains(errs, "no SQLite database") {
		t.Errorf("copy of an empty data directory: exit status %d, %s; want 1 and no SQLite database", code, errs)
	}
	otherKey := filepath.Join(t.TempDir(), "secret.key")
	if _, errs, code := sesame(t, "", "database", "copy", "--data", data, "--to", url, "--key-file", otherKey); code != 1 || !strings.Contains(errs, "--key-file") {
		t.Errorf("copy with a missing sealing key: exit status %d, %s; want 1 and --key-file", code, errs)
	}
	if err := os.WriteFile(otherKey, []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := sesame(t, "", "database", "copy", "--data", data, "--to", url, "--key-file", otherKey); code != 1 || !strings.Contains(errs, "does not open") {
		t.Errorf("copy with another sealing key: exit status %d, %s; want 1 and does not open", code, errs)
	}
	out, errs, code := sesame(t, "", "database", "copy", "--data", data, "--to", url)
	if code != 0 {
		t.Fatalf("copy: exit status %d, %s", code, errs)
	}
	for _, want := range []string{"accounts", "identities", filepath.Join(data, "secret.key"), filepath.Join(data, "link.key"), filepath.Join(data, "console.key"), "--database-url"} {
		if !strings.Contains(out, want) {
			t.Errorf("copy printed\n%s\nwant %s in it", out, want)
		}
	}
	if _, errs, code := sesame(t, "", "database", "copy", "--data", data, "--to", url); code != 1 || !strings.Contains(errs, "--replace") || !strings.Contains(errs, "accounts") {
		t.Errorf("a second copy: exit status %d, %s; want 1, the tables that hold data and --replace", code, errs)
	}
	t.Setenv("SESAME_DATABASE_URL", url) // --to defaults to it
	out, errs, code = sesame(t, "", "database", "copy", "--data", data, "--replace", "-o", "json")
	var got copyOut
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("copy --replace -o json: exit status %d, %q %s", code, out, errs)
	}
	rows := map[string]int{}
	for _, c := range got.Tables {
		rows[c.Table] = c.Rows
	}
	if rows["accounts"] != 1 || rows["access_keys"] != 1 || rows["identities"] != 1 || len(got.KeyFiles) != 3 {
		t.Errorf("copy --replace -o json: %+v; want one account, key and identity, three key files", got)
	}

	// The replica on PostgreSQL: the same key, the same identity.
	cmd, u = startServe(t, bin, data, "--database-url", url)
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	attrs, err := sesClient(u, creds).GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{"example.com"}})
	if err != nil {
		t.Fatalf("the copied credentials on PostgreSQL: %v", err)
	}
	if a, ok := attrs.VerificationAttributes["example.com"]; !ok || aws.ToString(a.VerificationToken) != aws.ToString(token.VerificationToken) {
		t.Errorf("example.com on PostgreSQL: %+v; want the token %s", attrs.VerificationAttributes, aws.ToString(token.VerificationToken))
	}
}

package main

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/server"
)

// jsonLines decodes out as JSON Lines: each line one object.
func jsonLines(t *testing.T, what, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for line := range strings.Lines(out) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil || !strings.HasSuffix(line, "}\n") {
			t.Fatalf("%s: line %q is not one JSON object: %v\n%s", what, line, err, out)
		}
		objs = append(objs, m)
	}
	return objs
}

// TestJSONLines: -o json is JSON Lines for every command: one object for
// one thing, one a line for a list, and no array around them.
func TestJSONLines(t *testing.T) {
	data := t.TempDir()
	s, err := server.Open(t.Context(), server.Options{Data: data, DNS: config.SES(), Policies: identity.SESPolicies()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hs := httptest.NewServer(s.Handler)
	defer hs.Close()
	run := func(want int, args ...string) []map[string]any {
		t.Helper()
		out, errs, code := sesame(t, "", append(args, "--data", data, "-o", "json")...)
		if code != 0 {
			t.Fatalf("sesame %s: exit status %d\n%s", strings.Join(args, " "), code, errs)
		}
		objs := jsonLines(t, strings.Join(args, " "), out)
		if len(objs) != want {
			t.Fatalf("sesame %s: %d lines, want %d\n%s", strings.Join(args, " "), len(objs), want, out)
		}
		return objs
	}
	if objs := run(0, "accounts", "list"); objs != nil {
		t.Errorf("no accounts: %v", objs)
	}
	ops := run(1, "accounts", "create", "ops")[0]
	run(1, "accounts", "create", "marketing")
	key := run(1, "accounts", "keys", "add", "ops")[0]
	run(1, "accounts", "keys", "revoke", key["AccessKeyId"].(string))
	accts := run(2, "accounts", "list")
	if accts[0]["AccountId"] == nil || len(accts[0]["Keys"].([]any)) == 0 {
		t.Errorf("accounts list: %v", accts)
	}

	c := sesV1(hs.URL, &account.Credentials{AccessKeyId: ops["AccessKeyId"].(string), SecretAccessKey: account.Secret(ops["SecretAccessKey"].(string))}, "us-east-1")
	for _, a := range []string{"a@example.test", "b@example.test"} {
		if _, err := c.VerifyEmailIdentity(t.Context(), &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(a)}); err != nil {
			t.Fatal(err)
		}
	}
	if msgs := run(2, "outbox"); msgs[0]["Link"] == nil {
		t.Errorf("outbox: %v", msgs)
	}
	if rep := run(1, "identities", "show", "a@example.test", "--account", "ops")[0]; rep["Identity"] != "a@example.test" {
		t.Errorf("identities show: %v", rep)
	}

	w := newDoctorDNS(t)
	w.serve("example.test.", doctorZone("example.test", goodRecords(tok1, nil, "")))
	out, errs, code := sesame(t, "", append([]string{"doctor", "example.test", "--token", tok1, "-o", "json"}, w.args()...)...)
	if rep := jsonLines(t, "doctor", out); code != 0 || len(rep) != 1 || rep[0]["name"] != "example.test" {
		t.Errorf("doctor: exit status %d, %d lines\n%s%s", code, len(rep), out, errs)
	}
	out, errs, code = sesame(t, "instance ops region=us-east-1 token="+tok1+"\n", append([]string{"plan", "example.test", "--from", "-", "-o", "json"}, w.args()...)...)
	if p := jsonLines(t, "plan", out); code != 0 || len(p) != 1 || p[0]["schema"] != "sesame-plan/1" {
		t.Errorf("plan: exit status %d, %d lines\n%s%s", code, len(p), out, errs)
	}
}

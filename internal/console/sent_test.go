package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/sestest"
	"github.com/sesame/sesame/internal/store"
)

// TestSentPerTenant: the Sent page lists the account's sent mail in the
// session's region, and a message page shows it as stored with its
// envelope; another account sees neither, and a verification email's ID
// is no sent message.
func TestSentPerTenant(t *testing.T) {
	srv := sestest.New(t)
	a, z := srv.NewAccount("alpha"), srv.NewAccount("zulu")
	ctx := context.Background()
	c := a.V1("us-east-1")
	if _, err := c.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("alpha.example.com")}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Sesame.Registry.Store.UpdateIdentity(ctx, identity.Key{Account: a.AccountId, Region: "us-east-1", Name: "alpha.example.com"},
		func(cur *identity.Identity) (*identity.Identity, error) {
			cur.Verification.Status = identity.Success
			return cur, nil
		}); err != nil {
		t.Fatal(err)
	}
	out, err := c.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("Ops <ops@alpha.example.com>"),
		Destination: &types.Destination{ToAddresses: []string{"success@simulator.amazonses.com"}},
		Message: &types.Message{Subject: &types.Content{Data: aws.String("Quarterly <report>")},
			Body: &types.Body{Text: &types.Content{Data: aws.String("numbers inside")}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)
	ba, bz := newBrowser(t, srv), newBrowser(t, srv)
	ba.signIn(a)
	bz.signIn(z)

	p := ba.get("/console/sent")
	wantStatus(t, p, http.StatusOK)
	for _, want := range []string{`href="/console/sent/` + id + `"`, "Quarterly &lt;report&gt;", "success@simulator.amazonses.com", `href="/console/sent"`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("alpha's Sent page lacks %q:\n%s", want, p.Body)
		}
	}
	p = ba.get("/console/sent/" + id)
	wantStatus(t, p, http.StatusOK)
	for _, want := range []string{"Message-ID: &lt;" + id + "@email.amazonses.com&gt;", "numbers inside", id + "@amazonses.com", "SendEmail", "delivered"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("alpha's sent message page lacks %q:\n%s", want, p.Body)
		}
	}

	// Another tenant: not listed, not found by its ID.
	if p := bz.get("/console/sent"); strings.Contains(p.Body, id) || !strings.Contains(p.Body, "No sent email in this region yet") {
		t.Errorf("zulu's Sent page:\n%s", p.Body)
	}
	wantStatus(t, bz.get("/console/sent/"+id), http.StatusNotFound)
	// Another region of the same account: none.
	wantRedirect(t, ba.post("/console/region", ba.form("/console/sent", "region", "eu-west-1", "next", "/console/sent")), "/console/sent")
	if p := ba.get("/console/sent"); strings.Contains(p.Body, id) {
		t.Errorf("alpha's Sent page in eu-west-1 shows a message sent in us-east-1")
	}
	wantRedirect(t, ba.post("/console/region", ba.form("/console/sent", "region", "us-east-1", "next", "/console/sent")), "/console/sent")
	// A verification email is not a sent message.
	if _, err := c.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("me@alpha.example.com")}); err != nil {
		t.Fatal(err)
	}
	ms, err := srv.Sesame.Store.ListMessages(ctx, store.MessageQuery{Account: a.AccountId, Limit: 1})
	if err != nil || len(ms) != 1 || ms[0].Kind != store.Verification {
		t.Fatalf("alpha's verification email: %v, %v", ms, err)
	}
	wantStatus(t, ba.get("/console/sent/"+ms[0].ID), http.StatusNotFound)
	if p := ba.get("/console/sent"); strings.Contains(p.Body, ms[0].ID) {
		t.Errorf("the Sent page lists a verification email")
	}
	wantRedirect(t, newBrowser(t, srv).get("/console/sent"), "/console/signin")
}

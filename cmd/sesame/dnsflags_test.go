package main

import (
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/sesame/sesame/internal/identity"
)

// TestPolicyFlags: --verification-window is the window of every DNS check,
// the MAIL FROM MX's included; SES's windows are the defaults.
func TestPolicyFlags(t *testing.T) {
	p := identity.SESPolicies()
	fl := pflag.NewFlagSet("t", pflag.ContinueOnError)
	addPolicyFlags(fl, &p)
	if err := fl.Parse(nil); err != nil || p != identity.SESPolicies() {
		t.Fatalf("no flags: %+v, %v; want SES's", p, err)
	}
	if err := fl.Parse([]string{"--verification-window", "2h", "--revocation-grace", "0", "--link-validity", "30m"}); err != nil {
		t.Fatal(err)
	}
	if p.Records.Window != 2*time.Hour || p.MailFrom.Window != 2*time.Hour || p.Records.Grace != 0 || p.Link.Window != 30*time.Minute {
		t.Errorf("policies %+v", p)
	}
	if err := fl.Parse([]string{"--verification-window", "soon"}); err == nil {
		t.Error("--verification-window soon was accepted")
	}
}

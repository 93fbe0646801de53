package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestAccountsSending: a new account is in the sandbox; `accounts sending
// --production` lifts it in the regions named and leaves the others.
func TestAccountsSending(t *testing.T) {
	bin, err := buildSesame()
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	accountsCreate(t, bin, data, "tenant")
	sending := func(args ...string) []sendingOut {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"accounts", "sending", "tenant", "--data", data, "-o", "json"}, args...)...).Output()
		if err != nil {
			t.Fatalf("accounts sending %v: %v", args, err)
		}
		var got []sendingOut
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			var s sendingOut
			if err := json.Unmarshal([]byte(l), &s); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			got = append(got, s)
		}
		return got
	}
	if got := sending("--region", "us-east-1"); len(got) != 1 || got[0].ProductionAccessEnabled || got[0].Max24HourSend != 200 || got[0].MaxSendRate != 1 {
		t.Errorf("new account: %+v, want the sandbox", got)
	}
	if got := sending("--region", "us-east-1", "--production", "--max-send-rate", "-1"); got[0].MaxSendRate != -1 || !got[0].ProductionAccessEnabled || got[0].Max24HourSend != 50000 {
		t.Errorf("after --production: %+v", got)
	}
	if got := sending("--region", "eu-west-1"); got[0].ProductionAccessEnabled {
		t.Errorf("eu-west-1 left the sandbox with us-east-1: %+v", got)
	}
	if got := sending("--region", "us-east-1"); !got[0].ProductionAccessEnabled || got[0].MaxSendRate != -1 {
		t.Errorf("the change was not kept: %+v", got)
	}
	if code, stderr := runSesame(t, "accounts", "sending", "tenant", "--data", data, "--sandbox", "--production"); code != 2 {
		t.Errorf("--sandbox --production: exit %d (%s), want 2", code, stderr)
	}
}

package identity

import (
	"testing"
	"time"

	"github.com/sesame/sesame/internal/names"
)

// TestViews: what v1 and v2 report for each combination of a domain's TXT
// and DKIM checks, as README's "Behaviour where SES is silent" says, and
// which check v2's VerificationInfo comes from.
func TestViews(t *testing.T) {
	checked := Check{LastChecked: at(time.Hour)}
	with := func(c Check, s Status) Check { c.Status = s; return c }
	tests := []struct {
		name      string
		kind      names.Kind
		txt, dkim Check
		tokens    bool
		v1, v2    Status
		sending   bool
		info      string // "txt" or "dkim": the check behind VerificationInfo
	}{
		{name: "address pending", kind: names.KindEmail, txt: with(checked, Pending), v1: Pending, v2: Pending, info: "txt"},
		{name: "address verified", kind: names.KindEmail, txt: with(checked, Success), v1: Success, v2: Success, sending: true, info: "txt"},
		{name: "domain without DKIM", kind: names.KindDomain, txt: with(checked, TemporaryFailure), v1: TemporaryFailure, v2: TemporaryFailure, info: "txt"},
		{name: "both pending", kind: names.KindDomain, tokens: true, txt: with(checked, Pending), dkim: with(checked, Pending), v1: Pending, v2: Pending, info: "dkim"},
		{name: "TXT temporary failure, DKIM pending", kind: names.KindDomain, tokens: true, txt: with(checked, TemporaryFailure), dkim: with(checked, Pending), v1: TemporaryFailure, v2: Pending, info: "dkim"},
		{name: "TXT failed, DKIM pending", kind: names.KindDomain, tokens: true, txt: with(checked, Failed), dkim: with(checked, Pending), v1: Failed, v2: Pending, info: "dkim"},
		{name: "DKIM success verifies the domain", kind: names.KindDomain, tokens: true, txt: with(checked, Failed), dkim: with(checked, Success), v1: Success, v2: Success, sending: true, info: "dkim"},
		{name: "TXT success alone", kind: names.KindDomain, tokens: true, txt: with(checked, Success), dkim: with(checked, Pending), v1: Success, v2: Success, sending: true, info: "txt"},
		{name: "DKIM never checked", kind: names.KindDomain, tokens: true, txt: with(checked, Pending), dkim: Check{Status: Pending}, v1: Pending, v2: Pending, info: "txt"},
		{name: "DKIM success on an address does not count", kind: names.KindEmail, txt: with(checked, Pending), dkim: with(checked, Success), v1: Pending, v2: Pending, info: "txt"},
		{name: "nothing started", kind: names.KindDomain, v1: NotStarted, v2: NotStarted, info: "txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := &Identity{Kind: tt.kind, Verification: tt.txt, DKIM: DKIM{Check: tt.dkim}}
			if tt.tokens {
				id.DKIM.Tokens = []string{"a", "b", "c"}
			}
			if got := id.StatusV1(); got != tt.v1 {
				t.Errorf("StatusV1 = %s, want %s", got, tt.v1)
			}
			if got := id.Status(); got != tt.v2 {
				t.Errorf("Status = %s, want %s", got, tt.v2)
			}
			if got := id.VerifiedForSending(); got != tt.sending {
				t.Errorf("VerifiedForSending = %v, want %v", got, tt.sending)
			}
			want := &id.Verification
			if tt.info == "dkim" {
				want = &id.DKIM.Check
			}
			if got := id.StatusCheck(); got != want {
				t.Errorf("StatusCheck is the %s check, want the %s check", map[bool]string{true: "dkim", false: "txt"}[got == &id.DKIM.Check], tt.info)
			}
		})
	}
}

package send

import (
	"fmt"
	"strings"

	"github.com/sesame/sesame/internal/registry"
)

// CheckIdentityARN accepts an identity ARN of a send call (v1 SourceArn,
// FromArn, ReturnPathArn; v2 FromEmailAddressIdentityArn and
// FeedbackForwardingEmailAddressIdentityArn) that names an identity of
// the caller's own account and region: such a send needs no sending
// authorization policy, and the gate checks the addresses as usual. An
// ARN of another account would need one, which Sesame does not evaluate
// yet: it is refused, rather than sent without the owner's consent.
func CheckIdentityARN(sc registry.Scope, field, arn string) error {
	if arn == "" {
		return nil
	}
	// arn:PARTITION:ses:REGION:ACCOUNT:identity/NAME
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[2] != "ses" || !strings.HasPrefix(p[5], "identity/") || len(p[5]) == len("identity/") {
		return invalidf("Invalid %s %q: give an identity ARN, arn:aws:ses:REGION:ACCOUNT:identity/NAME.", field, arn)
	}
	if p[3] != sc.Region || p[4] != sc.Account {
		return &registry.Error{Kind: registry.Invalid, Message: fmt.Sprintf("%s %q names an identity of another account or region: sending authorization is not supported by this server yet; send from an identity of your own account in %s.", field, arn, sc.Region)}
	}
	return nil
}

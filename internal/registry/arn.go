package registry

import (
	"strings"

	"github.com/sesame/sesame/internal/identity"
)

// The resource types of SES ARNs that Sesame serves:
// arn:aws:ses:<region>:<account>:<type>/<name>.
const (
	ResourceIdentity         = "identity"
	ResourceConfigurationSet = "configuration-set"
	ResourceTemplate         = "custom-verification-email-template"
)

// ARN returns the ARN of a resource of the scope.
func (s Scope) ARN(typ, name string) string {
	return "arn:aws:ses:" + s.Region + ":" + s.Account + ":" + typ + "/" + name
}

// IdentityARN is the ARN of an identity, as sending-authorization
// policies name it in Resource.
func IdentityARN(k identity.Key) string {
	return Scope{Account: k.Account, Region: k.Region}.ARN(ResourceIdentity, k.Name)
}

// Resource is a parsed SES ARN.
type Resource struct {
	Scope
	Type, Name string
}

// ParseARN reads arn:<partition>:ses:<region>:<account>:<type>/<name>.
func ParseARN(arn string) (Resource, error) {
	bad := func() (Resource, error) {
		return Resource{}, errorf(Invalid, "Invalid ResourceArn %q: use arn:aws:ses:<region>:<account>:<type>/<name>, such as arn:aws:ses:us-east-1:123456789012:identity/example.com.", arn)
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "ses" || parts[3] == "" || parts[4] == "" {
		return bad()
	}
	typ, name, ok := strings.Cut(parts[5], "/")
	if !ok || typ == "" || name == "" {
		return bad()
	}
	return Resource{Scope: Scope{Region: parts[3], Account: parts[4]}, Type: typ, Name: name}, nil
}

// nameOrARN is the identity of the v1 calls that take either its name or
// its ARN (SetIdentityNotificationTopic and the policy calls: "You can
// specify an identity by using its name or by using its Amazon Resource
// Name (ARN)"). An ARN of another account or region names no identity of
// the caller's.
func nameOrARN(sc Scope, s string) (string, error) {
	if !strings.HasPrefix(s, "arn:") {
		return s, nil
	}
	res, err := ParseARN(s)
	if err != nil {
		return "", err
	}
	if res.Type != ResourceIdentity {
		return "", errorf(Invalid, "%s is not the ARN of an identity: use arn:aws:ses:<region>:<account>:identity/<name>, or the identity's name.", s)
	}
	if res.Scope != sc {
		return "", errorf(NotFound, "Identity %s does not exist: its ARN names account %s in %s, and this request is signed for account %s in %s.", s, res.Account, res.Region, sc.Account, sc.Region)
	}
	return res.Name, nil
}

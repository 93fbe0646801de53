package send

import (
	"context"

	"github.com/sesame/sesame/internal/registry"
)

// IdentityARN is an identity ARN of a send call, for sending
// authorization, and the field that gave it (SourceArn, FromArn,
// ReturnPathArn, v2's FromEmailAddressIdentityArn and
// FeedbackForwardingEmailAddressIdentityArn, or a raw message's
// X-SES-SOURCE-ARN, X-SES-FROM-ARN and X-SES-RETURN-PATH-ARN headers).
type IdentityARN struct{ Field, ARN string }

// The headers of raw mail that stand for the ARN parameters when those are
// absent ("If you use both the SourceArn parameter and the corresponding
// X-header, Amazon SES uses the value of the SourceArn parameter"); build
// removes them, as SES does before delivery.
const (
	headerSourceARN     = "X-Ses-Source-Arn"
	headerFromARN       = "X-Ses-From-Arn"
	headerReturnPathARN = "X-Ses-Return-Path-Arn"
)

// arns are the ARNs of one message, its parameters first, then its
// headers; with only the source ARN, "Amazon SES sets the From address and
// the Return Path address to the identity specified in SourceArn".
type arns struct{ source, from, returnPath IdentityARN }

func (m *Message) arns(raw *rawMessage) arns {
	a := arns{m.SourceArn, m.FromArn, m.ReturnPathArn}
	if raw != nil {
		for _, h := range []struct {
			dst        *IdentityARN
			name, said string
		}{{&a.source, headerSourceARN, "X-SES-SOURCE-ARN"}, {&a.from, headerFromARN, "X-SES-FROM-ARN"}, {&a.returnPath, headerReturnPathARN, "X-SES-RETURN-PATH-ARN"}} {
			if h.dst.ARN == "" {
				// The first of repeated headers, as SES takes it.
				if v := raw.header.Get(h.name); v != "" {
					*h.dst = IdentityARN{Field: h.said + " header", ARN: v}
				}
			}
		}
	}
	if a.from.ARN == "" {
		a.from = a.source
	}
	if a.returnPath.ARN == "" {
		a.returnPath = a.source
	}
	return a
}

// policyAction is the action a sending-authorization policy must allow for
// a send call: the v1 action itself; v2's SendEmail is ses:SendEmail,
// ses:SendRawEmail or ses:SendTemplatedEmail by its content (raw content
// is refused as ses:SendRawEmail, observed), SendBulkEmail
// ses:SendBulkTemplatedEmail (unconfirmed).
func policyAction(action string) string {
	if action == "SendBulkEmail" {
		return "ses:SendBulkTemplatedEmail"
	}
	return "ses:" + action
}

// scopes finds, for each address to verify, the account whose identities
// must verify it: the caller's, unless an identity ARN of another account
// authorizes it (registry.AuthorizeSend, which refuses with AccessDenied).
func (s *Sender) scopes(ctx context.Context, sc registry.Scope, p *parsed, action string) error {
	for i := range p.check {
		c := &p.check[i]
		c.scope = sc
		if c.arn.ARN == "" {
			continue
		}
		owner, err := s.Registry.AuthorizeSend(ctx, sc, c.arn.Field, c.arn.ARN, c.addr, policyAction(action))
		if err != nil {
			return err
		}
		c.scope = owner
	}
	return nil
}

package send

import (
	"context"

	"github.com/sesame/sesame/internal/registry"
)

// Signer adds the DKIM-Signature of the sending identity's domain: the
// step SES takes once the domain's DKIM is verified and signing enabled
// (Easy DKIM or BYODKIM). Sign returns msg unchanged when the identity
// does not sign now. The keys and the choice of key (which key signs now
// for this identity) belong to the dkim package; until it offers them the
// server sets no Signer and messages go unsigned.
type Signer interface {
	Sign(ctx context.Context, sc registry.Scope, source string, msg []byte) ([]byte, error)
}

// SignerFunc adapts a function to Signer.
type SignerFunc func(ctx context.Context, sc registry.Scope, source string, msg []byte) ([]byte, error)

// Sign implements Signer.
func (f SignerFunc) Sign(ctx context.Context, sc registry.Scope, source string, msg []byte) ([]byte, error) {
	return f(ctx, sc, source, msg)
}

func (s *Sender) sign(ctx context.Context, sc registry.Scope, p *parsed, raw []byte) ([]byte, error) {
	if s.Signer == nil {
		return raw, nil
	}
	return s.Signer.Sign(ctx, sc, p.source, raw)
}

package sesv2

import (
	"net/http"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/registry"
)

// routeAccount routes the account operations; ok is false for other
// paths, op nil for another method on one of them.
func routeAccount(method, escapedPath string) (string, operation, bool) {
	switch escapedPath {
	case "/v2/email/account":
		if method == http.MethodGet {
			return "GetAccount", (*Handler).getAccount, true
		}
		return "", nil, true
	case "/v2/email/account/sending":
		if method == http.MethodPut {
			return "PutAccountSendingAttributes", (*Handler).putAccountSendingAttributes, true
		}
		return "", nil, true
	}
	return "", nil, false
}

// sendError maps the kinds of sending that v2 does not send as
// BadRequestException; nil for the others.
func sendError(e *registry.Error) *api.Error {
	switch e.Kind {
	case registry.Paused:
		return &api.Error{Status: http.StatusBadRequest, Code: "SendingPausedException", Message: e.Message}
	case registry.MailFromNotVerified:
		return &api.Error{Status: http.StatusBadRequest, Code: "MailFromDomainNotVerifiedException", Message: e.Message}
	case registry.AccessDenied:
		// Not in the model: rest-json's common error, 403.
		return &api.Error{Status: http.StatusForbidden, Code: "AccessDeniedException", Message: e.Message}
	}
	return nil
}

type sendQuota struct {
	Max24HourSend   float64
	MaxSendRate     float64
	SentLast24Hours float64
}

// getAccount shows what Sesame keeps: the sandbox, the pause and the
// quotas. Enforcement is always HEALTHY (Sesame has no reputation), and
// Details are left out: production access is granted with `sesame
// accounts sending`, not requested with PutAccountDetails.
func (h *Handler) getAccount(r *request) (any, error) {
	a, err := h.Registry.SendingAccount(r.ctx, r.scope)
	if err != nil {
		return nil, err
	}
	return struct {
		DedicatedIpAutoWarmupEnabled bool
		EnforcementStatus            string
		ProductionAccessEnabled      bool
		SendQuota                    sendQuota
		SendingEnabled               bool
		SuppressionAttributes        struct{ SuppressedReasons []string }
	}{
		EnforcementStatus:       "HEALTHY",
		ProductionAccessEnabled: a.Production,
		SendQuota:               sendQuota{a.Quota.Max24HourSend, a.Quota.MaxSendRate, a.SentLast24Hours},
		SendingEnabled:          a.Enabled,
		SuppressionAttributes:   struct{ SuppressedReasons []string }{[]string{}},
	}, nil
}

// putAccountSendingAttributes: an absent SendingEnabled is false, since
// the SDKs leave a false boolean out.
func (h *Handler) putAccountSendingAttributes(r *request) (any, error) {
	var in struct{ SendingEnabled bool }
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if err := h.Registry.SetSendingEnabled(r.ctx, r.scope, in.SendingEnabled); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

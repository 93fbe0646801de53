package sesv2

import (
	"net/http"
	"strconv"
	"time"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/verify"
)

// The Sesame extension to the v2 API: what the verifier saw. SES keeps no
// such evidence; the paths sit under the identity, signed like the rest:
//
//	GET  /v2/email/identities/{identity}/sesame/checks?Limit=N  the report
//	POST /v2/email/identities/{identity}/sesame/checks          check now, then the report
//
// The body is verify.Report as JSON.

func (h *Handler) getChecks(r *request) (any, error) {
	return h.report(r)
}

func (h *Handler) checkNow(r *request) (any, error) {
	if h.Verifier == nil {
		return nil, errUnknownOperation(r.http.Method, r.http.URL.Path)
	}
	id, err := h.Registry.Get(r.ctx, r.scope, r.name)
	if err != nil {
		return nil, err
	}
	if _, err := h.Verifier.CheckNow(r.ctx, id.Key); err != nil {
		return nil, err
	}
	return h.report(r)
}

func (h *Handler) report(r *request) (any, error) {
	if h.Checks == nil {
		return nil, errUnknownOperation(r.http.Method, r.http.URL.Path)
	}
	limit := 50
	if s := r.http.URL.Query().Get("Limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "Invalid Limit %q: use a whole number from 1 to 200.", s)
		}
		limit = n
	}
	id, err := h.Registry.Get(r.ctx, r.scope, r.name)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	if h.Registry.Now != nil {
		now = h.Registry.Now().UTC()
	}
	return verify.BuildReport(r.ctx, h.Checks, id, h.Registry.Policies, now, limit)
}

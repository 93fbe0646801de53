package sesv2

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/registry"
)

// The identity settings beyond verification:
//
//	PUT    /v2/email/identities/{EmailIdentity}/feedback                Feedback forwarding
//	PUT    /v2/email/identities/{EmailIdentity}/configuration-set       Default configuration set
//	GET    /v2/email/identities/{EmailIdentity}/policies                Policies
//	POST   /v2/email/identities/{EmailIdentity}/policies/{PolicyName}   Create a policy
//	PUT    /v2/email/identities/{EmailIdentity}/policies/{PolicyName}   Update it
//	DELETE /v2/email/identities/{EmailIdentity}/policies/{PolicyName}   Delete it

// routeSettings is route for the sub-paths above of an identity; ok is
// false for any other. sub is still escaped. The policy name is read
// again by the operation (policyName), so route keeps one path parameter.
func routeSettings(method, sub string) (n string, op operation, policy string, ok bool, err error) {
	switch {
	case sub == "feedback" && method == http.MethodPut:
		return "PutEmailIdentityFeedbackAttributes", (*Handler).putFeedbackAttributes, "", true, nil
	case sub == "configuration-set" && method == http.MethodPut:
		return "PutEmailIdentityConfigurationSetAttributes", (*Handler).putConfigurationSetAttributes, "", true, nil
	case sub == "policies" && method == http.MethodGet:
		return "GetEmailIdentityPolicies", (*Handler).getPolicies, "", true, nil
	}
	p, found := strings.CutPrefix(sub, "policies/")
	if !found {
		return "", nil, "", false, nil
	}
	name, uerr := url.PathUnescape(p)
	if uerr != nil || name == "" || strings.Contains(name, "/") {
		return "", nil, "", true, api.Errorf(http.StatusBadRequest, "BadRequestException", "The policy name in the path %q is not correctly escaped.", sub)
	}
	switch method {
	case http.MethodPost:
		return "CreateEmailIdentityPolicy", (*Handler).createPolicy, name, true, nil
	case http.MethodPut:
		return "UpdateEmailIdentityPolicy", (*Handler).updatePolicy, name, true, nil
	case http.MethodDelete:
		return "DeleteEmailIdentityPolicy", (*Handler).deletePolicy, name, true, nil
	}
	return "", nil, "", false, nil
}

// policyName is the {PolicyName} of the request's path, which
// routeSettings checked.
func (r *request) policyName() string {
	p := r.http.URL.EscapedPath()
	name, _ := url.PathUnescape(p[strings.LastIndex(p, "/")+1:])
	return name
}

func policiesOut(ps map[string]string) map[string]string {
	if ps == nil {
		return map[string]string{}
	}
	return ps
}

func (h *Handler) putFeedbackAttributes(r *request) (any, error) {
	var in struct{ EmailForwardingEnabled bool }
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if _, err := h.Registry.SetFeedbackForwarding(r.ctx, r.scope, r.name, in.EmailForwardingEnabled, false); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (h *Handler) putConfigurationSetAttributes(r *request) (any, error) {
	var in struct{ ConfigurationSetName string }
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if _, err := h.Registry.SetDefaultConfigurationSet(r.ctx, r.scope, r.name, in.ConfigurationSetName); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (h *Handler) getPolicies(r *request) (any, error) {
	ps, err := h.Registry.IdentityPolicies(r.ctx, r.scope, r.name, nil)
	if err != nil {
		return nil, err
	}
	return struct{ Policies map[string]string }{policiesOut(ps)}, nil
}

func (h *Handler) putPolicy(r *request, mode registry.PolicyMode) (any, error) {
	var in struct{ Policy string }
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if err := h.Registry.PutPolicy(r.ctx, r.scope, r.name, r.policyName(), in.Policy, mode); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (h *Handler) createPolicy(r *request) (any, error) { return h.putPolicy(r, registry.PolicyCreate) }
func (h *Handler) updatePolicy(r *request) (any, error) { return h.putPolicy(r, registry.PolicyUpdate) }

func (h *Handler) deletePolicy(r *request) (any, error) {
	if err := h.Registry.DeletePolicy(r.ctx, r.scope, r.name, r.policyName(), true); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

package sesv1

import (
	"net/http"
	"strings"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/registry"
)

type action func(h *Handler, r *request) (*result, error)

// actions are the v1 operations served, one method each.
var actions map[string]action

func init() {
	actions = map[string]action{
		"VerifyDomainIdentity":                (*Handler).verifyDomainIdentity,
		"VerifyDomainDkim":                    (*Handler).verifyDomainDkim,
		"VerifyEmailIdentity":                 (*Handler).verifyEmailIdentity,
		"VerifyEmailAddress":                  (*Handler).verifyEmailAddress,
		"GetIdentityVerificationAttributes":   (*Handler).getIdentityVerificationAttributes,
		"GetIdentityDkimAttributes":           (*Handler).getIdentityDkimAttributes,
		"GetIdentityMailFromDomainAttributes": (*Handler).getIdentityMailFromDomainAttributes,
		"SetIdentityDkimEnabled":              (*Handler).setIdentityDkimEnabled,
		"SetIdentityMailFromDomain":           (*Handler).setIdentityMailFromDomain,
		"ListIdentities":                      (*Handler).listIdentities,
		"ListVerifiedEmailAddresses":          (*Handler).listVerifiedEmailAddresses,
		"DeleteIdentity":                      (*Handler).deleteIdentity,
		"DeleteVerifiedEmailAddress":          (*Handler).deleteVerifiedEmailAddress,
		// Custom verification email (templates.go).
		"CreateCustomVerificationEmailTemplate": (*Handler).createCustomVerificationEmailTemplate,
		"GetCustomVerificationEmailTemplate":    (*Handler).getCustomVerificationEmailTemplate,
		"UpdateCustomVerificationEmailTemplate": (*Handler).updateCustomVerificationEmailTemplate,
		"DeleteCustomVerificationEmailTemplate": (*Handler).deleteCustomVerificationEmailTemplate,
		"ListCustomVerificationEmailTemplates":  (*Handler).listCustomVerificationEmailTemplates,
		"SendCustomVerificationEmail":           (*Handler).sendCustomVerificationEmail,
		// Notifications and policies (settings.go).
		"GetIdentityNotificationAttributes":        (*Handler).getIdentityNotificationAttributes,
		"SetIdentityNotificationTopic":             (*Handler).setIdentityNotificationTopic,
		"SetIdentityFeedbackForwardingEnabled":     (*Handler).setIdentityFeedbackForwardingEnabled,
		"SetIdentityHeadersInNotificationsEnabled": (*Handler).setIdentityHeadersInNotificationsEnabled,
		"PutIdentityPolicy":                        (*Handler).putIdentityPolicy,
		"GetIdentityPolicies":                      (*Handler).getIdentityPolicies,
		"ListIdentityPolicies":                     (*Handler).listIdentityPolicies,
		"DeleteIdentityPolicy":                     (*Handler).deleteIdentityPolicy,
		// Email templates (emailtemplates.go).
		"CreateTemplate":     (*Handler).createTemplate,
		"GetTemplate":        (*Handler).getTemplate,
		"UpdateTemplate":     (*Handler).updateTemplate,
		"DeleteTemplate":     (*Handler).deleteTemplate,
		"ListTemplates":      (*Handler).listTemplates,
		"TestRenderTemplate": (*Handler).testRenderTemplate,
		// The account's sending state (account.go).
		"GetSendQuota":                (*Handler).getSendQuota,
		"GetSendStatistics":           (*Handler).getSendStatistics,
		"GetAccountSendingEnabled":    (*Handler).getAccountSendingEnabled,
		"UpdateAccountSendingEnabled": (*Handler).updateAccountSendingEnabled,
		// Sending (send.go).
		"SendEmail":              (*Handler).sendEmail,
		"SendRawEmail":           (*Handler).sendRawEmail,
		"SendTemplatedEmail":     (*Handler).sendTemplatedEmail,
		"SendBulkTemplatedEmail": (*Handler).sendBulkTemplatedEmail,
	}
}

func (h *Handler) verifyDomainIdentity(r *request) (*result, error) {
	d, err := r.params.required("Domain")
	if err != nil {
		return nil, err
	}
	id, err := h.Registry.VerifyDomainIdentity(r.ctx, r.scope, d)
	if err != nil {
		return nil, err
	}
	var out result
	out.elem("VerificationToken", id.Token)
	return &out, nil
}

func (h *Handler) verifyDomainDkim(r *request) (*result, error) {
	d, err := r.params.required("Domain")
	if err != nil {
		return nil, err
	}
	id, err := h.Registry.VerifyDomainDkim(r.ctx, r.scope, d)
	if err != nil {
		return nil, err
	}
	var out result
	out.members("DkimTokens", id.DKIM.Tokens)
	return &out, nil
}

func (h *Handler) verifyEmailIdentity(r *request) (*result, error) {
	e, err := r.params.required("EmailAddress")
	if err != nil {
		return nil, err
	}
	if _, err := h.Registry.VerifyEmailIdentity(r.ctx, r.scope, e); err != nil {
		return nil, err
	}
	return &result{}, nil
}

func (h *Handler) verifyEmailAddress(r *request) (*result, error) {
	out, err := h.verifyEmailIdentity(r)
	if out != nil {
		out.noResult = true
	}
	return out, err
}

// identities reads the Identities list of a Get*Attributes call.
func (h *Handler) identities(r *request) (map[string]*identity.Identity, []string, error) {
	ids, err := r.params.list("Identities")
	if err != nil {
		return nil, nil, err
	}
	if len(ids) == 0 && !r.params.has("Identities") {
		if _, err := r.params.required("Identities"); err != nil {
			return nil, nil, err
		}
	}
	m, err := h.Registry.GetMany(r.ctx, r.scope, ids)
	return m, ids, err
}

// each calls fn for each found identity once, in request order.
func each(m map[string]*identity.Identity, order []string, fn func(name string, id *identity.Identity)) {
	seen := make(map[string]bool, len(order))
	for _, n := range order {
		if id := m[n]; id != nil && !seen[n] {
			seen[n] = true
			fn(n, id)
		}
	}
}

func (h *Handler) getIdentityVerificationAttributes(r *request) (*result, error) {
	m, order, err := h.identities(r)
	if err != nil {
		return nil, err
	}
	var out result
	out.open("VerificationAttributes")
	each(m, order, func(n string, id *identity.Identity) {
		out.open("entry")
		out.elem("key", n)
		out.open("value")
		out.elem("VerificationStatus", string(id.StatusV1()))
		if id.IsDomain() {
			out.elem("VerificationToken", id.Token)
		}
		out.close("value")
		out.close("entry")
	})
	out.close("VerificationAttributes")
	return &out, nil
}

func (h *Handler) getIdentityDkimAttributes(r *request) (*result, error) {
	m, order, err := h.identities(r)
	if err != nil {
		return nil, err
	}
	var out result
	out.open("DkimAttributes")
	each(m, order, func(n string, id *identity.Identity) {
		v := registry.OwnDKIM(id)
		out.open("entry")
		out.elem("key", n)
		out.open("value")
		out.boolean("DkimEnabled", v.Enabled)
		out.elem("DkimVerificationStatus", string(v.Status))
		if len(v.Tokens) > 0 {
			if v.Selector == "" { // BYODKIM has no tokens in v1, as observers report for v2
				out.members("DkimTokens", v.Tokens)
			}
		}
		out.close("value")
		out.close("entry")
	})
	out.close("DkimAttributes")
	return &out, nil
}

func (h *Handler) getIdentityMailFromDomainAttributes(r *request) (*result, error) {
	m, order, err := h.identities(r)
	if err != nil {
		return nil, err
	}
	var out result
	out.open("MailFromDomainAttributes")
	each(m, order, func(n string, id *identity.Identity) {
		out.open("entry")
		out.elem("key", n)
		out.open("value")
		// Without a custom MAIL FROM domain SES sends only the behaviour.
		if id.MailFrom.Domain != "" {
			out.elem("MailFromDomain", id.MailFrom.Domain)
			out.elem("MailFromDomainStatus", string(id.MailFrom.Check.Status))
		}
		out.elem("BehaviorOnMXFailure", string(id.MailFrom.Behavior))
		out.close("value")
		out.close("entry")
	})
	out.close("MailFromDomainAttributes")
	return &out, nil
}

func (h *Handler) setIdentityDkimEnabled(r *request) (*result, error) {
	n, err := r.params.required("Identity")
	if err != nil {
		return nil, err
	}
	on, err := r.params.boolean("DkimEnabled")
	if err != nil {
		return nil, err
	}
	if _, err := h.Registry.SetDKIMEnabled(r.ctx, r.scope, n, on); err != nil {
		return nil, err
	}
	return &result{}, nil
}

func (h *Handler) setIdentityMailFromDomain(r *request) (*result, error) {
	n, err := r.params.required("Identity")
	if err != nil {
		return nil, err
	}
	b := r.params.get("BehaviorOnMXFailure")
	if b != "" && b != string(identity.UseDefaultValue) && b != string(identity.RejectMessage) {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "Invalid BehaviorOnMXFailure %q: use UseDefaultValue or RejectMessage.", b)
	}
	if _, err := h.Registry.SetMailFrom(r.ctx, r.scope, n, r.params.get("MailFromDomain"), b); err != nil {
		return nil, err
	}
	return &result{}, nil
}

func (h *Handler) listIdentities(r *request) (*result, error) {
	var kind names.Kind
	switch t := r.params.get("IdentityType"); t {
	case "":
	case "EmailAddress":
		kind = names.KindEmail
	case "Domain":
		kind = names.KindDomain
	default:
		return nil, api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "Invalid IdentityType %q: use EmailAddress or Domain, or leave it out to list both.", t)
	}
	// MaxItems: 1-1000; the default when it is absent is unconfirmed for
	// SES, and 1000 gives a caller who does not page everything it can.
	limit, err := r.params.intRange("MaxItems", 1, 1000, 1000)
	if err != nil {
		return nil, err
	}
	ids, next, err := h.Registry.List(r.ctx, r.scope, registry.ListQuery{Kind: kind, NextToken: r.params.get("NextToken"), Limit: limit})
	if err != nil {
		return nil, err
	}
	var out result
	out.open("Identities")
	for _, id := range ids {
		out.elem("member", id.Name)
	}
	out.close("Identities")
	if next != "" {
		out.elem("NextToken", next)
	}
	return &out, nil
}

func (h *Handler) listVerifiedEmailAddresses(r *request) (*result, error) {
	addrs, err := h.Registry.ListVerifiedEmailAddresses(r.ctx, r.scope)
	if err != nil {
		return nil, err
	}
	var out result
	out.members("VerifiedEmailAddresses", addrs)
	return &out, nil
}

func (h *Handler) deleteIdentity(r *request) (*result, error) {
	n, err := r.params.required("Identity")
	if err != nil {
		return nil, err
	}
	if _, err := h.Registry.Delete(r.ctx, r.scope, n); err != nil {
		return nil, err
	}
	return &result{}, nil
}

func (h *Handler) deleteVerifiedEmailAddress(r *request) (*result, error) {
	e, err := r.params.required("EmailAddress")
	if err != nil {
		return nil, err
	}
	if err := h.Registry.DeleteEmail(r.ctx, r.scope, e); err != nil {
		return nil, err
	}
	return &result{noResult: true}, nil
}

// sesActions are the other operations of the SES v1 API: they are real SES
// calls that this server does not implement (yet), which deserve a clearer
// message than an unknown action.
var sesActions = strings.Fields(`CloneReceiptRuleSet CreateConfigurationSet CreateConfigurationSetEventDestination
CreateConfigurationSetTrackingOptions CreateCustomVerificationEmailTemplate CreateReceiptFilter CreateReceiptRule
CreateReceiptRuleSet CreateTemplate DeleteConfigurationSet DeleteConfigurationSetEventDestination
DeleteConfigurationSetTrackingOptions DeleteCustomVerificationEmailTemplate DeleteIdentityPolicy DeleteReceiptFilter
DeleteReceiptRule DeleteReceiptRuleSet DeleteTemplate DescribeActiveReceiptRuleSet DescribeConfigurationSet
DescribeReceiptRule DescribeReceiptRuleSet GetAccountSendingEnabled GetCustomVerificationEmailTemplate
GetIdentityNotificationAttributes GetIdentityPolicies GetSendQuota GetSendStatistics GetTemplate
ListConfigurationSets ListCustomVerificationEmailTemplates ListIdentityPolicies ListReceiptFilters
ListReceiptRuleSets ListTemplates PutConfigurationSetDeliveryOptions PutIdentityPolicy ReorderReceiptRuleSet
SendBounce SendBulkTemplatedEmail SendCustomVerificationEmail SendEmail SendRawEmail SendTemplatedEmail
SetActiveReceiptRuleSet SetIdentityFeedbackForwardingEnabled SetIdentityHeadersInNotificationsEnabled
SetIdentityNotificationTopic SetReceiptRulePosition TestRenderTemplate UpdateAccountSendingEnabled
UpdateConfigurationSetEventDestination UpdateConfigurationSetReputationMetricsEnabled
UpdateConfigurationSetSendingEnabled UpdateConfigurationSetTrackingOptions UpdateCustomVerificationEmailTemplate
UpdateReceiptRule UpdateTemplate`)

func unknownAction(a string) error {
	for _, s := range sesActions {
		if s == a {
			return api.Errorf(http.StatusBadRequest, "InvalidAction", "The action %s is an SES action that this server does not implement; it serves the identity, template and sending actions (VerifyDomainIdentity, ListIdentities, SendEmail, CreateTemplate...).", a)
		}
	}
	return api.Errorf(http.StatusBadRequest, "InvalidAction", "The action %q is not valid for this web service: check its spelling against the SES API (version %s).", a, Version)
}

package sesv1

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/store"
)

// The custom verification email operations. Their template errors have
// their own v1 codes, CustomVerificationEmailTemplate{DoesNotExist,
// AlreadyExists}, where the identity operations use generic ones: the
// registry marks them with registry.ErrTemplate, and mailError maps them.

// mailError maps the kinds of verification mail and templates; nil for
// the others.
func mailError(e *registry.Error) *api.Error {
	code := ""
	switch {
	case e.Kind == registry.NotFound && errors.Is(e, registry.ErrTemplate):
		code = "CustomVerificationEmailTemplateDoesNotExist"
	case e.Kind == registry.AlreadyExists && errors.Is(e, registry.ErrTemplate):
		code = "CustomVerificationEmailTemplateAlreadyExists"
	case e.Kind == registry.Throttled, e.Kind == registry.QuotaExceeded:
		code = "Throttling"
	case e.Kind == registry.FromNotVerified:
		code = "FromEmailAddressNotVerified"
	case e.Kind == registry.InvalidContent:
		code = "CustomVerificationEmailInvalidContent"
	case e.Kind == registry.ConfigSetNotFound:
		code = "ConfigurationSetDoesNotExist"
	case e.Kind == registry.Rejected:
		code = "MessageRejected"
	default:
		return nil
	}
	return &api.Error{Status: http.StatusBadRequest, Code: code, Message: e.Message}
}

// optional returns a member that may be absent: nil when it is.
func (p params) optional(name string) *string {
	if !p.has(name) {
		return nil
	}
	v := p.get(name)
	return &v
}

func (h *Handler) createCustomVerificationEmailTemplate(r *request) (*result, error) {
	var in registry.TemplateInput
	fields := []struct {
		name string
		dst  **string
	}{{"FromEmailAddress", &in.From}, {"TemplateSubject", &in.Subject}, {"TemplateContent", &in.Content},
		{"SuccessRedirectionURL", &in.SuccessURL}, {"FailureRedirectionURL", &in.FailureURL}}
	name, err := r.params.required("TemplateName")
	if err != nil {
		return nil, err
	}
	for _, f := range fields {
		v, err := r.params.required(f.name)
		if err != nil {
			return nil, err
		}
		*f.dst = &v
	}
	if _, err := h.Registry.CreateTemplate(r.ctx, r.scope, name, in); err != nil {
		return nil, err
	}
	return &result{}, nil
}

func (h *Handler) getCustomVerificationEmailTemplate(r *request) (*result, error) {
	name, err := r.params.required("TemplateName")
	if err != nil {
		return nil, err
	}
	t, err := h.Registry.GetTemplate(r.ctx, r.scope, name)
	if err != nil {
		return nil, err
	}
	var out result
	templateFields(&out, t)
	out.elem("TemplateContent", t.Content)
	return &out, nil
}

func templateFields(out *result, t *store.Template) {
	out.elem("TemplateName", t.Name)
	out.elem("FromEmailAddress", t.From)
	out.elem("TemplateSubject", t.Subject)
	out.elem("SuccessRedirectionURL", t.SuccessURL)
	out.elem("FailureRedirectionURL", t.FailureURL)
}

func (h *Handler) updateCustomVerificationEmailTemplate(r *request) (*result, error) {
	name, err := r.params.required("TemplateName")
	if err != nil {
		return nil, err
	}
	in := registry.TemplateInput{
		From:       r.params.optional("FromEmailAddress"),
		Subject:    r.params.optional("TemplateSubject"),
		Content:    r.params.optional("TemplateContent"),
		SuccessURL: r.params.optional("SuccessRedirectionURL"),
		FailureURL: r.params.optional("FailureRedirectionURL"),
	}
	if _, err := h.Registry.UpdateTemplate(r.ctx, r.scope, name, in); err != nil {
		return nil, err
	}
	return &result{}, nil
}

// deleteCustomVerificationEmailTemplate succeeds for an unknown template:
// the v1 model gives the operation no error.
func (h *Handler) deleteCustomVerificationEmailTemplate(r *request) (*result, error) {
	name, err := r.params.required("TemplateName")
	if err != nil {
		return nil, err
	}
	if _, err := h.Registry.DeleteTemplate(r.ctx, r.scope, name); err != nil {
		return nil, err
	}
	return &result{}, nil
}

func (h *Handler) listCustomVerificationEmailTemplates(r *request) (*result, error) {
	// MaxResults: "if you specify a value less than 1 or greater than 50,
	// the operation returns up to 50 results."
	limit, err := strconv.Atoi(r.params.get("MaxResults"))
	if err != nil || limit < 1 || limit > 50 {
		limit = 50
	}
	ts, next, err := h.Registry.ListTemplates(r.ctx, r.scope, r.params.get("NextToken"), limit)
	if err != nil {
		return nil, err
	}
	var out result
	out.open("CustomVerificationEmailTemplates")
	for _, t := range ts {
		out.open("member")
		templateFields(&out, t)
		out.close("member")
	}
	out.close("CustomVerificationEmailTemplates")
	if next != "" {
		out.elem("NextToken", next)
	}
	return &out, nil
}

func (h *Handler) sendCustomVerificationEmail(r *request) (*result, error) {
	addr, err := r.params.required("EmailAddress")
	if err != nil {
		return nil, err
	}
	name, err := r.params.required("TemplateName")
	if err != nil {
		return nil, err
	}
	id, err := h.Registry.SendCustomVerificationEmail(r.ctx, r.scope, addr, name, r.params.get("ConfigurationSetName"))
	if err != nil {
		return nil, err
	}
	var out result
	out.elem("MessageId", id)
	return &out, nil
}

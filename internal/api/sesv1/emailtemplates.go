package sesv1

import (
	"errors"
	"net/http"
	"time"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/registry"
)

// The email template operations: CreateTemplate and kin, and
// TestRenderTemplate. Their errors have v1 codes of their own
// (TemplateDoesNotExist, InvalidTemplate and the rendering errors), which
// sendError maps.

// sendError maps the kinds of email templates and sending; nil for the
// others.
func sendError(e *registry.Error) *api.Error {
	code := ""
	switch {
	case e.Kind == registry.NotFound && errors.Is(e, registry.ErrEmailTemplate):
		code = "TemplateDoesNotExist"
	case errors.Is(e, registry.ErrInvalidTemplate):
		code = "InvalidTemplate"
	case errors.Is(e, registry.ErrMissingAttribute):
		code = "MissingRenderingAttribute"
	case errors.Is(e, registry.ErrRenderingParameter):
		code = "InvalidRenderingParameter"
	case e.Kind == registry.Paused:
		code = "AccountSendingPausedException"
	case e.Kind == registry.MailFromNotVerified:
		code = "MailFromDomainNotVerifiedException"
	case e.Kind == registry.AccessDenied:
		// Not in the model: the Query protocol's common error, 403.
		return &api.Error{Status: http.StatusForbidden, Code: "AccessDenied", Message: e.Message}
	default:
		return nil
	}
	return &api.Error{Status: http.StatusBadRequest, Code: code, Message: e.Message}
}

// timestamp is the v1 form of a time: ISO 8601 in UTC with milliseconds.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// emailTemplate reads the Template structure of CreateTemplate and
// UpdateTemplate.
func emailTemplate(r *request) (string, registry.EmailTemplateInput, error) {
	name, err := r.params.required("Template.TemplateName")
	if err != nil {
		return "", registry.EmailTemplateInput{}, err
	}
	return name, registry.EmailTemplateInput{Subject: r.params.get("Template.SubjectPart"),
		Text: r.params.get("Template.TextPart"), HTML: r.params.get("Template.HtmlPart")}, nil
}

func (h *Handler) createTemplate(r *request) (*result, error) {
	name, in, err := emailTemplate(r)
	if err != nil {
		return nil, err
	}
	if _, err := h.Registry.CreateEmailTemplate(r.ctx, r.scope, name, in); err != nil {
		return nil, err
	}
	return &result{}, nil
}

func (h *Handler) updateTemplate(r *request) (*result, error) {
	name, in, err := emailTemplate(r)
	if err != nil {
		return nil, err
	}
	if _, err := h.Registry.UpdateEmailTemplate(r.ctx, r.scope, name, in); err != nil {
		return nil, err
	}
	return &result{}, nil
}

func (h *Handler) getTemplate(r *request) (*result, error) {
	name, err := r.params.required("TemplateName")
	if err != nil {
		return nil, err
	}
	t, err := h.Registry.GetEmailTemplate(r.ctx, r.scope, name)
	if err != nil {
		return nil, err
	}
	var out result
	out.open("Template")
	out.elem("TemplateName", t.Name)
	writePart(&out, "SubjectPart", t.Subject)
	writePart(&out, "TextPart", t.Text)
	writePart(&out, "HtmlPart", t.HTML)
	out.close("Template")
	return &out, nil
}

// writePart leaves out a part the template does not have, as SES does.
func writePart(out *result, name, v string) {
	if v != "" {
		out.elem(name, v)
	}
}

// DeleteTemplate succeeds for a template that does not exist, as SES's
// (the model declares no error for it).
func (h *Handler) deleteTemplate(r *request) (*result, error) {
	name, err := r.params.required("TemplateName")
	if err != nil {
		return nil, err
	}
	if _, err := h.Registry.DeleteEmailTemplate(r.ctx, r.scope, name); err != nil {
		return nil, err
	}
	return &result{}, nil
}

func (h *Handler) listTemplates(r *request) (*result, error) {
	// "If more than 100 items are requested, the page size will
	// automatically set to 100"; 10 is the default.
	n, err := r.params.intRange("MaxItems", 1, 1<<31-1, 10)
	if err != nil {
		return nil, err
	}
	ts, next, err := h.Registry.ListEmailTemplates(r.ctx, r.scope, r.params.get("NextToken"), min(n, 100))
	if err != nil {
		return nil, err
	}
	var out result
	out.open("TemplatesMetadata")
	for _, t := range ts {
		out.open("member")
		out.elem("Name", t.Name)
		out.elem("CreatedTimestamp", timestamp(t.Created))
		out.close("member")
	}
	out.close("TemplatesMetadata")
	if next != "" {
		out.elem("NextToken", next)
	}
	return &out, nil
}

func (h *Handler) testRenderTemplate(r *request) (*result, error) {
	name, err := r.params.required("TemplateName")
	if err != nil {
		return nil, err
	}
	data, err := r.params.required("TemplateData")
	if err != nil {
		return nil, err
	}
	rd, err := h.Registry.RenderEmailTemplate(r.ctx, r.scope, name, data)
	if err != nil {
		return nil, err
	}
	var out result
	out.elem("RenderedTemplate", rd.MIME(""))
	return &out, nil
}

package sesv2

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/store"
)

// The custom verification email operations:
//
//	POST   /v2/email/custom-verification-email-templates              Create
//	GET    /v2/email/custom-verification-email-templates              List
//	GET    /v2/email/custom-verification-email-templates/{TemplateName} Get
//	PUT    /v2/email/custom-verification-email-templates/{TemplateName} Update
//	DELETE /v2/email/custom-verification-email-templates/{TemplateName} Delete
//	POST   /v2/email/outbound-custom-verification-emails              Send
const (
	templatesPath = "/v2/email/custom-verification-email-templates"
	sendPath      = "/v2/email/outbound-custom-verification-emails"
)

// routeTemplates is route for the paths above; ok is false for any other.
func routeTemplates(method, escapedPath string) (name string, op operation, param string, ok bool, err error) {
	if p := strings.TrimSuffix(escapedPath, "/"); p == sendPath {
		if method == http.MethodPost {
			return "SendCustomVerificationEmail", (*Handler).sendCustomVerificationEmail, "", true, nil
		}
		return "", nil, "", true, errUnknownOperation(method, escapedPath)
	}
	rest, found := strings.CutPrefix(escapedPath, templatesPath)
	if !found || (rest != "" && rest[0] != '/') {
		return "", nil, "", false, nil
	}
	if rest == "" || rest == "/" {
		switch method {
		case http.MethodPost:
			return "CreateCustomVerificationEmailTemplate", (*Handler).createTemplate, "", true, nil
		case http.MethodGet:
			return "ListCustomVerificationEmailTemplates", (*Handler).listTemplates, "", true, nil
		}
		return "", nil, "", true, errUnknownOperation(method, escapedPath)
	}
	tn, uerr := url.PathUnescape(rest[1:])
	if uerr != nil || tn == "" || strings.Contains(tn, "/") {
		return "", nil, "", true, errUnknownOperation(method, escapedPath)
	}
	switch method {
	case http.MethodGet:
		return "GetCustomVerificationEmailTemplate", (*Handler).getTemplate, tn, true, nil
	case http.MethodPut:
		return "UpdateCustomVerificationEmailTemplate", (*Handler).updateTemplate, tn, true, nil
	case http.MethodDelete:
		return "DeleteCustomVerificationEmailTemplate", (*Handler).deleteTemplate, tn, true, nil
	}
	return "", nil, "", true, errUnknownOperation(method, escapedPath)
}

// mailError maps the kinds of verification mail and templates that v2
// does not send as BadRequestException; nil for the others.
func mailError(e *registry.Error) *api.Error {
	switch e.Kind {
	case registry.Throttled:
		return &api.Error{Status: http.StatusTooManyRequests, Code: "TooManyRequestsException", Message: e.Message}
	case registry.QuotaExceeded:
		return &api.Error{Status: http.StatusBadRequest, Code: "LimitExceededException", Message: e.Message}
	case registry.ConfigSetNotFound:
		return &api.Error{Status: http.StatusNotFound, Code: "NotFoundException", Message: e.Message}
	case registry.Rejected:
		return &api.Error{Status: http.StatusBadRequest, Code: "MessageRejected", Message: e.Message}
	}
	return nil
}

type templateInput struct {
	TemplateName          *string
	FromEmailAddress      *string
	TemplateSubject       *string
	TemplateContent       *string
	SuccessRedirectionURL *string
	FailureRedirectionURL *string
	Tags                  []tag
}

type templateMetadata struct {
	TemplateName          string
	FromEmailAddress      string
	TemplateSubject       string
	SuccessRedirectionURL string
	FailureRedirectionURL string
}

type templateOutput struct {
	templateMetadata
	TemplateContent string
	Tags            []tag
}

type listTemplatesOutput struct {
	CustomVerificationEmailTemplates []templateMetadata
	NextToken                        string `json:",omitempty"`
}

func metadata(t *store.Template) templateMetadata {
	return templateMetadata{TemplateName: t.Name, FromEmailAddress: t.From, TemplateSubject: t.Subject,
		SuccessRedirectionURL: t.SuccessURL, FailureRedirectionURL: t.FailureURL}
}

func (in templateInput) registry() registry.TemplateInput {
	out := registry.TemplateInput{From: in.FromEmailAddress, Subject: in.TemplateSubject, Content: in.TemplateContent,
		SuccessURL: in.SuccessRedirectionURL, FailureURL: in.FailureRedirectionURL}
	for _, t := range in.Tags {
		out.Tags = append(out.Tags, identity.Tag{Key: t.Key, Value: t.Value})
	}
	return out
}

func (h *Handler) createTemplate(r *request) (any, error) {
	var in templateInput
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	name := ""
	if in.TemplateName != nil {
		name = *in.TemplateName
	}
	if name == "" {
		return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "TemplateName is required.")
	}
	if _, err := h.Registry.CreateTemplate(r.ctx, r.scope, name, in.registry()); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (h *Handler) getTemplate(r *request) (any, error) {
	t, err := h.Registry.GetTemplate(r.ctx, r.scope, r.name)
	if err != nil {
		return nil, err
	}
	return templateOutput{templateMetadata: metadata(t), TemplateContent: t.Content, Tags: tagsOut(t.Tags)}, nil
}

// updateTemplate needs every field, as the v2 model says (v1 needs only the
// name); tags are not changed.
func (h *Handler) updateTemplate(r *request) (any, error) {
	var in templateInput
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"FromEmailAddress", in.FromEmailAddress}, {"TemplateSubject", in.TemplateSubject}, {"TemplateContent", in.TemplateContent},
		{"SuccessRedirectionURL", in.SuccessRedirectionURL}, {"FailureRedirectionURL", in.FailureRedirectionURL}} {
		if f.v == nil {
			return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "%s is required.", f.name)
		}
	}
	if _, err := h.Registry.UpdateTemplate(r.ctx, r.scope, r.name, in.registry()); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (h *Handler) deleteTemplate(r *request) (any, error) {
	ok, err := h.Registry.DeleteTemplate(r.ctx, r.scope, r.name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, api.Errorf(http.StatusNotFound, "NotFoundException", "Custom verification email template %s does not exist.", r.name)
	}
	return struct{}{}, nil
}

func (h *Handler) listTemplates(r *request) (any, error) {
	q := r.http.URL.Query()
	limit := 50
	if s := q.Get("PageSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 50 {
			return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "Invalid PageSize %q: use a whole number from 1 to 50.", s)
		}
		limit = n
	}
	ts, next, err := h.Registry.ListTemplates(r.ctx, r.scope, q.Get("NextToken"), limit)
	if err != nil {
		return nil, err
	}
	out := listTemplatesOutput{CustomVerificationEmailTemplates: make([]templateMetadata, 0, len(ts)), NextToken: next}
	for _, t := range ts {
		out.CustomVerificationEmailTemplates = append(out.CustomVerificationEmailTemplates, metadata(t))
	}
	return out, nil
}

func (h *Handler) sendCustomVerificationEmail(r *request) (any, error) {
	var in struct {
		EmailAddress         string
		TemplateName         string
		ConfigurationSetName string
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, v string }{{"EmailAddress", in.EmailAddress}, {"TemplateName", in.TemplateName}} {
		if f.v == "" {
			return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "%s is required.", f.name)
		}
	}
	id, err := h.Registry.SendCustomVerificationEmail(r.ctx, r.scope, in.EmailAddress, in.TemplateName, in.ConfigurationSetName)
	if err != nil {
		return nil, err
	}
	return struct{ MessageId string }{id}, nil
}

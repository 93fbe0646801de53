package sesv2

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/registry"
)

// The sending operations (email templates here, the account in
// account.go):
//
//	POST   /v2/email/templates                       CreateEmailTemplate
//	GET    /v2/email/templates                       ListEmailTemplates
//	GET    /v2/email/templates/{TemplateName}        GetEmailTemplate
//	PUT    /v2/email/templates/{TemplateName}        UpdateEmailTemplate
//	DELETE /v2/email/templates/{TemplateName}        DeleteEmailTemplate
//	POST   /v2/email/templates/{TemplateName}/render TestRenderEmailTemplate
//	GET    /v2/email/account                         GetAccount
//	PUT    /v2/email/account/sending                 PutAccountSendingAttributes
const emailTemplatesPath = "/v2/email/templates"

// routeSending is route for the paths above; ok is false for any other.
func routeSending(method, escapedPath string) (name string, op operation, param string, ok bool, err error) {
	n, op, ok := routeAccount(method, escapedPath)
	if !ok {
		n, op, ok = routeSend(method, escapedPath)
	}
	if ok {
		if op == nil {
			return "", nil, "", true, errUnknownOperation(method, escapedPath)
		}
		return n, op, "", true, nil
	}
	rest, found := strings.CutPrefix(escapedPath, emailTemplatesPath)
	if !found || (rest != "" && rest[0] != '/') {
		return "", nil, "", false, nil
	}
	if rest == "" || rest == "/" {
		switch method {
		case http.MethodPost:
			return "CreateEmailTemplate", (*Handler).createEmailTemplate, "", true, nil
		case http.MethodGet:
			return "ListEmailTemplates", (*Handler).listEmailTemplates, "", true, nil
		}
		return "", nil, "", true, errUnknownOperation(method, escapedPath)
	}
	seg, sub, _ := strings.Cut(rest[1:], "/")
	tn, uerr := url.PathUnescape(seg)
	if uerr != nil || tn == "" {
		return "", nil, "", true, errUnknownOperation(method, escapedPath)
	}
	switch {
	case sub == "" && method == http.MethodGet:
		return "GetEmailTemplate", (*Handler).getEmailTemplate, tn, true, nil
	case sub == "" && method == http.MethodPut:
		return "UpdateEmailTemplate", (*Handler).updateEmailTemplate, tn, true, nil
	case sub == "" && method == http.MethodDelete:
		return "DeleteEmailTemplate", (*Handler).deleteEmailTemplate, tn, true, nil
	case sub == "render" && method == http.MethodPost:
		return "TestRenderEmailTemplate", (*Handler).testRenderEmailTemplate, tn, true, nil
	}
	return "", nil, "", true, errUnknownOperation(method, escapedPath)
}

type emailTemplateContent struct {
	Subject string `json:",omitempty"`
	Text    string `json:",omitempty"`
	Html    string `json:",omitempty"`
}

func (c *emailTemplateContent) input() registry.EmailTemplateInput {
	return registry.EmailTemplateInput{Subject: c.Subject, Text: c.Text, HTML: c.Html}
}

type emailTemplateOutput struct {
	TemplateName    string
	TemplateContent emailTemplateContent
	Tags            []tag `json:",omitempty"`
}

func required(name string) error {
	return api.Errorf(http.StatusBadRequest, "BadRequestException", "%s is required.", name)
}

func (h *Handler) createEmailTemplate(r *request) (any, error) {
	var in struct {
		TemplateName    string
		TemplateContent *emailTemplateContent
		Tags            []tag
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if in.TemplateName == "" {
		return nil, required("TemplateName")
	}
	if in.TemplateContent == nil {
		return nil, required("TemplateContent")
	}
	t := in.TemplateContent.input()
	for _, tg := range in.Tags {
		t.Tags = append(t.Tags, identity.Tag{Key: tg.Key, Value: tg.Value})
	}
	if _, err := h.Registry.CreateEmailTemplate(r.ctx, r.scope, in.TemplateName, t); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (h *Handler) getEmailTemplate(r *request) (any, error) {
	t, err := h.Registry.GetEmailTemplate(r.ctx, r.scope, r.name)
	if err != nil {
		return nil, err
	}
	return emailTemplateOutput{TemplateName: t.Name, TemplateContent: emailTemplateContent{Subject: t.Subject, Text: t.Text, Html: t.HTML}, Tags: tagsOut(t.Tags)}, nil
}

func (h *Handler) updateEmailTemplate(r *request) (any, error) {
	var in struct{ TemplateContent *emailTemplateContent }
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if in.TemplateContent == nil {
		return nil, required("TemplateContent")
	}
	if _, err := h.Registry.UpdateEmailTemplate(r.ctx, r.scope, r.name, in.TemplateContent.input()); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (h *Handler) deleteEmailTemplate(r *request) (any, error) {
	ok, err := h.Registry.DeleteEmailTemplate(r.ctx, r.scope, r.name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, api.Errorf(http.StatusNotFound, "NotFoundException", "Template %s does not exist.", r.name)
	}
	return struct{}{}, nil
}

type emailTemplateMetadata struct {
	TemplateName     string
	CreatedTimestamp epoch
}

func (h *Handler) listEmailTemplates(r *request) (any, error) {
	q := r.http.URL.Query()
	limit := 10
	if s := q.Get("PageSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "Invalid PageSize %q: use a whole number from 1 to 100.", s)
		}
		limit = n
	}
	ts, next, err := h.Registry.ListEmailTemplates(r.ctx, r.scope, q.Get("NextToken"), limit)
	if err != nil {
		return nil, err
	}
	out := struct {
		TemplatesMetadata []emailTemplateMetadata
		NextToken         string `json:",omitempty"`
	}{TemplatesMetadata: make([]emailTemplateMetadata, 0, len(ts)), NextToken: next}
	for _, t := range ts {
		out.TemplatesMetadata = append(out.TemplatesMetadata, emailTemplateMetadata{t.Name, epoch(t.Created)})
	}
	return out, nil
}

func (h *Handler) testRenderEmailTemplate(r *request) (any, error) {
	var in struct{ TemplateData string }
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if in.TemplateData == "" {
		return nil, required("TemplateData")
	}
	rd, err := h.Registry.RenderEmailTemplate(r.ctx, r.scope, r.name, in.TemplateData)
	if err != nil {
		return nil, err
	}
	return struct{ RenderedTemplate string }{rd.MIME("")}, nil
}

package registry

import (
	"context"
	"errors"

	"github.com/mailgun/raymond/v2/parser"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// The limits of email templates
// (https://docs.aws.amazon.com/ses/latest/dg/quotas.html): per region, as
// every SES resource.
const (
	MaxEmailTemplates    = 10000
	MaxEmailTemplateSize = 500 * 1024 // subject, text and HTML together
)

// ErrEmailTemplate marks the errors about an email template, which v1
// gives codes of their own (TemplateDoesNotExist).
var ErrEmailTemplate = errors.New("email template")

var errNoEmailTemplates = errors.New("email templates are not configured on this server")

// EmailTemplateInput is the content of CreateTemplate or UpdateTemplate
// (v1), CreateEmailTemplate or UpdateEmailTemplate (v2).
type EmailTemplateInput struct {
	Subject, Text, HTML string
	Tags                []identity.Tag // v2's CreateEmailTemplate only
}

func emailTemplateNotFound(name string) error {
	return wrapf(NotFound, ErrEmailTemplate, "Template %s does not exist.", name)
}

// checkEmailTemplate holds a template's content to SES's limits and
// syntax: a part that does not parse is InvalidTemplate already when it is
// stored, not only when it is sent.
func checkEmailTemplate(name string, in EmailTemplateInput) error {
	if err := checkTemplateName(name); err != nil {
		return err
	}
	if n := len(in.Subject) + len(in.Text) + len(in.HTML); n > MaxEmailTemplateSize {
		return wrapf(Invalid, ErrInvalidTemplate, "Template %s is %d bytes: the subject, text and HTML parts together may have at most %d (500 KB).", name, n, MaxEmailTemplateSize)
	}
	for _, p := range []struct{ part, src string }{{"subject", in.Subject}, {"text", in.Text}, {"HTML", in.HTML}} {
		if _, err := parser.Parse(p.src); err != nil {
			return wrapf(Invalid, ErrInvalidTemplate, "Template %s: its %s part is not valid Handlebars: %v.", name, p.part, err)
		}
	}
	return validateTags(in.Tags)
}

// CreateEmailTemplate is v1 CreateTemplate and v2 CreateEmailTemplate.
func (r *Registry) CreateEmailTemplate(ctx context.Context, sc Scope, name string, in EmailTemplateInput) (*store.EmailTemplate, error) {
	if r.EmailTemplates == nil {
		return nil, errNoEmailTemplates
	}
	if err := checkEmailTemplate(name, in); err != nil {
		return nil, err
	}
	if err := r.checkRegion(sc); err != nil {
		return nil, err
	}
	now := r.now()
	t := &store.EmailTemplate{TemplateKey: sc.template(name), Subject: in.Subject, Text: in.Text, HTML: in.HTML, Tags: in.Tags, Created: now, Updated: now}
	err := r.EmailTemplates.CreateEmailTemplate(ctx, t, func(inRegion int) error {
		if inRegion >= MaxEmailTemplates {
			return wrapf(LimitExceeded, ErrEmailTemplate, "Maximum number of email templates (%d) reached in region %s. Delete templates you no longer use.", MaxEmailTemplates, sc.Region)
		}
		return nil
	})
	if errors.Is(err, store.ErrExists) {
		return nil, wrapf(AlreadyExists, ErrEmailTemplate, "Template %s already exists.", name)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// GetEmailTemplate is v1 GetTemplate and v2 GetEmailTemplate.
func (r *Registry) GetEmailTemplate(ctx context.Context, sc Scope, name string) (*store.EmailTemplate, error) {
	if r.EmailTemplates == nil {
		return nil, errNoEmailTemplates
	}
	t, err := r.EmailTemplates.GetEmailTemplate(ctx, sc.template(name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, emailTemplateNotFound(name)
	}
	return t, err
}

// UpdateEmailTemplate replaces a template's parts: those not given become
// empty, as in SES, where the new Template replaces the old. Tags stay.
func (r *Registry) UpdateEmailTemplate(ctx context.Context, sc Scope, name string, in EmailTemplateInput) (*store.EmailTemplate, error) {
	if r.EmailTemplates == nil {
		return nil, errNoEmailTemplates
	}
	in.Tags = nil
	if err := checkEmailTemplate(name, in); err != nil {
		return nil, err
	}
	cur, err := r.GetEmailTemplate(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	t := &store.EmailTemplate{TemplateKey: sc.template(name), Subject: in.Subject, Text: in.Text, HTML: in.HTML, Tags: cur.Tags, Created: cur.Created, Updated: r.now()}
	if err := r.EmailTemplates.UpdateEmailTemplate(ctx, t); errors.Is(err, store.ErrNotFound) {
		return nil, emailTemplateNotFound(name)
	} else if err != nil {
		return nil, err
	}
	return t, nil
}

// DeleteEmailTemplate reports whether the template existed: v1's
// DeleteTemplate succeeds either way, v2's DeleteEmailTemplate does not.
func (r *Registry) DeleteEmailTemplate(ctx context.Context, sc Scope, name string) (bool, error) {
	if r.EmailTemplates == nil {
		return false, errNoEmailTemplates
	}
	return r.EmailTemplates.DeleteEmailTemplate(ctx, sc.template(name))
}

// ListEmailTemplates returns a page of templates in name order and the
// token of the next page ("" on the last).
func (r *Registry) ListEmailTemplates(ctx context.Context, sc Scope, nextToken string, limit int) ([]*store.EmailTemplate, string, error) {
	if r.EmailTemplates == nil {
		return nil, "", errNoEmailTemplates
	}
	after, err := decodePage("e", nextToken)
	if err != nil {
		return nil, "", err
	}
	ts, err := r.EmailTemplates.ListEmailTemplates(ctx, sc.Account, sc.Region, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ts) > limit {
		ts = ts[:limit]
		next = encodePage("e", ts[len(ts)-1].Name)
	}
	return ts, next, nil
}

// RenderEmailTemplate renders a stored template with TemplateData (a JSON
// object): TestRenderTemplate, and the content of a templated send.
func (r *Registry) RenderEmailTemplate(ctx context.Context, sc Scope, name, data string) (*Rendered, error) {
	t, err := r.GetEmailTemplate(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	return RenderTemplate(t, data)
}

// RenderTemplate renders t with TemplateData: for a stored template, or
// for v2's inline one (Template.TemplateContent).
func RenderTemplate(t *store.EmailTemplate, data string) (*Rendered, error) {
	d, err := parseTemplateData(data)
	if err != nil {
		return nil, err
	}
	return render(t, d)
}

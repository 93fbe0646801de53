package registry

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/mail"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/store"
)

// MaxTemplates is SES's limit of custom verification templates per account
// (FAQ Q1); like every SES resource, templates are per region.
const MaxTemplates = 50

// templateNameRE is the name rule of SES's email templates; SES does not
// document one for custom verification templates, and this one keeps a
// name safe in a v2 URL path.
var templateNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// TemplateInput is a template as given to CreateTemplate, which needs every
// field but Tags, or to UpdateTemplate, which keeps the fields left nil.
type TemplateInput struct {
	From, Subject, Content, SuccessURL, FailureURL *string
	Tags                                           []identity.Tag
}

var errNoTemplates = errors.New("custom verification templates are not configured on this server")

func (sc Scope) template(name string) store.TemplateKey {
	return store.TemplateKey{Account: sc.Account, Region: sc.Region, Name: name}
}

func templateNotFound(name string) error {
	return wrapf(NotFound, ErrTemplate, "Custom verification email template %s does not exist.", name)
}

func checkTemplateName(name string) error {
	if !templateNameRE.MatchString(name) {
		return errorf(Invalid, "Invalid TemplateName %q: use 1 to 64 letters, digits, underscores or dashes.", name)
	}
	return nil
}

// check validates the fields of in that are set, in the order SES's
// documentation lists them, and puts From in canonical form.
func (r *Registry) check(ctx context.Context, sc Scope, in TemplateInput) error {
	if in.From != nil {
		if strings.ContainsAny(*in.From, "<>") {
			return errorf(Invalid, "FromEmailAddress %q may not have a display name: give the bare address, such as sender@example.com.", *in.From)
		}
		e, err := parseEmail(*in.From)
		if err != nil {
			return err
		}
		*in.From = e
	}
	if in.Subject != nil && (*in.Subject == "" || strings.ContainsAny(*in.Subject, "\r\n")) {
		return errorf(Invalid, "TemplateSubject must be one line of text, not empty.")
	}
	for _, u := range []struct {
		name string
		v    *string
	}{{"SuccessRedirectionURL", in.SuccessURL}, {"FailureRedirectionURL", in.FailureURL}} {
		if u.v == nil {
			continue
		}
		p, err := url.Parse(*u.v)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return errorf(Invalid, "Invalid %s %q: give an absolute http or https URL.", u.name, *u.v)
		}
	}
	if in.Content != nil {
		if err := mail.CheckContent(*in.Content); err != nil {
			return wrapf(InvalidContent, err, "TemplateContent is refused (%v).", err)
		}
	}
	if err := validateTags(in.Tags); err != nil {
		return err
	}
	if in.From != nil {
		return r.checkSender(ctx, sc, *in.From)
	}
	return nil
}

// checkSender requires a FromEmailAddress that may send: the address is
// verified, or its domain or a parent domain is.
func (r *Registry) checkSender(ctx context.Context, sc Scope, from string) error {
	d := names.DomainOf(from)
	cands := append([]string{from, d}, names.Parents(d)...)
	found, err := r.Store.GetIdentities(ctx, sc.Account, sc.Region, cands)
	if err != nil {
		return err
	}
	for _, id := range found {
		if r.view(id).VerifiedForSending() {
			return nil
		}
	}
	return errorf(FromNotVerified, "FromEmailAddress %s is not verified in region %s: verify the address (VerifyEmailIdentity) or its domain first.", from, sc.Region)
}

// CreateTemplate is CreateCustomVerificationEmailTemplate.
func (r *Registry) CreateTemplate(ctx context.Context, sc Scope, name string, in TemplateInput) (*store.Template, error) {
	if r.Templates == nil {
		return nil, errNoTemplates
	}
	if err := checkTemplateName(name); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"FromEmailAddress", in.From}, {"TemplateSubject", in.Subject}, {"TemplateContent", in.Content}, {"SuccessRedirectionURL", in.SuccessURL}, {"FailureRedirectionURL", in.FailureURL}} {
		if f.v == nil || *f.v == "" {
			return nil, errorf(Invalid, "%s is required.", f.name)
		}
	}
	if err := r.checkRegion(sc); err != nil {
		return nil, err
	}
	if err := r.check(ctx, sc, in); err != nil {
		return nil, err
	}
	now := r.now()
	t := &store.Template{TemplateKey: sc.template(name), From: *in.From, Subject: *in.Subject, Content: *in.Content,
		SuccessURL: *in.SuccessURL, FailureURL: *in.FailureURL, Tags: in.Tags, Created: now, Updated: now}
	err := r.Templates.CreateTemplate(ctx, t, func(inRegion, inAccount int) error {
		if inRegion >= MaxTemplates {
			return wrapf(LimitExceeded, ErrTemplate, "Maximum number of custom verification email templates (%d) reached in region %s. Delete templates you no longer use.", MaxTemplates, sc.Region)
		}
		if max := r.Caps.templates(); inAccount >= max {
			return &Error{Kind: LimitExceeded, Err: errors.Join(ErrTemplate, ErrAccountLimit),
				Message: fmt.Sprintf("Maximum number of custom verification email templates of this account in all regions (%d) reached. Delete templates you no longer use, in any region, or ask the operator of this server to raise the cap.", max)}
		}
		return nil
	})
	if errors.Is(err, store.ErrExists) {
		return nil, wrapf(AlreadyExists, ErrTemplate, "Custom verification email template %s already exists.", name)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// GetTemplate is GetCustomVerificationEmailTemplate.
func (r *Registry) GetTemplate(ctx context.Context, sc Scope, name string) (*store.Template, error) {
	if r.Templates == nil {
		return nil, errNoTemplates
	}
	t, err := r.Templates.GetTemplate(ctx, sc.template(name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, templateNotFound(name)
	}
	return t, err
}

// UpdateTemplate is UpdateCustomVerificationEmailTemplate: the fields given
// replace the template's. Tags are not changed.
func (r *Registry) UpdateTemplate(ctx context.Context, sc Scope, name string, in TemplateInput) (*store.Template, error) {
	if r.Templates == nil {
		return nil, errNoTemplates
	}
	in.Tags = nil
	if _, err := r.GetTemplate(ctx, sc, name); err != nil {
		return nil, err
	}
	if err := r.check(ctx, sc, in); err != nil {
		return nil, err
	}
	t, err := r.Templates.UpdateTemplate(ctx, sc.template(name), func(t *store.Template) error {
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&t.From, in.From)
		set(&t.Subject, in.Subject)
		set(&t.Content, in.Content)
		set(&t.SuccessURL, in.SuccessURL)
		set(&t.FailureURL, in.FailureURL)
		t.Updated = r.now()
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, templateNotFound(name)
	}
	return t, err
}

// DeleteTemplate is DeleteCustomVerificationEmailTemplate; it reports
// whether the template existed (v1 succeeds either way, v2 does not).
func (r *Registry) DeleteTemplate(ctx context.Context, sc Scope, name string) (bool, error) {
	if r.Templates == nil {
		return false, errNoTemplates
	}
	return r.Templates.DeleteTemplate(ctx, sc.template(name))
}

// ListTemplates returns a page of templates in name order and the token of
// the next page ("" on the last).
func (r *Registry) ListTemplates(ctx context.Context, sc Scope, nextToken string, limit int) ([]*store.Template, string, error) {
	if r.Templates == nil {
		return nil, "", errNoTemplates
	}
	after, err := templateAfter(nextToken, 't')
	if err != nil {
		return nil, "", err
	}
	ts, err := r.Templates.ListTemplates(ctx, sc.Account, sc.Region, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ts) > limit {
		ts = ts[:limit]
		next = templateToken('t', ts[len(ts)-1].Name)
	}
	return ts, next, nil
}

// SendCustomVerificationEmail adds the address as a Pending identity, as
// the API reference says and emulators do (the FAQ's "only after the
// click" is not followed: v1 and v2 readers see the address at once), and
// sends the template's mail with a new link. Unlike VerifyEmailIdentity it
// sends even to a verified address: an application may preview its
// template that way (FAQ Q3). Sesame has no sandbox, so
// ProductionAccessNotGranted is never returned.
func (r *Registry) SendCustomVerificationEmail(ctx context.Context, sc Scope, address, templateName, configSet string) (string, error) {
	e, err := parseEmail(address)
	if err != nil {
		return "", err
	}
	if configSet != "" {
		return "", errorf(ConfigSetNotFound, "Configuration set %s does not exist: this server has no configuration sets; leave ConfigurationSetName out.", configSet)
	}
	t, err := r.GetTemplate(ctx, sc, templateName)
	if err != nil {
		return "", err
	}
	if err := r.checkSender(ctx, sc, t.From); err != nil {
		return "", err
	}
	cm, ok := r.Mailer.(CustomMailer)
	if !ok {
		return "", fmt.Errorf("custom verification email: %w", errNoTemplates)
	}
	if lc, ok := r.Mailer.(LimitChecker); ok {
		if err := lc.CheckLimits(ctx, sc.key(e)); err != nil {
			if me := mailError(err); me != nil {
				return "", me
			}
			return "", err
		}
	}
	id, err := r.startVerification(ctx, sc, names.KindEmail, e)
	if err != nil {
		return "", err
	}
	msgID, err := cm.SendCustomVerification(ctx, id, t)
	if err != nil {
		if me := mailError(err); me != nil {
			return "", me
		}
		return "", fmt.Errorf("custom verification email for %s not queued: %w", e, err)
	}
	return msgID, nil
}

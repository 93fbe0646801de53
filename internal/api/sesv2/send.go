package sesv2

import (
	"errors"
	"net/http"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/send"
	"github.com/sesame/sesame/internal/store"
)

// The send operations:
//
//	POST /v2/email/outbound-emails       SendEmail (Simple, Raw or Template content)
//	POST /v2/email/outbound-bulk-emails  SendBulkEmail
func routeSend(method, escapedPath string) (string, operation, bool) {
	switch escapedPath {
	case "/v2/email/outbound-emails":
		if method == http.MethodPost {
			return "SendEmail", (*Handler).sendEmail, true
		}
		return "", nil, true
	case "/v2/email/outbound-bulk-emails":
		if method == http.MethodPost {
			return "SendBulkEmail", (*Handler).sendBulkEmail, true
		}
		return "", nil, true
	}
	return "", nil, false
}

var errNoSender = errors.New("sending is not configured on this server")

type content struct{ Data string }

type destination struct{ ToAddresses, CcAddresses, BccAddresses []string }

type templateContent struct {
	TemplateName    string
	TemplateArn     string
	TemplateContent *emailTemplateContent
	TemplateData    string
}

type sendInput struct {
	FromEmailAddress                          string
	FromEmailAddressIdentityArn               string
	FeedbackForwardingEmailAddressIdentityArn string
	Destination                               *destination
	ReplyToAddresses                          []string
	FeedbackForwardingEmailAddress            string
	ConfigurationSetName                      string
	Content                                   *struct {
		Simple *struct {
			Subject *content
			Body    *struct{ Text, Html *content }
		}
		Raw      *struct{ Data []byte } // base64 in JSON, as []byte is
		Template *templateContent
	}
}

// arns sets the sending-authorization ARNs of v2: the From identity's
// stands for SourceArn and FromArn ("For Raw emails, the
// FromEmailAddressIdentityArn value overrides the X-SES-SOURCE-ARN and
// X-SES-FROM-ARN headers"), the feedback address's for ReturnPathArn.
func arns(m *send.Message, from, feedback string) {
	f := send.IdentityARN{Field: "FromEmailAddressIdentityArn", ARN: from}
	m.SourceArn, m.FromArn = f, f
	m.ReturnPathArn = send.IdentityARN{Field: "FeedbackForwardingEmailAddressIdentityArn", ARN: feedback}
}

func (t *templateContent) into(m *send.Message) error {
	m.TemplateData = t.TemplateData
	switch {
	case t.TemplateArn != "":
		return api.Errorf(http.StatusBadRequest, "BadRequestException", "TemplateArn is not supported by this server yet: give TemplateName.")
	case t.TemplateName != "":
		m.Template = t.TemplateName
	case t.TemplateContent != nil:
		m.Inline = &store.EmailTemplate{Subject: t.TemplateContent.Subject, Text: t.TemplateContent.Text, HTML: t.TemplateContent.Html}
	default:
		return api.Errorf(http.StatusBadRequest, "BadRequestException", "Content.Template needs TemplateName or TemplateContent.")
	}
	if m.TemplateData == "" {
		return required("TemplateData")
	}
	return nil
}

func (h *Handler) sendEmail(r *request) (any, error) {
	var in sendInput
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if in.Content == nil {
		return nil, required("Content")
	}
	m := &send.Message{Action: "SendEmail", Max: send.MaxV2, Source: in.FromEmailAddress, ReplyTo: in.ReplyToAddresses, ReturnPath: in.FeedbackForwardingEmailAddress, ConfigurationSet: in.ConfigurationSetName}
	arns(m, in.FromEmailAddressIdentityArn, in.FeedbackForwardingEmailAddressIdentityArn)
	if d := in.Destination; d != nil {
		m.To, m.Cc, m.Bcc = d.ToAddresses, d.CcAddresses, d.BccAddresses
	}
	c := in.Content
	switch {
	case c.Simple != nil:
		if c.Simple.Subject == nil {
			return nil, required("Content.Simple.Subject")
		}
		m.Subject = c.Simple.Subject.Data
		if b := c.Simple.Body; b != nil {
			if b.Text != nil {
				m.Text = b.Text.Data
			}
			if b.Html != nil {
				m.HTML = b.Html.Data
			}
		}
		if m.Source == "" {
			return nil, required("FromEmailAddress")
		}
	case c.Raw != nil:
		m.Action, m.Raw = "SendRawEmail", c.Raw.Data
		if len(m.Raw) == 0 {
			return nil, required("Content.Raw.Data")
		}
	case c.Template != nil:
		m.Action = "SendTemplatedEmail"
		if err := c.Template.into(m); err != nil {
			return nil, err
		}
		if m.Source == "" {
			return nil, required("FromEmailAddress")
		}
	default:
		return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "Content needs one of Simple, Raw or Template.")
	}
	if h.Sender == nil {
		return nil, errNoSender
	}
	id, err := h.Sender.Send(r.ctx, r.scope, m)
	if err != nil {
		return nil, err
	}
	return struct{ MessageId string }{id}, nil
}

// bulkStatus is the BulkEmailStatus of an error, as v2 spells it.
func bulkStatus(err error) string {
	var e *registry.Error
	if !errors.As(err, &e) {
		return "FAILED"
	}
	switch e.Kind {
	case registry.Rejected:
		return "MESSAGE_REJECTED"
	case registry.Throttled:
		return "ACCOUNT_THROTTLED"
	case registry.QuotaExceeded:
		return "ACCOUNT_DAILY_QUOTA_EXCEEDED"
	case registry.Paused:
		return "ACCOUNT_SENDING_PAUSED"
	case registry.MailFromNotVerified:
		return "MAIL_FROM_DOMAIN_NOT_VERIFIED"
	case registry.NotFound:
		return "TEMPLATE_NOT_FOUND"
	case registry.Invalid:
		return "INVALID_PARAMETER"
	}
	return "FAILED"
}

type bulkResult struct {
	Status    string
	Error     string `json:",omitempty"`
	MessageId string `json:",omitempty"`
}

func (h *Handler) sendBulkEmail(r *request) (any, error) {
	var in struct {
		FromEmailAddress                          string
		FromEmailAddressIdentityArn               string
		FeedbackForwardingEmailAddressIdentityArn string
		ReplyToAddresses                          []string
		FeedbackForwardingEmailAddress            string
		ConfigurationSetName                      string
		DefaultContent                            *struct{ Template *templateContent }
		BulkEmailEntries                          []struct {
			Destination             *destination
			ReplacementEmailContent *struct {
				ReplacementTemplate *struct{ ReplacementTemplateData string }
			}
		}
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if in.DefaultContent == nil || in.DefaultContent.Template == nil {
		return nil, required("DefaultContent.Template")
	}
	if len(in.BulkEmailEntries) == 0 {
		return nil, required("BulkEmailEntries")
	}
	if len(in.BulkEmailEntries) > send.MaxRecipients {
		return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "Too many BulkEmailEntries (%d): SendBulkEmail takes at most %d.", len(in.BulkEmailEntries), send.MaxRecipients)
	}
	if in.FromEmailAddress == "" {
		return nil, required("FromEmailAddress")
	}
	base := send.Message{Action: "SendBulkEmail", Max: send.MaxV2, Source: in.FromEmailAddress, ReplyTo: in.ReplyToAddresses, ReturnPath: in.FeedbackForwardingEmailAddress, ConfigurationSet: in.ConfigurationSetName}
	arns(&base, in.FromEmailAddressIdentityArn, in.FeedbackForwardingEmailAddressIdentityArn)
	if err := in.DefaultContent.Template.into(&base); err != nil {
		return nil, err
	}
	if base.Template != "" {
		if _, err := h.Registry.GetEmailTemplate(r.ctx, r.scope, base.Template); err != nil {
			return nil, err
		}
	}
	if h.Sender == nil {
		return nil, errNoSender
	}
	out := struct{ BulkEmailEntryResults []bulkResult }{make([]bulkResult, 0, len(in.BulkEmailEntries))}
	for _, e := range in.BulkEmailEntries {
		m := base
		if d := e.Destination; d != nil {
			m.To, m.Cc, m.Bcc = d.ToAddresses, d.CcAddresses, d.BccAddresses
		}
		if rc := e.ReplacementEmailContent; rc != nil && rc.ReplacementTemplate != nil {
			if d := rc.ReplacementTemplate.ReplacementTemplateData; d != "" && d != "{}" {
				m.TemplateData = d
			}
		}
		id, err := h.Sender.Send(r.ctx, r.scope, &m)
		if registry.IsKind(err, registry.AccessDenied) {
			return nil, err // the same identity for every entry: the call is refused
		}
		if err != nil {
			out.BulkEmailEntryResults = append(out.BulkEmailEntryResults, bulkResult{Status: bulkStatus(err), Error: err.Error()})
			continue
		}
		out.BulkEmailEntryResults = append(out.BulkEmailEntryResults, bulkResult{Status: "SUCCESS", MessageId: id})
	}
	return out, nil
}

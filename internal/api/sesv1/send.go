package sesv1

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/send"
)

// The send actions: SendEmail, SendRawEmail, SendTemplatedEmail and
// SendBulkTemplatedEmail. Each hands the send package one message per
// destination; its errors are registry errors, mapped as the others.

var errNoSender = errors.New("sending is not configured on this server")

// unsupported refuses what Sesame does not do yet, rather than ignoring
// it: TemplateArn.
func (r *request) unsupported() error {
	if r.params.get("TemplateArn") != "" {
		return api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "TemplateArn is not supported by this server yet: give Template, the template's name.")
	}
	return nil
}

// arns reads the sending-authorization parameters; the send package
// checks them (and a raw message's X-SES-*-ARN headers).
func (r *request) arns(m *send.Message) {
	arn := func(n string) send.IdentityARN { return send.IdentityARN{Field: n, ARN: r.params.get(n)} }
	m.SourceArn, m.FromArn, m.ReturnPathArn = arn("SourceArn"), arn("FromArn"), arn("ReturnPathArn")
}

func (r *request) destination(prefix string) (to, cc, bcc []string, err error) {
	if to, err = r.params.list(prefix + ".ToAddresses"); err != nil {
		return
	}
	if cc, err = r.params.list(prefix + ".CcAddresses"); err != nil {
		return
	}
	bcc, err = r.params.list(prefix + ".BccAddresses")
	return
}

// common reads what every send but the raw one has.
func (r *request) common(action string) (*send.Message, error) {
	if err := r.unsupported(); err != nil {
		return nil, err
	}
	src, err := r.params.required("Source")
	if err != nil {
		return nil, err
	}
	m := &send.Message{Action: action, Max: send.MaxV1, Source: src, ReturnPath: r.params.get("ReturnPath"), ConfigurationSet: r.params.get("ConfigurationSetName")}
	r.arns(m)
	if m.ReplyTo, err = r.params.list("ReplyToAddresses"); err != nil {
		return nil, err
	}
	return m, nil
}

func (h *Handler) sendOne(r *request, m *send.Message) (*result, error) {
	if h.Sender == nil {
		return nil, errNoSender
	}
	id, err := h.Sender.Send(r.ctx, r.scope, m)
	if err != nil {
		return nil, err
	}
	var out result
	out.elem("MessageId", id)
	return &out, nil
}

func (h *Handler) sendEmail(r *request) (*result, error) {
	m, err := r.common("SendEmail")
	if err != nil {
		return nil, err
	}
	if m.To, m.Cc, m.Bcc, err = r.destination("Destination"); err != nil {
		return nil, err
	}
	if m.Subject, err = r.params.required("Message.Subject.Data"); err != nil {
		return nil, err
	}
	m.Text, m.HTML = r.params.get("Message.Body.Text.Data"), r.params.get("Message.Body.Html.Data")
	return h.sendOne(r, m)
}

func (h *Handler) sendRawEmail(r *request) (*result, error) {
	if err := r.unsupported(); err != nil {
		return nil, err
	}
	data, err := r.params.required("RawMessage.Data")
	if err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "RawMessage.Data is not base64: encode the whole MIME message (the SDKs and the CLI do).")
	}
	m := &send.Message{Action: "SendRawEmail", Max: send.MaxV1, Source: r.params.get("Source"), Raw: raw, ConfigurationSet: r.params.get("ConfigurationSetName")}
	r.arns(m)
	if m.To, err = r.params.list("Destinations"); err != nil {
		return nil, err
	}
	return h.sendOne(r, m)
}

func (h *Handler) sendTemplatedEmail(r *request) (*result, error) {
	m, err := r.common("SendTemplatedEmail")
	if err != nil {
		return nil, err
	}
	if m.To, m.Cc, m.Bcc, err = r.destination("Destination"); err != nil {
		return nil, err
	}
	if m.Template, err = r.params.required("Template"); err != nil {
		return nil, err
	}
	if m.TemplateData, err = r.params.required("TemplateData"); err != nil {
		return nil, err
	}
	return h.sendOne(r, m)
}

// bulkStatus is the BulkEmailStatus of an error, as v1 spells it.
func bulkStatus(err error) string {
	var e *registry.Error
	if !errors.As(err, &e) {
		return "Failed"
	}
	switch {
	case e.Kind == registry.Rejected:
		return "MessageRejected"
	case e.Kind == registry.Throttled:
		return "AccountThrottled"
	case e.Kind == registry.QuotaExceeded:
		return "AccountDailyQuotaExceeded"
	case e.Kind == registry.Paused:
		return "AccountSendingPaused"
	case e.Kind == registry.MailFromNotVerified:
		return "MailFromDomainNotVerified"
	case e.Kind == registry.NotFound && errors.Is(e, registry.ErrEmailTemplate):
		return "TemplateDoesNotExist"
	case e.Kind == registry.Invalid:
		return "InvalidParameterValue"
	}
	return "Failed"
}

// sendBulkTemplatedEmail sends one message per destination, each with its
// ReplacementTemplateData, or DefaultTemplateData when that is absent or
// {}; each destination gets its own status.
func (h *Handler) sendBulkTemplatedEmail(r *request) (*result, error) {
	m, err := r.common("SendBulkTemplatedEmail")
	if err != nil {
		return nil, err
	}
	if m.Template, err = r.params.required("Template"); err != nil {
		return nil, err
	}
	def, err := r.params.required("DefaultTemplateData")
	if err != nil {
		return nil, err
	}
	if _, err := h.Registry.GetEmailTemplate(r.ctx, r.scope, m.Template); err != nil {
		return nil, err
	}
	if h.Sender == nil {
		return nil, errNoSender
	}
	var dests []string
	for i := 1; ; i++ {
		p := "Destinations.member." + itoa(i)
		if !r.params.has(p+".Destination.ToAddresses.member.1") && !r.params.has(p+".Destination.CcAddresses.member.1") &&
			!r.params.has(p+".Destination.BccAddresses.member.1") && !r.params.has(p+".ReplacementTemplateData") {
			break
		}
		dests = append(dests, p)
	}
	if len(dests) == 0 {
		_, err := r.params.required("Destinations")
		return nil, err
	}
	if len(dests) > send.MaxRecipients {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "Too many destinations (%d): SendBulkTemplatedEmail takes at most %d.", len(dests), send.MaxRecipients)
	}
	var out result
	out.open("Status")
	for _, p := range dests {
		one := *m
		if one.To, one.Cc, one.Bcc, err = r.destination(p + ".Destination"); err != nil {
			return nil, err
		}
		one.TemplateData = def
		if d := r.params.get(p + ".ReplacementTemplateData"); d != "" && d != "{}" {
			one.TemplateData = d
		}
		id, err := h.Sender.Send(r.ctx, r.scope, &one)
		if registry.IsKind(err, registry.AccessDenied) {
			// The identity is the same for every destination: the
			// call is refused, as SES refuses it.
			return nil, err
		}
		out.open("member")
		if err != nil {
			out.elem("Status", bulkStatus(err))
			out.elem("Error", err.Error())
		} else {
			out.elem("Status", "Success")
			out.elem("MessageId", id)
		}
		out.close("member")
	}
	out.close("Status")
	return &out, nil
}

func itoa(i int) string { return strconv.Itoa(i) }

// Package retro serves GET and DELETE /_aws/ses: the mail an account sent,
// in the shape of LocalStack's retrospection endpoint, so that tests
// written against LocalStack read Sesame's captured mail unchanged but
// for the signature.
//
// Unlike LocalStack's, the endpoint is per tenant: a request must be
// signed (SigV4, service "ses", any served region) with a key of the
// account whose mail it reads or clears, as the v2 API is. An unsigned
// request gets the API's MissingAuthenticationToken; no account sees
// another's mail.
package retro

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/store"
)

// Path is the endpoint's path, LocalStack's since v1.4.0.
const Path = "/_aws/ses"

// MaxMessages caps one GET: the newest messages, oldest first.
const MaxMessages = 10000

// Handler serves Path.
type Handler struct {
	Outbox store.Outbox
	// Sending hides what DELETE clears.
	Sending store.Sending
	Auth    *api.Authenticator
	Log     *slog.Logger

	once  sync.Once
	proto api.Protocol
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(func() {
		h.proto = api.Protocol{Name: "retro", OpKey: "operation", Log: h.Log, WriteError: writeError,
			Throttling: api.Error{Status: http.StatusTooManyRequests, Code: "TooManyRequestsException"}}
	})
	h.proto.Serve(w, r, h.serve)
}

func writeError(w http.ResponseWriter, rid string, e *api.Error) {
	b, _ := json.Marshal(map[string]string{"message": e.Message})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-RequestId", rid)
	w.Header().Set("x-amzn-ErrorType", e.Code)
	w.WriteHeader(e.Status)
	w.Write(b)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, c *api.Call) error {
	switch r.Method {
	case http.MethodGet:
		c.Op = "RetroList"
	case http.MethodDelete:
		c.Op = "RetroClear"
	default:
		return api.Errorf(http.StatusMethodNotAllowed, "InvalidHttpRequest", "Method %s is not allowed on %s: use GET to read the sent mail, DELETE to clear it.", r.Method, Path)
	}
	if err := h.Auth.V2(w, r, c, api.SmallBody); err != nil {
		return err
	}
	acct := c.Principal.Account
	q := r.URL.Query()
	if r.Method == http.MethodDelete {
		if _, err := h.Sending.HideSent(r.Context(), acct, q.Get("id")); err != nil {
			return err
		}
		w.Header().Set("x-amzn-RequestId", c.ID)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	ms, err := h.Outbox.ListMessages(r.Context(), store.MessageQuery{Kind: store.SentMail, Account: acct, Limit: MaxMessages})
	if err != nil {
		return err
	}
	slices.Reverse(ms) // LocalStack lists in the order sent
	id, email := q.Get("id"), q.Get("email")
	out := struct {
		Messages []sentEmail `json:"messages"`
	}{Messages: []sentEmail{}}
	for _, m := range ms {
		if m.Sent == nil || (id != "" && m.ID != id) || (email != "" && m.Sent.Source != email) {
			continue
		}
		out.Messages = append(out.Messages, view(m))
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-RequestId", c.ID)
	w.Write(b)
	return nil
}

// sentEmail is LocalStack's SentEmail: each call fills only its own
// fields (SendEmail: Subject, Body, Destination; SendTemplatedEmail:
// Template, TemplateData, Destination; SendRawEmail: RawData).
type sentEmail struct {
	Id           string
	Region       string
	Timestamp    string
	Destination  *destination `json:",omitempty"`
	RawData      *string      `json:",omitempty"`
	Source       string
	Subject      *string `json:",omitempty"`
	Template     *string `json:",omitempty"`
	TemplateData *string `json:",omitempty"`
	Body         *body   `json:",omitempty"`
}

type destination struct {
	ToAddresses  []string `json:",omitempty"`
	CcAddresses  []string `json:",omitempty"`
	BccAddresses []string `json:",omitempty"`
}

// body keeps LocalStack's lower-case names; a missing part is null.
type body struct {
	Text *string `json:"text_part"`
	HTML *string `json:"html_part"`
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// view is a message as LocalStack shows it. Sesame captures v2 and bulk
// sends too (LocalStack does not), each as the v1 call of the same content.
func view(m *store.Message) sentEmail {
	s := m.Sent
	v := sentEmail{Id: m.ID, Region: m.Key.Region, Timestamp: m.Created.UTC().Format(time.DateOnly + "T" + time.TimeOnly), Source: s.Source}
	dest := &destination{ToAddresses: s.To, CcAddresses: s.Cc, BccAddresses: s.Bcc}
	switch {
	case s.Raw:
		v.RawData = opt(string(m.Raw))
	case s.Template != "" || s.TemplateData != "":
		v.Destination, v.Template, v.TemplateData = dest, opt(s.Template), &s.TemplateData
	default:
		v.Destination, v.Subject = dest, &s.Subject
		v.Body = &body{Text: opt(s.Text), HTML: opt(s.HTML)}
	}
	return v
}

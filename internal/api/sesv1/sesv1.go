// Package sesv1 serves the SES v1 Query protocol (API version 2010-12-01):
// form-encoded POST or GET at "/", XML replies and XML errors, as the
// botocore model of "email" describes them.
package sesv1

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/send"
)

// Version is the only API version served.
const Version = "2010-12-01"

// Handler serves the v1 API.
type Handler struct {
	Registry *registry.Registry
	// Sender serves the send actions (send.go); nil serves none.
	Sender *send.Sender
	Auth   *api.Authenticator
	Log    *slog.Logger

	once  sync.Once
	proto api.Protocol
}

// request is one call being served.
type request struct {
	ctx    context.Context
	scope  registry.Scope
	params params
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(func() {
		h.proto = api.Protocol{Name: "v1", OpKey: "action", Log: h.Log, MapError: fromRegistry, WriteError: writeError,
			Throttling: api.Error{Status: http.StatusBadRequest, Code: "Throttling"}}
	})
	h.proto.Serve(w, r, h.serve)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, c *api.Call) error {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return api.Errorf(http.StatusMethodNotAllowed, "InvalidHttpRequest", "Method %s is not allowed: send the Query API as POST (form-encoded) or GET.", r.Method)
	}
	// The body of an unauthenticated request is never read, so its
	// action is known only from the query string, which is parsed first:
	// a malformed one is refused before the signature is checked (the
	// SDK's signer would drop the bad pair), with 404 as SES documents.
	rule := templateInForm
	if r.URL.RawQuery != "" {
		q, err := parseParams(r, nil)
		if err != nil {
			return err
		}
		if a := q.get("Action"); a != "" {
			c.Op = opLabel(a)
			if largeActions[a] {
				rule = api.LargeBody
			}
		}
	}
	if err := h.Auth.V1(w, r, c, rule); err != nil {
		return err
	}
	p, err := parseParams(r, c.Body)
	if err != nil {
		return err
	}
	a := p.get("Action")
	if a != "" {
		c.Op = opLabel(a)
	}
	if a == "" {
		return api.Errorf(http.StatusBadRequest, "MissingAction", "The request has no Action parameter: add Action=<operation>, e.g. Action=ListIdentities.")
	}
	if v := p.get("Version"); v != "" && v != Version {
		return api.Errorf(http.StatusBadRequest, "NoSuchVersion", "Version %q is not supported: use Version=%s.", v, Version)
	}
	fn, ok := actions[a]
	if !ok {
		return unknownAction(a)
	}
	out, err := fn(h, &request{ctx: r.Context(), scope: registry.Scope{Account: c.Principal.Account, Region: c.Principal.Region}, params: p})
	if err != nil {
		return err
	}
	writeResult(w, a, c.ID, out)
	return nil
}

// opLabel is the metrics label of an action: unknown ones share one.
func opLabel(a string) string {
	if _, ok := actions[a]; ok {
		return a
	}
	return "unknown"
}

// largeActions take bodies of up to api.Limits.TemplateBody: a template
// of close to 10 MB, percent-encoded. Every other action's body is small.
var largeActions = map[string]bool{
	"CreateCustomVerificationEmailTemplate": true,
	"UpdateCustomVerificationEmailTemplate": true,
	"CreateTemplate":                        true,
	"SendRawEmail":                          true,
	"SendEmail":                             true,
	"UpdateTemplate":                        true,
}

// templateInForm says whether the first bytes of a long form body name one
// of largeActions. The AWS SDKs and botocore write Action first (the Go
// SDK sorts the pairs, botocore puts Action and Version before the
// members), so a client need not send more than the first pairs before
// the server knows how much it may send.
func templateInForm(head []byte) bool {
	for len(head) > 0 {
		i := bytes.IndexByte(head, '&')
		if i < 0 {
			return false // the last pair may be cut short
		}
		if k, v, ok := bytes.Cut(head[:i], []byte("=")); ok && string(k) == "Action" {
			a, err := url.QueryUnescape(string(v))
			return err == nil && largeActions[a]
		}
		head = head[i+1:]
	}
	return false
}

func parseParams(r *http.Request, body []byte) (params, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, api.Errorf(http.StatusNotFound, "MalformedQueryString", "The query string could not be parsed: %v.", err)
	}
	if r.Method == http.MethodPost && len(body) > 0 {
		b, err := parseForm(string(body))
		if err != nil {
			return nil, api.Errorf(http.StatusBadRequest, "MalformedQueryString", "The form body could not be parsed: %v. Send application/x-www-form-urlencoded parameters.", err)
		}
		for k, v := range b {
			q[k] = append(q[k], v...)
		}
	}
	return params(q), nil
}

// fromRegistry maps registry errors to v1 codes; nil for other errors.
func fromRegistry(err error) *api.Error {
	var e *registry.Error
	if !errors.As(err, &e) {
		return nil
	}
	if se := sendError(e); se != nil {
		return se
	}
	if me := mailError(e); me != nil {
		return me
	}
	switch e.Kind {
	case registry.AlreadyExists:
		return &api.Error{Status: http.StatusBadRequest, Code: "AlreadyExists", Message: e.Message}
	case registry.LimitExceeded:
		return &api.Error{Status: http.StatusBadRequest, Code: "LimitExceeded", Message: e.Message}
	case registry.InvalidPolicy:
		return &api.Error{Status: http.StatusBadRequest, Code: "InvalidPolicy", Message: e.Message}
	}
	return &api.Error{Status: http.StatusBadRequest, Code: "InvalidParameterValue", Message: e.Message}
}

// Package sesv1 serves the SES v1 Query protocol (API version 2010-12-01):
// form-encoded POST or GET at "/", XML replies and XML errors, as the
// botocore model of "email" describes them.
package sesv1

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/registry"
)

// Version is the only API version served.
const Version = "2010-12-01"

// Handler serves the v1 API.
type Handler struct {
	Registry *registry.Registry
	Auth     *api.Authenticator
	Log      *slog.Logger
}

// request is one call being served.
type request struct {
	ctx    context.Context
	scope  registry.Scope
	params params
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rid := api.NewRequestID()
	action := "unknown"
	defer func() {
		if p := recover(); p != nil {
			h.Log.Error("panic serving v1 request", "request_id", rid, "action", action, "panic", p)
			writeError(w, rid, api.InternalFailure)
			api.Observe("v1", action, api.InternalFailure.Code, time.Since(start))
		}
	}()
	out, err := h.serve(r, w, &action)
	code := "OK"
	if err != nil {
		var e *api.Error
		if !errors.As(err, &e) {
			e = fromRegistry(err)
		}
		if e == nil {
			h.Log.Error("v1 request failed", "request_id", rid, "action", action, "err", err)
			e = api.InternalFailure
		}
		code = e.Code
		writeError(w, rid, e)
	} else {
		writeResult(w, action, rid, out)
	}
	api.Observe("v1", action, code, time.Since(start))
}

func (h *Handler) serve(r *http.Request, w http.ResponseWriter, action *string) (*result, error) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return nil, api.Errorf(http.StatusMethodNotAllowed, "InvalidHttpRequest", "Method %s is not allowed: send the Query API as POST (form-encoded) or GET.", r.Method)
	}
	body, err := api.ReadBody(w, r)
	if err != nil {
		return nil, err
	}
	p, err := parseParams(r, body)
	if err != nil {
		return nil, err
	}
	if a := p.get("Action"); a != "" {
		*action = a
		if _, ok := actions[a]; !ok {
			*action = "unknown"
		}
	}
	pr, err := h.Auth.V1(r, body)
	if err != nil {
		return nil, err
	}
	a := p.get("Action")
	if a == "" {
		return nil, api.Errorf(http.StatusBadRequest, "MissingAction", "The request has no Action parameter: add Action=<operation>, e.g. Action=ListIdentities.")
	}
	if v := p.get("Version"); v != "" && v != Version {
		return nil, api.Errorf(http.StatusBadRequest, "NoSuchVersion", "Version %q is not supported: use Version=%s.", v, Version)
	}
	fn, ok := actions[a]
	if !ok {
		return nil, unknownAction(a)
	}
	return fn(h, &request{ctx: r.Context(), scope: registry.Scope{Account: pr.Account, Region: pr.Region}, params: p})
}

func parseParams(r *http.Request, body []byte) (params, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, api.Errorf(http.StatusNotFound, "MalformedQueryString", "The query string could not be parsed: %v.", err)
	}
	if r.Method == http.MethodPost && len(body) > 0 {
		b, err := url.ParseQuery(string(body))
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
	if me := mailError(e); me != nil {
		return me
	}
	switch e.Kind {
	case registry.AlreadyExists:
		return &api.Error{Status: http.StatusBadRequest, Code: "AlreadyExists", Message: e.Message}
	case registry.LimitExceeded:
		return &api.Error{Status: http.StatusBadRequest, Code: "LimitExceeded", Message: e.Message}
	}
	return &api.Error{Status: http.StatusBadRequest, Code: "InvalidParameterValue", Message: e.Message}
}

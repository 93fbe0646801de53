// Package sesv2 serves the SES v2 REST-JSON protocol (2019-09-27) under
// /v2/email/: the identity operations, with errors in the x-amzn-ErrorType
// header and a {"message": ...} body, as botocore reads them.
package sesv2

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/send"
	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/verify"
)

// Handler serves /v2/email/.
type Handler struct {
	Registry *registry.Registry
	// Sender serves the send operations (send.go); nil serves none.
	Sender *send.Sender
	Auth   *api.Authenticator
	Log    *slog.Logger
	// Verifier and Checks serve the Sesame extension (checks.go); nil
	// leaves it out.
	Verifier *verify.Verifier
	Checks   store.Checks

	once  sync.Once
	proto api.Protocol
}

type request struct {
	ctx   context.Context
	scope registry.Scope
	http  *http.Request
	body  []byte
	// name is the {EmailIdentity} path parameter, unescaped.
	name string
}

type operation func(h *Handler, r *request) (any, error)

// route finds the operation of a method and path. Path parameters are
// unescaped once: the SDK sends user%2Btag%40example.com for user+tag@...
func route(method, escapedPath string) (string, operation, string, error) {
	if n, op, name, ok, err := routeTemplates(method, escapedPath); ok {
		return n, op, name, err
	}
	if n, op, name, ok, err := routeResources(method, escapedPath); ok {
		return n, op, name, err
	}
	if n, op, name, ok, err := routeSending(method, escapedPath); ok {
		return n, op, name, err
	}
	// Newer SDKs (aws-sdk-go-v2's sesv2 since 2026) list with a POST and a
	// JSON body that may carry filters; botocore still uses GET.
	if escapedPath == "/v2/email/list-identities" && method == http.MethodPost {
		return "ListEmailIdentities", (*Handler).listEmailIdentities, "", nil
	}
	rest, ok := strings.CutPrefix(escapedPath, "/v2/email/identities")
	if !ok {
		return "", nil, "", errUnknownOperation(method, escapedPath)
	}
	if rest == "" || rest == "/" {
		switch method {
		case http.MethodPost:
			return "CreateEmailIdentity", (*Handler).createEmailIdentity, "", nil
		case http.MethodGet:
			return "ListEmailIdentities", (*Handler).listEmailIdentities, "", nil
		}
		return "", nil, "", errUnknownOperation(method, escapedPath)
	}
	segs := strings.Split(strings.TrimPrefix(rest, "/"), "/")
	name, err := url.PathUnescape(segs[0])
	if err != nil || name == "" {
		return "", nil, "", api.Errorf(http.StatusBadRequest, "BadRequestException", "The identity in the path %q is not correctly escaped.", escapedPath)
	}
	sub := strings.Join(segs[1:], "/")
	if n, op, _, ok, err := routeSettings(method, sub); ok {
		return n, op, name, err
	}
	switch {
	case sub == "" && method == http.MethodGet:
		return "GetEmailIdentity", (*Handler).getEmailIdentity, name, nil
	case sub == "" && method == http.MethodDelete:
		return "DeleteEmailIdentity", (*Handler).deleteEmailIdentity, name, nil
	case sub == "dkim" && method == http.MethodPut:
		return "PutEmailIdentityDkimAttributes", (*Handler).putDkimAttributes, name, nil
	case sub == "dkim/signing" && method == http.MethodPut:
		return "PutEmailIdentityDkimSigningAttributes", (*Handler).putDkimSigningAttributes, name, nil
	case sub == "mail-from" && method == http.MethodPut:
		return "PutEmailIdentityMailFromAttributes", (*Handler).putMailFromAttributes, name, nil
	case sub == "sesame/checks" && method == http.MethodGet:
		return "SesameGetChecks", (*Handler).getChecks, name, nil
	case sub == "sesame/checks" && method == http.MethodPost:
		return "SesameCheckNow", (*Handler).checkNow, name, nil
	}
	return "", nil, "", errUnknownOperation(method, escapedPath)
}

func errUnknownOperation(method, path string) error {
	return api.Errorf(http.StatusNotFound, "UnknownOperationException", "No SES v2 operation is served at %s %s: this server implements the email identity, template, account and sending operations under /v2/email/.", method, path)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(func() {
		h.proto = api.Protocol{Name: "v2", OpKey: "operation", Log: h.Log, MapError: toAPIError, WriteError: writeError,
			Throttling: api.Error{Status: http.StatusTooManyRequests, Code: "TooManyRequestsException"}}
	})
	h.proto.Serve(w, r, h.serve)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, c *api.Call) error {
	// Routing needs no body: the operation, known first, says how large a
	// body it takes; an unknown one is reported once the signature holds.
	n, op, name, rerr := route(r.Method, r.URL.EscapedPath())
	rule := api.SmallBody
	if rerr == nil {
		c.Op = n
		if largeOperations[n] {
			rule = api.LargeBody
		}
	}
	if err := h.Auth.V2(w, r, c, rule); err != nil {
		return err
	}
	if rerr != nil {
		return rerr
	}
	out, err := op(h, &request{ctx: r.Context(), scope: registry.Scope{Account: c.Principal.Account, Region: c.Principal.Region}, http: r, body: c.Body, name: name})
	if err != nil {
		return err
	}
	writeJSON(w, c.ID, out)
	return nil
}

// largeOperations take bodies of up to api.Limits.TemplateBody: a template
// of close to 10 MB, JSON-escaped. Every other operation's body is small.
var largeOperations = map[string]bool{
	"CreateCustomVerificationEmailTemplate": true,
	"UpdateCustomVerificationEmailTemplate": true,
	"CreateEmailTemplate":                   true,
	"SendEmail":                             true,
	"SendBulkEmail":                         true,
	"UpdateEmailTemplate":                   true,
}

// decode reads the JSON body into v. An empty body is an empty object.
func (r *request) decode(v any) error {
	if len(r.body) == 0 {
		return nil
	}
	err := json.Unmarshal(r.body, v)
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te) && te.Field == "":
		return api.Errorf(http.StatusBadRequest, "BadRequestException", "The request body must be a JSON object, not %s %s.", article(te.Value), jsonName(te.Value))
	case errors.As(err, &te):
		return api.Errorf(http.StatusBadRequest, "BadRequestException", "Invalid request body: %s must be %s %s, not %s %s.", te.Field, article(jsonKind(te.Type)), jsonKind(te.Type), article(te.Value), jsonName(te.Value))
	case err != nil:
		return api.Errorf(http.StatusBadRequest, "BadRequestException", "The request body is not valid JSON for this operation: %v.", err)
	}
	return nil
}

// jsonKind names the JSON type that decodes into t, for messages.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "number"
}

// jsonName spells encoding/json's names of JSON values as the JSON
// specification does ("bool" is a boolean).
func jsonName(v string) string {
	if v == "bool" {
		return "boolean"
	}
	return v
}

func article(kind string) string {
	if kind != "" && strings.IndexByte("aeio", kind[0]) >= 0 {
		return "an"
	}
	return "a"
}

func toAPIError(err error) *api.Error {
	var e *api.Error
	if errors.As(err, &e) {
		return e
	}
	var re *registry.Error
	if !errors.As(err, &re) {
		return nil
	}
	if se := sendError(re); se != nil {
		return se
	}
	if me := mailError(re); me != nil {
		return me
	}
	switch re.Kind {
	case registry.NotFound:
		return &api.Error{Status: http.StatusNotFound, Code: "NotFoundException", Message: re.Message}
	case registry.AlreadyExists:
		return &api.Error{Status: http.StatusBadRequest, Code: "AlreadyExistsException", Message: re.Message}
	case registry.LimitExceeded:
		return &api.Error{Status: http.StatusBadRequest, Code: "LimitExceededException", Message: re.Message}
	}
	return &api.Error{Status: http.StatusBadRequest, Code: "BadRequestException", Message: re.Message}
}

func writeJSON(w http.ResponseWriter, rid string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, rid, api.InternalFailure)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("x-amzn-RequestId", rid)
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

func writeError(w http.ResponseWriter, rid string, e *api.Error) {
	code := e.Code
	if code == api.InternalFailure.Code {
		code = "InternalServiceErrorException"
	}
	b, _ := json.Marshal(map[string]string{"message": e.Message})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("x-amzn-RequestId", rid)
	h.Set("x-amzn-ErrorType", code)
	w.WriteHeader(e.Status)
	w.Write(b)
}

package api

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestProtocolServe: the handler shape both protocols share writes each
// kind of failure with the protocol's own error, logs what the client is
// not told, and survives a panic.
func TestProtocolServe(t *testing.T) {
	errMapped := errors.New("mapped")
	type written struct {
		Status     int
		Code, Msg  string
		Connection string
	}
	cases := []struct {
		name    string
		body    string
		fn      HandlerFunc
		want    written
		wantLog string
	}{
		{"ok", "", func(w http.ResponseWriter, r *http.Request, c *Call) error {
			c.Op = "Ping"
			w.WriteHeader(http.StatusOK)
			return nil
		}, written{Status: http.StatusOK}, ""},
		{"api error", "", func(w http.ResponseWriter, r *http.Request, c *Call) error {
			return Errorf(http.StatusBadRequest, "InvalidParameterValue", "bad %q", "x")
		}, written{http.StatusBadRequest, "InvalidParameterValue", `bad "x"`, ""}, ""},
		{"mapped by the protocol", "", func(w http.ResponseWriter, r *http.Request, c *Call) error {
			return errMapped
		}, written{http.StatusNotFound, "NotFound", "mapped", ""}, ""},
		{"throttled", "", func(w http.ResponseWriter, r *http.Request, c *Call) error {
			return Throttled("Rate exceeded")
		}, written{http.StatusTooManyRequests, "Slow", "Rate exceeded", ""}, ""},
		{"hidden cause", "", func(w http.ResponseWriter, r *http.Request, c *Call) error {
			return errors.New("disk on fire")
		}, written{http.StatusInternalServerError, "InternalFailure", InternalFailure.Message, ""}, "disk on fire"},
		{"panic", "", func(w http.ResponseWriter, r *http.Request, c *Call) error {
			c.Op = "Boom"
			panic("boom")
		}, written{http.StatusInternalServerError, "InternalFailure", InternalFailure.Message, ""}, "boom"},
		{"body left unread", "Action=x", func(w http.ResponseWriter, r *http.Request, c *Call) error {
			return Errorf(http.StatusForbidden, "MissingAuthenticationToken", "no")
		}, written{http.StatusForbidden, "MissingAuthenticationToken", "no", "close"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var log bytes.Buffer
			var got written
			p := &Protocol{
				Name: "test", OpKey: "action", Log: slog.New(slog.NewTextHandler(&log, nil)),
				MapError: func(err error) *Error {
					if err == errMapped {
						return &Error{Status: http.StatusNotFound, Code: "NotFound", Message: "mapped"}
					}
					return nil
				},
				WriteError: func(w http.ResponseWriter, rid string, e *Error) {
					if rid == "" {
						t.Error("no request ID")
					}
					got.Code, got.Msg = e.Code, e.Message
					w.WriteHeader(e.Status)
				},
				Throttling: Error{Status: http.StatusTooManyRequests, Code: "Slow"},
			}
			w := httptest.NewRecorder()
			p.Serve(w, httptest.NewRequest("POST", "/", strings.NewReader(c.body)), c.fn)
			got.Status, got.Connection = w.Code, w.Header().Get("Connection")
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("reply (-want +got):\n%s", diff)
			}
			if c.wantLog != "" && !strings.Contains(log.String(), c.wantLog) {
				t.Errorf("log %q lacks %q", log.String(), c.wantLog)
			}
			if c.wantLog == "" && log.Len() > 0 {
				t.Errorf("logged %q, want nothing", log.String())
			}
		})
	}
}

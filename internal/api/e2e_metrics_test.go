package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/sestest"
)

// scrape reads /metrics into "name{k="v",...}" -> value, with the labels
// sorted by name.
func scrape(t *testing.T, srv *sestest.Server) map[string]float64 {
	t.Helper()
	resp, body := srv.Do(srv.NewRequest("GET", "/metrics", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, body)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// The request counters are process-wide, so this test does not run in
// parallel and compares differences.
func TestMetrics(t *testing.T) {
	srv, a := start(t)
	ctx := t.Context()
	before := scrape(t, srv)

	verifyDomain(t, a.V1(east), "one.example")
	verifyDomain(t, a.V1(east), "two.example")
	verifyDkim(t, a.V1(east), "two.example")
	verifyEmail(t, a.V1(east), "pending@example.com")
	verifyEmail(t, a.V1(east), "done@example.com")
	markVerified(t, srv, a, east, "done@example.com")
	createIdentity(t, a.V2(west), "three.example")
	_, err := a.V2(east).GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("unknown.example")})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
	resp, body := send(t, srv, raw{Body: v1Body("Action", "Nope", "Version", "2010-12-01"), Creds: a.AWS()})
	wantV1Error(t, resp, body, http.StatusBadRequest, "InvalidAction")
	// The body of an unsigned request is never read: its action is known
	// only when it is in the query string.
	resp, body = send(t, srv, raw{Body: v1Body("Action", "ListIdentities", "Version", "2010-12-01")})
	wantV1Error(t, resp, body, http.StatusForbidden, "MissingAuthenticationToken")
	resp, body = send(t, srv, raw{Method: "GET", Target: "/?Action=ListIdentities&Version=2010-12-01"})
	wantV1Error(t, resp, body, http.StatusForbidden, "MissingAuthenticationToken")

	after := scrape(t, srv)
	requests := func(protocol, action, code string) float64 {
		k := `sesame_api_requests_total{action="` + action + `",code="` + code + `",protocol="` + protocol + `"}`
		return after[k] - before[k]
	}
	got := map[string]float64{
		"v1 VerifyDomainIdentity OK":            requests("v1", "VerifyDomainIdentity", "OK"),
		"v1 VerifyDomainDkim OK":                requests("v1", "VerifyDomainDkim", "OK"),
		"v1 VerifyEmailIdentity OK":             requests("v1", "VerifyEmailIdentity", "OK"),
		"v2 CreateEmailIdentity OK":             requests("v2", "CreateEmailIdentity", "OK"),
		"v2 GetEmailIdentity NotFoundException": requests("v2", "GetEmailIdentity", "NotFoundException"),
		"v1 unknown InvalidAction":              requests("v1", "unknown", "InvalidAction"),
		"v1 ListIdentities MissingAuth":         requests("v1", "ListIdentities", "MissingAuthenticationToken"),
		"v1 unknown MissingAuth":                requests("v1", "unknown", "MissingAuthenticationToken"),
	}
	want := map[string]float64{
		"v1 VerifyDomainIdentity OK":            2,
		"v1 VerifyDomainDkim OK":                1,
		"v1 VerifyEmailIdentity OK":             2,
		"v2 CreateEmailIdentity OK":             1,
		"v2 GetEmailIdentity NotFoundException": 1,
		"v1 unknown InvalidAction":              1,
		"v1 ListIdentities MissingAuth":         1,
		"v1 unknown MissingAuth":                1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sesame_api_requests_total increments (-want +got):\n%s", diff)
	}
	if _, ok := after[`sesame_api_request_duration_seconds_count{action="VerifyDomainIdentity",protocol="v1"}`]; !ok {
		t.Error("no sesame_api_request_duration_seconds for v1 VerifyDomainIdentity")
	}

	// sesame_identities counts this server's store, by type and status.
	gotIDs := map[string]float64{}
	for k, v := range after {
		if strings.HasPrefix(k, "sesame_identities{") {
			gotIDs[k] = v
		}
	}
	wantIDs := map[string]float64{
		`sesame_identities{status="Pending",type="Domain"}`:       3,
		`sesame_identities{status="Pending",type="EmailAddress"}`: 1,
		`sesame_identities{status="Success",type="EmailAddress"}`: 1,
	}
	if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
		t.Errorf("sesame_identities (-want +got):\n%s", diff)
	}
}

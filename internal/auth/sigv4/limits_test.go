package sigv4

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestEchoesAreClipped: a SignatureDoesNotMatch quotes the canonical request
// as AWS does, and other failures quote the header, but never in full: a
// 1 MB signed header gave a 6 MB reply.
func TestEchoesAreClipped(t *testing.T) {
	v := newVerifier("ses")
	big := strings.Repeat("x", 1<<20)
	s := sdkSign(t, "POST", sesHost+"/", http.Header{"Content-Type": {formType}, "X-Big": {big}}, v1Body, signOpts{secret: "not-the-secret", akid: testAKID})
	_, err := v.Verify(context.Background(), s.req, s.body)
	e, ok := err.(*Error)
	if !ok || e.Kind != Mismatch {
		t.Fatalf("Verify: %v, want a Mismatch", err)
	}
	if n := len(e.Message); n > 16<<10 {
		t.Errorf("SignatureDoesNotMatch message is %d bytes, want at most 16 KiB", n)
	}
	if n := len(e.CanonicalRequest); n > 16<<10 {
		t.Errorf("CanonicalRequest is %d bytes, want at most 16 KiB", n)
	}
	// What is kept still helps: the start, the end (the payload hash) and
	// what was left out.
	for _, want := range []string{"POST\n/\n", "bytes left out", "content-type;host;x-amz-date;x-big"} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("message lacks %q", want)
		}
	}

	// A garbled Authorization header is quoted back, clipped too.
	r := s.req.Clone(context.Background())
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+big)
	_, err = v.Verify(context.Background(), r, s.body)
	if e, ok := err.(*Error); !ok || len(e.Message) > 4<<10 {
		t.Errorf("garbled Authorization: %d-byte message (%v), want at most 4 KiB", len(err.Error()), ok)
	}
}

// TestBeginFinish: Begin decides everything but the signature without the
// body; Finish compares it with the body.
func TestBeginFinish(t *testing.T) {
	v := newVerifier("ses")
	ctx := context.Background()
	s := sdkSign(t, "POST", sesHost+"/", http.Header{"Content-Type": {formType}}, v1Body, signOpts{})
	p, err := v.Begin(ctx, s.req)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	if p.AccessKeyID() != testAKID {
		t.Errorf("AccessKeyID %q, want %q", p.AccessKeyID(), testAKID)
	}
	if _, err := p.Finish([]byte(v1Body + "&x=1")); err == nil {
		t.Error("Finish with another body: no error")
	}
	if res, err := p.Finish(s.body); err != nil || res.AccessKeyID != testAKID {
		t.Errorf("Finish: %v, %v", res, err)
	}
	unknown := sdkSign(t, "POST", sesHost+"/", http.Header{"Content-Type": {formType}}, v1Body, signOpts{akid: "AKIAUNKNOWN000000000", secret: "x"})
	if _, err := v.Begin(ctx, unknown.req); err == nil || err.(*Error).Kind != UnknownKey {
		t.Errorf("Begin with an unknown key: %v, want UnknownKey", err)
	}
	var zero Pending
	if _, err := zero.Finish(nil); err == nil {
		t.Error("Finish of a zero Pending: no error")
	}
}

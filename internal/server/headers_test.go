package server_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/sesame/sesame/internal/server"
)

var styleRE = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// TestSecurityHeaders: every HTML page the server sends (the console's, a
// verification link's, /outbox) carries the same security headers: a
// Content-Security-Policy that forbids framing, inline script and other
// sites' resources, nosniff, DENY framing, a Referrer-Policy and no-store.
// An inline style sheet is allowed by its hash only, and the hash must be
// the page's own or the browser drops the style.
func TestSecurityHeaders(t *testing.T) {
	e := start(t, server.Options{})
	e.verify(t, "user@example.com")
	link := e.outbox(t, "user@example.com").Link
	for _, path := range []string{
		"/console", "/console/", "/console/signin", "/console/identities", "/console/nope",
		"/verify?token=nonsense", strings.TrimPrefix(link, e.url),
		"/outbox", "/outbox/x",
	} {
		resp, err := e.web.Get(e.url + path)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: Content-Security-Policy %q without %s", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: Content-Security-Policy %q allows inline code", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: X-Content-Type-Options %q, X-Frame-Options %q, Cache-Control %q", path,
				h.Get("X-Content-Type-Options"), h.Get("X-Frame-Options"), h.Get("Cache-Control"))
		}
		if rp := h.Get("Referrer-Policy"); rp != "same-origin" && rp != "no-referrer" {
			t.Errorf("%s: Referrer-Policy %q", path, rp)
		}
		for _, m := range styleRE.FindAllStringSubmatch(body, -1) {
			sum := sha256.Sum256([]byte(m[1]))
			if hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, hash) {
				t.Errorf("%s: its inline style's hash %s is not in the Content-Security-Policy %q", path, hash, csp)
			}
		}
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// Package webhdr sets the security headers of every HTML page Sesame
// serves (the console's, a verification link's), so that one policy holds
// for all of them: no framing, no inline script, nothing loaded from or
// sent to other sites, nothing kept in shared caches.
package webhdr

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
)

// policy is the Content-Security-Policy; %s is where the hashes of the
// inline style sheets a page may carry go.
const policy = "default-src 'self'; script-src 'self'; style-src 'self'%s; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Set sets the headers on h. styles are the inline style sheets the page
// may carry, as StyleHash gives them; none, only the site's own files.
// Cache-Control is no-store: callers that serve static files set theirs
// afterwards.
func Set(h http.Header, styles ...string) {
	extra := ""
	if len(styles) > 0 {
		extra = " " + strings.Join(styles, " ")
	}
	h.Set("Content-Security-Policy", strings.Replace(policy, "%s", extra, 1))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// StyleHash is the CSP source that allows the inline style sheet css (the
// text between <style> and </style>, exactly) and no other.
func StyleHash(css string) string {
	sum := sha256.Sum256([]byte(css))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

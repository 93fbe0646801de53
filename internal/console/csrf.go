package console

import (
	"crypto/subtle"
	"net/http"
)

// CSRFField is the hidden form field that carries the session's token.
const CSRFField = "csrf"

// maxForm bounds a form body; the largest form is a name and a few options.
const maxForm = 64 << 10

// crossOrigin refuses requests that browsers mark as coming from another
// site (Sec-Fetch-Site, or Origin against Host): a second line behind the
// token, for a token that leaked.
var crossOrigin = http.NewCrossOriginProtection()

// checkCSRF reports whether a state-changing request is the console's own:
// same origin, and the form's token equal (in constant time) to the one in
// the signed session cookie. Every POST goes through it, sign-in included.
func checkCSRF(r *http.Request, s *session) bool {
	if crossOrigin.Check(r) != nil || s == nil {
		return false
	}
	got := r.PostFormValue(CSRFField)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

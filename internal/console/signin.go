package console

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"
)

func (c *Console) index(w http.ResponseWriter, r *http.Request) {
	if s := c.ss.read(r); s != nil && s.signedIn() {
		http.Redirect(w, r, "/console/identities", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}

type signinData struct {
	CSRF    string
	Next    string
	KeyID   string
	Region  string
	Regions []string
	Error   string
	Notice  string
}

// signinForm shows the form, and gives a visitor without a session an
// anonymous one: its CSRF token protects the sign-in itself.
func (c *Console) signinForm(w http.ResponseWriter, r *http.Request) {
	s := c.ss.read(r)
	if s != nil && s.signedIn() && r.URL.Query().Get("why") == "" {
		// Signed in already; a revoked key is caught on the next page.
		to := safeNext(r.URL.Query().Get("next"))
		if to == "" {
			to = "/console/identities"
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	if s == nil || s.signedIn() {
		s = c.ss.fresh("", "", "")
		c.ss.write(w, s)
	}
	d := signinData{CSRF: s.CSRF, Next: safeNext(r.URL.Query().Get("next")), Region: DefaultRegion, Regions: Regions}
	switch r.URL.Query().Get("why") {
	case "revoked":
		d.Notice = "Your access key is no longer active. Sign in with an active key."
	case "signedout":
		d.Notice = "You have signed out."
	}
	c.render(w, r, nil, http.StatusOK, "signin.html", "Sign in", d)
}

// signin checks an access key ID and its secret key. Both wrong and
// unknown keys get the same answer, so the form reveals no key IDs.
func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	s := c.ss.read(r)
	if !checkCSRF(r, s) {
		if s == nil {
			s = c.ss.fresh("", "", "")
			c.ss.write(w, s)
		}
		c.render(w, r, nil, http.StatusForbidden, "signin.html", "Sign in", signinData{CSRF: s.CSRF, Region: DefaultRegion, Regions: Regions,
			Error: "The form expired or your browser refused the session cookie (cookies must be allowed for this site). Try again."})
		return
	}
	keyID := strings.TrimSpace(r.PostFormValue("access_key_id"))
	secret := strings.TrimSpace(r.PostFormValue("secret_access_key"))
	region := r.PostFormValue("region")
	if !slices.Contains(Regions, region) {
		region = DefaultRegion
	}
	d := signinData{CSRF: s.CSRF, Next: safeNext(r.PostFormValue("next")), KeyID: keyID, Region: region, Regions: Regions}
	k, ok, err := c.Accounts.Resolve(r.Context(), keyID)
	if err != nil {
		c.Log.Error("resolving an access key at sign-in", "err", err)
		d.Error = "The server could not check the key now. Try again in a moment."
		c.render(w, r, nil, http.StatusServiceUnavailable, "signin.html", "Sign in", d)
		return
	}
	// Compare even for an unknown key, so both cases take the same time.
	good := subtle.ConstantTimeCompare([]byte(secret), []byte(k.Secret)) == 1
	if !ok || !good || secret == "" {
		c.Log.Info("console sign-in refused", "access_key_id", keyID, "remote", r.RemoteAddr)
		d.Error = "Wrong access key ID or secret access key, or the key was revoked."
		c.render(w, r, nil, http.StatusUnauthorized, "signin.html", "Sign in", d)
		return
	}
	c.ss.write(w, c.ss.fresh(k.Account, keyID, region))
	c.Log.Info("console sign-in", "account", k.Account, "access_key_id", keyID)
	to := d.Next
	if to == "" {
		to = "/console/identities"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// safeNext keeps a return address only if it is a console page, so the
// sign-in form cannot send anyone to another site.
func safeNext(s string) string {
	if !strings.HasPrefix(s, Prefix) || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\r\n") {
		return ""
	}
	return s
}

func (c *Console) signout(w http.ResponseWriter, r *request) error {
	c.ss.write(w, c.ss.fresh("", "", ""))
	http.Redirect(w, r.Request, "/console/signin?why=signedout", http.StatusSeeOther)
	return nil
}

// region switches the session to another region; identities are per
// region, as in SES.
func (c *Console) region(w http.ResponseWriter, r *request) error {
	reg := r.PostFormValue("region")
	if !slices.Contains(Regions, reg) {
		c.errorPage(w, r.Request, r.s, http.StatusBadRequest, "Unknown region: choose one from the list.")
		return nil
	}
	s := *r.s
	s.Region = reg
	c.ss.write(w, &s)
	to := safeNext(r.PostFormValue("next"))
	if to == "" || strings.HasPrefix(to, "/console/identities/") {
		to = "/console/identities" // an identity of one region is not in another
	}
	http.Redirect(w, r.Request, to, http.StatusSeeOther)
	return nil
}

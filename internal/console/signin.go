package console

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/auth/throttle"
)

func (c *Console) index(w http.ResponseWriter, r *http.Request) {
	if s, _ := c.signedIn(r); s != nil {
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
	live, err := c.signedIn(r)
	if err != nil {
		c.Log.Error("reading the sign-outs", "err", err)
	}
	if live != nil && r.URL.Query().Get("why") == "" {
		// Signed in already; a revoked key is caught on the next page.
		to := safeNext(r.URL.Query().Get("next"))
		if to == "" {
			to = "/console/identities"
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	s := c.ss.read(r)
	if s == nil || s.signedIn() {
		// A new anonymous session, also in place of a signed-in one (whose
		// key was revoked, or which was signed out).
		s = c.ss.fresh("", "", "")
		c.ss.write(w, s)
	}
	d := signinData{CSRF: s.CSRF, Next: safeNext(r.URL.Query().Get("next")), Region: DefaultRegion, Regions: c.regions()}
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
		c.render(w, r, nil, http.StatusForbidden, "signin.html", "Sign in", signinData{CSRF: s.CSRF, Region: DefaultRegion, Regions: c.regions(),
			Error: "The form expired or your browser refused the session cookie (cookies must be allowed for this site). Try again."})
		return
	}
	keyID := strings.TrimSpace(r.PostFormValue("access_key_id"))
	secret := strings.TrimSpace(r.PostFormValue("secret_access_key"))
	region := r.PostFormValue("region")
	if !slices.Contains(c.regions(), region) {
		region = DefaultRegion
	}
	d := signinData{CSRF: s.CSRF, Next: safeNext(r.PostFormValue("next")), Region: region, Regions: c.regions()}
	wellFormed := account.WellFormedKeyID(keyID)
	if len(keyID) <= 2*account.KeyIDLen {
		d.KeyID = keyID // shown again to fix a typo; not a pasted page of text
	}
	// Held back before the secret is checked: a guess made while waiting
	// tells nothing, even a right one.
	addr := throttle.Addr(r.RemoteAddr)
	keys := []throttle.Key{addr}
	if wellFormed {
		keys = append(keys, throttle.PairKey(keyID, addr)) // any other ID names no key; the address counts it
	}
	wait, tk := c.throttle.Begin(c.now(), keys...)
	if wait > 0 {
		c.tooMany(w, r, d, wait)
		return
	}
	var k account.Key
	var ok bool
	if wellFormed {
		var err error
		k, ok, err = c.Accounts.Resolve(r.Context(), keyID)
		if err != nil {
			c.Log.Error("resolving an access key at sign-in", "err", err)
			d.Error = "The server could not check the key now. Try again in a moment."
			c.render(w, r, nil, http.StatusServiceUnavailable, "signin.html", "Sign in", d)
			return
		}
	}
	// Compare even for an unknown key, so both cases take the same time.
	good := subtle.ConstantTimeCompare([]byte(secret), []byte(k.Secret)) == 1
	if !ok || !good || secret == "" {
		c.Log.Info("console sign-in refused", "access_key_id", account.LoggedKeyID(keyID), "remote", r.RemoteAddr)
		if tk.Held > 0 {
			// Counted on the shared overflow entry, which holds failures
			// back: refused as an attempt of its own would be.
			c.tooMany(w, r, d, tk.Held)
			return
		}
		d.Error = "Wrong access key ID or secret access key, or the key was revoked."
		c.render(w, r, nil, http.StatusUnauthorized, "signin.html", "Sign in", d)
		return
	}
	c.throttle.Succeeded(tk)
	c.ss.write(w, c.ss.fresh(k.Account, keyID, region))
	c.Log.Info("console sign-in", "account", k.Account, "access_key_id", keyID)
	to := d.Next
	if to == "" {
		to = "/console/identities"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// tooMany answers a sign-in held back for wait: 429, with Retry-After.
func (c *Console) tooMany(w http.ResponseWriter, r *http.Request, d signinData, wait time.Duration) {
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	d.Error = fmt.Sprintf("Too many failed sign-ins from your address, or for this access key ID from it. Wait %d seconds, then try again.", secs)
	c.render(w, r, nil, http.StatusTooManyRequests, "signin.html", "Sign in", d)
}

// safeNext keeps a return address only if it is a console page, so the
// sign-in form cannot send anyone to another site.
func safeNext(s string) string {
	if !strings.HasPrefix(s, Prefix) || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\r\n") {
		return ""
	}
	return s
}

// region switches the session to another region; identities are per
// region, as in SES.
func (c *Console) region(w http.ResponseWriter, r *request) error {
	reg := r.PostFormValue("region")
	if !slices.Contains(c.regions(), reg) {
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

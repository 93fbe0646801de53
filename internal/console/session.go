package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/sesame/sesame/internal/keyfile"
)

// KeyFile is the default name of the session signing key, in the data
// directory beside the sealing key of secret access keys.
const KeyFile = "console.key"

// CookieName is the session cookie.
const CookieName = "sesame_console"

// DefaultSessionTTL is how long a sign-in lasts. It is absolute, not
// sliding: a cookie copied from a browser stops working by itself.
const DefaultSessionTTL = 12 * time.Hour

// session is what the cookie carries. A visitor who has not signed in has
// one too, without an account, so the sign-in form has a CSRF token (a
// forged sign-in would put the victim in the attacker's account).
type session struct {
	// ID names a signed-in session, so that signing out can kill it
	// (Signouts): the cookie is valid only while its ID is not signed out.
	ID      string `json:"i,omitempty"`
	Account string `json:"a,omitempty"`
	KeyID   string `json:"k,omitempty"` // checked to be active on every request
	Region  string `json:"r,omitempty"`
	CSRF    string `json:"c"`
	Expires int64  `json:"e"` // Unix seconds
}

func (s *session) signedIn() bool { return s.Account != "" && s.KeyID != "" && s.ID != "" }

// sessions signs and checks session cookies with HMAC-SHA256. The cookie is
// not encrypted: it holds an account ID and an access key ID, never the
// secret, and a CSRF token that is only of use together with the cookie.
type sessions struct {
	key    []byte
	ttl    time.Duration
	secure bool
	now    func() time.Time
}

// macLabel separates these MACs from any other use of the key.
const macLabel = "sesame-console-session-v1\x00"

func (ss *sessions) mac(payload string) []byte {
	h := hmac.New(sha256.New, ss.key)
	h.Write([]byte(macLabel))
	h.Write([]byte(payload))
	return h.Sum(nil)
}

// encode returns the cookie value: payload "." MAC, both base64url.
func (ss *sessions) encode(s *session) string {
	b, _ := json.Marshal(s)
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + base64.RawURLEncoding.EncodeToString(ss.mac(p))
}

var errBadSession = errors.New("session cookie missing, forged or expired")

// decode checks the MAC (in constant time) and the expiry.
func (ss *sessions) decode(v string) (*session, error) {
	p, m, ok := strings.Cut(v, ".")
	if !ok {
		return nil, errBadSession
	}
	got, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil || !hmac.Equal(got, ss.mac(p)) {
		return nil, errBadSession
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return nil, errBadSession
	}
	var s session
	if err := json.Unmarshal(b, &s); err != nil || s.CSRF == "" {
		return nil, errBadSession
	}
	if !ss.now().Before(time.Unix(s.Expires, 0)) {
		return nil, errBadSession
	}
	return &s, nil
}

// read returns the request's valid session, or nil.
func (ss *sessions) read(r *http.Request) *session {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return nil
	}
	s, err := ss.decode(c.Value)
	if err != nil {
		return nil
	}
	return s
}

// fresh returns a new session with a new CSRF token, so that signing in or
// out never keeps a token an attacker may have planted or seen.
func (ss *sessions) fresh(account, keyID, region string) *session {
	s := &session{Account: account, KeyID: keyID, Region: region, CSRF: randomToken(), Expires: ss.now().Add(ss.ttl).Unix()}
	if account != "" {
		s.ID = randomToken()
	}
	return s
}

// write sets the cookie: HttpOnly so scripts cannot read it, SameSite=Lax
// so other sites' forms do not carry it, Secure when served over HTTPS,
// and scoped to the console's path.
func (ss *sessions) write(w http.ResponseWriter, s *session) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: ss.encode(s), Path: Prefix,
		Expires: time.Unix(s.Expires, 0), HttpOnly: true, Secure: ss.secure, SameSite: http.SameSiteLaxMode,
	})
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// LoadKey reads the hex session key in path, creating the file (mode 0600)
// with a new random key when it does not exist, as the account sealing key
// is. Deleting the file signs everyone out at the next start.
func LoadKey(path string) ([]byte, error) {
	return keyfile.Load(path, "console session key")
}

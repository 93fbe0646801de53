// Package sigv4 verifies AWS Signature Version 4 on incoming requests.
//
// Both forms the AWS SDKs and CLI send to SES are accepted: the Authorization
// header ("AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…") and
// presigned query strings (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
// X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature). The canonical request
// is rebuilt from the request as it arrived on the wire (the escaped path,
// the raw query, exactly the headers the client listed in SignedHeaders) and
// the signature is recomputed with the secret returned by Lookup.
//
// SES is not S3: the canonical URI is the escaped path escaped once more,
// and the payload hash is always the SHA-256 of the body (an
// x-amz-content-sha256 header, if sent, must equal it; UNSIGNED-PAYLOAD is
// refused). X-Amz-Security-Token is covered by the signature when the client
// signed it but is not otherwise checked: Sesame issues no session credentials.
//
// Why not the SDK's signer (aws-sdk-go-v2's v4.Signer): it signs, choosing
// the headers itself and leaving some out (User-Agent, X-Amzn-Trace-Id...),
// while a verifier must canonicalise exactly the headers each client chose,
// and botocore chooses differently from the Go SDK. The canonicalisation
// here is therefore tested against requests signed by the SDK's signer, by
// botocore (the aws CLI and boto3) and presigned by both (clients_test.go).
package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	algorithm   = "AWS4-HMAC-SHA256"
	timeFormat  = "20060102T150405Z" // ISO 8601 basic, as in X-Amz-Date
	terminator  = "aws4_request"
	defaultSkew = 15 * time.Minute
	// maxExpires is the longest X-Amz-Expires AWS allows: a signing key is
	// valid for seven days.
	maxExpires = 7 * 24 * 60 * 60
)

// Lookup returns the secret access key of an access key ID; ok is false when the key is unknown or revoked.
type Lookup func(ctx context.Context, accessKeyID string) (secret string, ok bool, err error)

// Verifier checks SigV4 signatures. Its fields must be set before the first
// Verify and not changed afterwards; a Verifier is safe for concurrent use and
// must not be copied after first use (it holds the signing-key cache).
type Verifier struct {
	Lookup   Lookup
	Services []string         // accepted service names in the credential scope, e.g. {"ses"} for v2, {"ses", "email"} for v1; {"ses"} when empty
	Regions  []string         // accepted regions in the credential scope; when empty, any name ValidRegion accepts
	MaxSkew  time.Duration    // default 15 * time.Minute when zero
	Now      func() time.Time // default time.Now

	keys keyCache
}

// Result tells who signed a request.
type Result struct {
	AccessKeyID string
	Region      string // from the credential scope
	Service     string
	Time        time.Time
}

// authInfo is the signature information parsed from one request.
type authInfo struct {
	presigned     bool
	accessKeyID   string
	scope         string // date/region/service/terminator, verbatim for the string to sign
	date          string // scope parts
	region        string
	service       string
	term          string
	signedHeaders string
	signature     string
	amzDate       string // timestamp written in the string to sign
	dateFrom      string // "X-Amz-Date" or "Date", for messages
	t             time.Time
	expires       int64 // presigned X-Amz-Expires in seconds; -1 when absent
}

// Verify checks r. body is the complete request body, already read by the caller (r.Body is not read).
// It is Begin and then Finish.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (*Result, error) {
	p, err := v.Begin(ctx, r)
	if err != nil {
		return nil, err
	}
	return p.Finish(body)
}

// Pending is a request whose signature information was checked and whose
// access key is known, waiting for its body: Finish compares the signature.
// The signature covers the body's hash, so no signature can be checked
// before the body is read; but an unsigned or badly signed request, or one
// from an unknown key, fails in Begin, before a server reads its body.
type Pending struct {
	r   *http.Request
	a   authInfo
	key [32]byte
}

// AccessKeyID is the key the request names; Finish says whether it signed it.
func (p *Pending) AccessKeyID() string { return p.a.accessKeyID }

// Begin checks everything that does not need the body, in this order:
// presence and syntax (Missing, Incomplete), credential scope (Mismatch),
// time (Expired), access key (UnknownKey). A Lookup error is returned as-is.
func (v *Verifier) Begin(ctx context.Context, r *http.Request) (Pending, error) {
	p := Pending{r: r}
	a := &p.a
	if e := parseRequest(r, a); e != nil {
		return p, e
	}
	if e := v.checkScope(a); e != nil {
		return p, e
	}
	if e := v.checkTime(a); e != nil {
		return p, e
	}
	if v.Lookup == nil {
		return p, errors.New("sigv4: Verifier.Lookup is nil")
	}
	if a.accessKeyID == "" {
		return p, newErr(UnknownKey, msgInvalidToken)
	}
	secret, ok, err := v.Lookup(ctx, a.accessKeyID)
	if err != nil {
		return p, err
	}
	if !ok {
		return p, newErr(UnknownKey, msgInvalidToken)
	}
	p.key = v.keys.signingKey(a.accessKeyID, secret, a.date, a.region, a.service)
	return p, nil
}

// Finish compares the signature of a request that Begin accepted; body is
// the complete request body (Mismatch when it is not what was signed).
func (p *Pending) Finish(body []byte) (*Result, error) {
	if p.r == nil {
		return nil, errors.New("sigv4: Finish without a successful Begin")
	}
	a := &p.a
	if e := checkSignature(p.r, body, a, &p.key); e != nil {
		return nil, e
	}
	return &Result{AccessKeyID: a.accessKeyID, Region: a.region, Service: a.service, Time: a.t}, nil
}

// parseRequest finds and parses the signature, in the header or the query.
func parseRequest(r *http.Request, a *authInfo) *Error {
	var authz string
	if vs := r.Header["Authorization"]; len(vs) > 0 {
		authz = strings.TrimSpace(vs[0])
	}
	_, rawQuery := requestTarget(r)
	presigned := hasQueryKey(rawQuery, "X-Amz-Algorithm")
	switch {
	case authz != "" && presigned:
		return newErr(Incomplete, msgTwoMechanisms)
	case authz != "":
		return parseAuthorization(r, authz, a)
	case presigned:
		return parsePresigned(rawQuery, a)
	}
	return newErr(Missing, msgMissing)
}

func parseAuthorization(r *http.Request, authz string, a *authInfo) *Error {
	alg, rest, _ := strings.Cut(authz, " ")
	if alg != algorithm {
		return newErr(Mismatch, "Unsupported AWS 'algorithm': '"+alg+"'")
	}
	var cred, signed, sig string
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			if cred == "" {
				cred = val
			}
		case "SignedHeaders":
			if signed == "" {
				signed = val
			}
		case "Signature":
			if sig == "" {
				sig = val
			}
		}
	}
	// AWS accepts Date when X-Amz-Date is absent; botocore signs that way when
	// the caller set a Date header.
	date, dateFrom := firstHeader(r.Header, "X-Amz-Date"), "X-Amz-Date"
	if date == "" {
		date, dateFrom = firstHeader(r.Header, "Date"), "Date"
	}
	if cred == "" || signed == "" || sig == "" || date == "" {
		var b strings.Builder
		if cred == "" {
			b.WriteString("Authorization header requires 'Credential' parameter. ")
		}
		if sig == "" {
			b.WriteString("Authorization header requires 'Signature' parameter. ")
		}
		if signed == "" {
			b.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
		}
		if date == "" {
			b.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
		}
		b.WriteString("Authorization=")
		b.WriteString(authz)
		return newErr(Incomplete, b.String())
	}
	a.signedHeaders, a.signature, a.expires = signed, sig, -1
	if e := parseCredential(cred, a); e != nil {
		return e
	}
	if dateFrom == "Date" {
		t, ok := parseHTTPDate(date)
		if !ok {
			return newErr(Incomplete, "Date must be in RFC 1123 format. Got '"+date+"'.")
		}
		a.t, a.amzDate = t, t.Format(timeFormat)
	} else if e := parseAmzDate(date, a); e != nil {
		return e
	}
	a.dateFrom = dateFrom
	if !signsHost(signed) {
		return newErr(Incomplete, msgHostNotSigned)
	}
	return nil
}

func parsePresigned(rawQuery string, a *authInfo) *Error {
	q, _ := url.ParseQuery(rawQuery) // pairs that fail to parse are dropped; the signature check sees them
	alg := q.Get("X-Amz-Algorithm")
	cred, date := q.Get("X-Amz-Credential"), q.Get("X-Amz-Date")
	signed, sig := q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Signature")
	if alg == "" || cred == "" || date == "" || signed == "" || sig == "" {
		return newErr(Incomplete, msgPresignMissing)
	}
	if alg != algorithm {
		return newErr(Mismatch, "X-Amz-Algorithm only supports '"+algorithm+"'")
	}
	a.presigned, a.signedHeaders, a.signature, a.dateFrom, a.expires = true, signed, sig, "X-Amz-Date", -1
	if exp, ok := q["X-Amz-Expires"]; ok && len(exp) > 0 {
		n, err := strconv.ParseInt(exp[0], 10, 64)
		switch {
		case err != nil || n < 0:
			return newErr(Incomplete, "X-Amz-Expires should be a number")
		case n > maxExpires:
			return newErr(Incomplete, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
		}
		a.expires = n
	}
	if e := parseCredential(cred, a); e != nil {
		return e
	}
	if e := parseAmzDate(date, a); e != nil {
		return e
	}
	if !signsHost(signed) {
		return newErr(Incomplete, msgHostNotSigned)
	}
	return nil
}

// parseCredential splits keyid/date/region/service/aws4_request.
func parseCredential(cred string, a *authInfo) *Error {
	akid, scope, ok := strings.Cut(cred, "/")
	date, rest, ok2 := strings.Cut(scope, "/")
	region, rest, ok3 := strings.Cut(rest, "/")
	service, term, ok4 := strings.Cut(rest, "/")
	if !ok || !ok2 || !ok3 || !ok4 || strings.IndexByte(term, '/') >= 0 {
		return newErr(Incomplete, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '"+cred+"'")
	}
	a.accessKeyID, a.scope = akid, scope
	a.date, a.region, a.service, a.term = date, region, service, term
	return nil
}

// parseHTTPDate accepts the Date formats of http.ParseTime plus RFC 1123 with
// a numeric zone, which botocore sends ("Tue, 24 Nov 2026 05:12:20 -0000").
func parseHTTPDate(s string) (time.Time, bool) {
	for _, layout := range []string{http.TimeFormat, time.RFC1123, time.RFC1123Z, time.RFC850, time.ANSIC} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func parseAmzDate(s string, a *authInfo) *Error {
	t, err := time.Parse(timeFormat, s)
	if err != nil || len(s) != len(timeFormat) {
		return newErr(Incomplete, "Date must be in ISO-8601 'basic format'. Got '"+s+"'. See http://en.wikipedia.org/wiki/ISO_8601")
	}
	a.t, a.amzDate = t, s
	return nil
}

func (v *Verifier) checkScope(a *authInfo) *Error {
	if a.term != terminator {
		return newErr(Mismatch, "Credential should be scoped with a valid terminator: '"+terminator+"', not '"+a.term+"'.")
	}
	if err := v.checkRegion(a.region); err != nil {
		return err
	}
	services := v.Services
	if len(services) == 0 {
		services = []string{"ses"}
	}
	if !slices.Contains(services, a.service) {
		return newErr(Mismatch, "Credential should be scoped to correct service: '"+services[0]+"'.")
	}
	if a.date != a.amzDate[:8] {
		return newErr(Mismatch, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+
			a.date+"' != '"+a.amzDate[:8]+"', from '"+a.dateFrom+"'.")
	}
	return nil
}

// checkRegion refuses a region of the credential scope that is not served
// with the error AWS gives for a wrong scope region, SignatureDoesNotMatch
// "Credential should be scoped to a valid region". With Regions set only
// those are served (the operator's list, or SES's own), so a name shaped
// like a region that no SES endpoint has ("zz-fake-9") is refused too.
func (v *Verifier) checkRegion(r string) *Error {
	const msg = "Credential should be scoped to a valid region, not '"
	switch {
	case len(v.Regions) > 0 && !slices.Contains(v.Regions, r):
		return newErr(Mismatch, msg+r+"'. Use a region this server serves: "+strings.Join(v.Regions, ", ")+".")
	case !ValidRegion(r):
		return newErr(Mismatch, msg+r+"'. A region is lower-case letters, digits and hyphens, such as us-east-1.")
	}
	return nil
}

// ValidRegion reports whether r is shaped like an AWS region name:
// lower-case letters, digits and hyphens, starting with a letter, at most
// 63 octets. Identities are kept per region and the region goes into DNS
// names (the MAIL FROM MX host), so "US-EAST-1" or "a b" must not become
// regions of their own, whatever list of regions is served.
func ValidRegion(r string) bool {
	if r == "" || len(r) > 63 || r[0] < 'a' || r[0] > 'z' || r[len(r)-1] == '-' {
		return false
	}
	for i := 0; i < len(r); i++ {
		if c := r[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// checkTime enforces the clock-skew window; a presigned URL with X-Amz-Expires
// is instead valid from (signing time - skew) to (signing time + expires).
func (v *Verifier) checkTime(a *authInfo) *Error {
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	skew := v.MaxSkew
	if skew <= 0 {
		skew = defaultSkew
	}
	if a.presigned && a.expires >= 0 {
		if a.t.Sub(now) > skew {
			return skewErr(a.t, now, skew)
		}
		if now.Sub(a.t) > time.Duration(a.expires)*time.Second {
			return newErr(Expired, msgPresignExpired)
		}
		return nil
	}
	if d := now.Sub(a.t); d > skew || d < -skew {
		return skewErr(a.t, now, skew)
	}
	return nil
}

// checkSignature recomputes the signature and compares it in constant time.
// The SDK-style canonical request is tried first; on a mismatch, the
// equivalent forms other real clients produce are tried (see variants).
func checkSignature(r *http.Request, body []byte, a *authInfo, key *[32]byte) *Error {
	s := scratchPool.Get().(*scratch)
	defer putScratch(s)

	var payload [64]byte
	sum := sha256.Sum256(body)
	hex.Encode(payload[:], sum[:])
	if !a.presigned {
		// Clients that send x-amz-content-sha256 (JS v3, S3-style signers) use
		// it as the payload hash. SES has no unsigned payloads: it must be the
		// body's hash.
		if h := firstHeader(r.Header, "X-Amz-Content-Sha256"); h != "" {
			if !strings.EqualFold(h, string(payload[:])) {
				return newErr(Mismatch, msgPayloadHash)
			}
			copy(payload[:], h)
		}
	}
	var want [32]byte
	sigOK := decodeHex(want[:], a.signature)

	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	host := r.Host
	if host == "" && r.URL != nil {
		host = r.URL.Host
	}
	path, rawQuery := requestTarget(r)

	s.uri = appendURI(s.uri[:0], path)
	s.query = s.appendCanonicalQuery(s.query[:0], rawQuery, a.presigned)
	s.hdrs = s.appendCanonicalHeaders(s.hdrs[:0], r, a.signedHeaders, host, len(body))
	if s.matches(method, s.uri, s.query, s.hdrs, a, payload[:], key, &want) && sigOK {
		return nil
	}
	mismatch := mismatchErr(s.canon, s.sts)

	// Variants, tried only after a mismatch (so they cost nothing for good
	// requests): botocore removes dot segments and empty segments from the
	// path, sorts the raw query pairs without re-encoding them, and signs the
	// host without a default port.
	uris := [][]byte{s.uri}
	if np := normalizePath(path); np != path {
		uris = append(uris, appendURI(nil, np))
	}
	queries := [][]byte{s.query}
	if rq := rawSortedQuery(rawQuery, a.presigned); rq != string(s.query) {
		queries = append(queries, []byte(rq))
	}
	hdrs := [][]byte{s.hdrs}
	if h := stripDefaultPort(host); h != host {
		hdrs = append(hdrs, s.appendCanonicalHeaders(nil, r, a.signedHeaders, h, len(body)))
	}
	for i, u := range uris {
		for j, q := range queries {
			for k, h := range hdrs {
				if i+j+k == 0 {
					continue // the primary form, already tried
				}
				if s.matches(method, u, q, h, a, payload[:], key, &want) && sigOK {
					return nil
				}
			}
		}
	}
	return mismatch
}

func (s *scratch) matches(method string, uri, query, hdrs []byte, a *authInfo, payload []byte, key, want *[32]byte) bool {
	canon := s.buildCanonical(method, uri, query, hdrs, a.signedHeaders, payload)
	sts := s.buildStringToSign(a.amzDate, a.scope, canon)
	got := s.sign(key, sts)
	return hmac.Equal(got[:], want[:])
}

// putScratch returns buffers to the pool unless one request made them huge.
func putScratch(s *scratch) {
	const maxKeep = 64 << 10
	if cap(s.canon) > maxKeep || cap(s.qbuf) > maxKeep || cap(s.mac) > maxKeep {
		return
	}
	scratchPool.Put(s)
}

// requestTarget returns the path (still percent-encoded) and raw query as the
// client sent them. RequestURI is preferred: it is the exact wire form, even
// if a middleware rewrote r.URL (e.g. http.StripPrefix).
func requestTarget(r *http.Request) (path, rawQuery string) {
	if u := r.RequestURI; u != "" && u != "*" {
		if u[0] != '/' {
			// absolute-form: scheme://authority/path?query
			if i := strings.Index(u, "://"); i >= 0 {
				u = u[i+3:]
				if j := strings.IndexAny(u, "/?"); j >= 0 {
					u = u[j:]
				} else {
					u = ""
				}
			}
		}
		path, rawQuery, _ = strings.Cut(u, "?")
		if path == "" {
			path = "/"
		}
		return path, rawQuery
	}
	if r.URL == nil {
		return "/", ""
	}
	if o := r.URL.Opaque; o != "" {
		// "//host/path", as documented for the SDK signer.
		o, _, _ = strings.Cut(o, "?")
		o = strings.TrimPrefix(o, "//")
		if i := strings.IndexByte(o, '/'); i >= 0 {
			return o[i:], r.URL.RawQuery
		}
		return "/", r.URL.RawQuery
	}
	path = r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	return path, r.URL.RawQuery
}

func hasQueryKey(raw, key string) bool {
	if !strings.Contains(raw, key) {
		return false
	}
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if k, _, _ := strings.Cut(part, "="); k == key {
			return true
		}
	}
	return false
}

func signsHost(signed string) bool {
	for signed != "" {
		var name string
		name, signed, _ = strings.Cut(signed, ";")
		if name == "host" {
			return true
		}
	}
	return false
}

func firstHeader(h http.Header, canonicalKey string) string {
	if vs := h[canonicalKey]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func stripDefaultPort(host string) string {
	if h, ok := strings.CutSuffix(host, ":443"); ok {
		return h
	}
	if h, ok := strings.CutSuffix(host, ":80"); ok {
		return h
	}
	return host
}

// decodeHex decodes a 64-digit hex signature into dst without allocating.
func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

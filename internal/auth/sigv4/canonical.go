package sigv4

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The canonical request is written here rather than by re-signing a clone with
// the SDK's v4.Signer, for three reasons:
//   - speed: the SDK path clones the request, builds maps and sorts per call
//     (52 allocations, ~8 µs in BenchmarkSDKResign); this path allocates nothing;
//   - the SDK signer silently drops headers a client may have signed
//     (User-Agent, Expect, X-Amzn-Trace-Id, Transfer-Encoding) and always adds
//     content-length when ContentLength > 0, so it cannot reproduce every
//     client's canonical request;
//   - botocore (aws CLI, boto3) canonicalises a few things differently
//     (dot-segment/double-slash path normalisation, raw query sorting), which
//     Verify tries as fallbacks.
// Tests cross-check the output byte for byte against the SDK's canonical string.

// scratch holds the reusable buffers of one verification.
type scratch struct {
	canon []byte // canonical request
	sts   []byte // string to sign
	mac   []byte // HMAC input: key block + message
	uri   []byte
	query []byte
	hdrs  []byte
	qbuf  []byte // encoded query keys and values, addressed by qpair
	pairs []qpair
	key   []byte // header name in MIME-canonical form
}

type qpair struct{ k, v, end int } // key = qbuf[k:v], value = qbuf[v:end]

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// unreserved marks the bytes SigV4 leaves unescaped (RFC 3986 unreserved).
var unreserved = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~'
	}
	return
}()

const upperHex = "0123456789ABCDEF"

func appendEscaped(dst []byte, c byte) []byte {
	if unreserved[c] {
		return append(dst, c)
	}
	return append(dst, '%', upperHex[c>>4], upperHex[c&15])
}

// appendURI writes the canonical URI of a non-S3 service: the path exactly as
// it was sent (still percent-encoded), escaped once more, so "%2B" becomes
// "%252B". This matches the SDK (httpbinding.EscapePath) and botocore
// (quote(path, safe='/~')).
func appendURI(dst []byte, path string) []byte {
	if path == "" {
		return append(dst, '/')
	}
	for i := 0; i < len(path); i++ {
		if c := path[i]; c == '/' {
			dst = append(dst, c)
		} else {
			dst = appendEscaped(dst, c)
		}
	}
	return dst
}

// normalizePath removes "." and ".." segments and empty segments, as botocore
// does before signing (utils.remove_dot_segments).
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	var b strings.Builder
	if p[0] == '/' {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(out, "/"))
	if p[len(p)-1] == '/' && len(out) > 0 {
		b.WriteByte('/')
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// appendQueryComponent decodes one query key or value ('+' is a space, as in
// url.ParseQuery which the SDK signer uses) and re-encodes it the SigV4 way
// (space as %20, upper-case hex). A stray '%' stays a literal '%'.
func appendQueryComponent(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '+':
			c = ' '
		case '%':
			if i+2 < len(s) {
				hi, ok1 := unhex(s[i+1])
				lo, ok2 := unhex(s[i+2])
				if ok1 && ok2 {
					c = hi<<4 | lo
					i += 2
				}
			}
		}
		dst = appendEscaped(dst, c)
	}
	return dst
}

// appendCanonicalQuery writes the canonical query string: every pair decoded,
// re-encoded, then sorted by encoded key and value ("the sorting occurs after
// encoding"). With presigned, X-Amz-Signature is left out.
func (s *scratch) appendCanonicalQuery(dst []byte, raw string, presigned bool) []byte {
	s.qbuf, s.pairs = s.qbuf[:0], s.pairs[:0]
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue // url.ParseQuery skips empty pairs, so does the SDK
		}
		k, v, _ := strings.Cut(part, "=")
		p := qpair{k: len(s.qbuf)}
		s.qbuf = appendQueryComponent(s.qbuf, k)
		p.v = len(s.qbuf)
		s.qbuf = appendQueryComponent(s.qbuf, v)
		p.end = len(s.qbuf)
		if presigned && string(s.qbuf[p.k:p.v]) == "X-Amz-Signature" {
			s.qbuf = s.qbuf[:p.k]
			continue
		}
		s.pairs = append(s.pairs, p)
	}
	q := s.qbuf
	if len(s.pairs) > 1 {
		slices.SortFunc(s.pairs, func(a, b qpair) int {
			if c := bytes.Compare(q[a.k:a.v], q[b.k:b.v]); c != 0 {
				return c
			}
			return bytes.Compare(q[a.v:a.end], q[b.v:b.end])
		})
	}
	for i, p := range s.pairs {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, q[p.k:p.v]...)
		dst = append(dst, '=')
		dst = append(dst, q[p.v:p.end]...)
	}
	return dst
}

// rawSortedQuery is botocore's canonical query for a URL that already carries
// its query string: the raw pairs, not re-encoded, sorted (empty pairs kept).
func rawSortedQuery(raw string, presigned bool) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var pairs []kv
	for _, part := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, kv{k, v})
	}
	slices.SortFunc(pairs, func(a, b kv) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// appendTrimmed writes a header value trimmed at both ends with runs of
// spaces collapsed to one (SigV4 "Trimall", as the SDK does it).
func appendTrimmed(dst []byte, v string) []byte {
	start, end := 0, len(v)
	for start < end && isSpace(v[start]) {
		start++
	}
	for end > start && isSpace(v[end-1]) {
		end--
	}
	prevSpace := false
	for i := start; i < end; i++ {
		c := v[i]
		if c == ' ' {
			if prevSpace {
				continue
			}
			prevSpace = true
		} else {
			prevSpace = false
		}
		dst = append(dst, c)
	}
	return dst
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// headerValues finds a signed header (listed in lower case) in h without
// allocating: the name is put in MIME-canonical form in a scratch buffer, and
// a map index by string(bytes) does not allocate.
func (s *scratch) headerValues(h http.Header, name string) []string {
	b := s.key[:0]
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		upper = c == '-'
		b = append(b, c)
	}
	s.key = b
	if vs, ok := h[string(b)]; ok {
		return vs
	}
	return h[name] // a key stored without canonicalisation
}

// appendCanonicalHeaders writes "name:value\n" for each signed header, in the
// client's order. Go's server moves Host out of the header map into r.Host;
// Content-Length may only be known from r.ContentLength or the body.
func (s *scratch) appendCanonicalHeaders(dst []byte, r *http.Request, signed, host string, bodyLen int) []byte {
	for signed != "" {
		var name string
		name, signed, _ = strings.Cut(signed, ";")
		dst = append(dst, name...)
		dst = append(dst, ':')
		var vs []string
		switch name {
		case "host":
			dst = appendTrimmed(dst, host)
			dst = append(dst, '\n')
			continue
		case "content-length":
			if vs = r.Header["Content-Length"]; len(vs) == 0 {
				n := r.ContentLength
				if n < 0 {
					n = int64(bodyLen)
				}
				dst = strconv.AppendInt(dst, n, 10)
				dst = append(dst, '\n')
				continue
			}
		default:
			vs = s.headerValues(r.Header, name)
		}
		for i, v := range vs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendTrimmed(dst, v)
		}
		dst = append(dst, '\n')
	}
	return dst
}

// buildCanonical assembles the canonical request from its parts.
func (s *scratch) buildCanonical(method string, uri, query, hdrs []byte, signedHeaders string, payloadHash []byte) []byte {
	b := s.canon[:0]
	b = append(b, method...)
	b = append(b, '\n')
	b = append(b, uri...)
	b = append(b, '\n')
	b = append(b, query...)
	b = append(b, '\n')
	b = append(b, hdrs...)
	b = append(b, '\n')
	b = append(b, signedHeaders...)
	b = append(b, '\n')
	b = append(b, payloadHash...)
	s.canon = b
	return b
}

// buildStringToSign writes the string to sign for a canonical request.
func (s *scratch) buildStringToSign(amzDate, scope string, canonical []byte) []byte {
	sum := sha256.Sum256(canonical)
	b := s.sts[:0]
	b = append(b, algorithm...)
	b = append(b, '\n')
	b = append(b, amzDate...)
	b = append(b, '\n')
	b = append(b, scope...)
	b = append(b, '\n')
	b = hex.AppendEncode(b, sum[:])
	s.sts = b
	return b
}

// sign is HMAC-SHA256(key, msg) written out (RFC 2104) so that it runs on
// reused buffers: crypto/hmac.New allocates several objects per call.
func (s *scratch) sign(key *[32]byte, msg []byte) [32]byte {
	var block [64]byte
	for i := range key {
		block[i] = key[i] ^ 0x36
	}
	for i := len(key); i < len(block); i++ {
		block[i] = 0x36
	}
	b := append(s.mac[:0], block[:]...)
	b = append(b, msg...)
	s.mac = b
	inner := sha256.Sum256(b)

	var outer [64 + 32]byte
	for i := range block {
		outer[i] = block[i] ^ 0x36 ^ 0x5c
	}
	copy(outer[64:], inner[:])
	return sha256.Sum256(outer[:])
}

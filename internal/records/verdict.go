package records

import (
	"fmt"
	"slices"
)

// Kind classifies what a name server's records say against an
// expectation. The verifier maps it to SES's statuses, the doctor to a
// finding's severity, plan to keep or change, the console to a badge.
type Kind int

const (
	// Absent: nothing of the kind is there (NXDOMAIN, NODATA, or no value
	// of the kind among the records).
	Absent Kind = iota
	// Wrong: records of the kind are there, but not the expected one;
	// the verdict's Fault says how.
	Wrong
	// Found: the expected record is there.
	Found
	// TempFail: the servers could not say (SERVFAIL, REFUSED, time-out).
	// The matchers never return it; callers set it from the DNS outcome.
	TempFail
)

var kindNames = [...]string{"absent", "wrong", "found", "temporary-failure"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Fault says how a record is wrong. Faults are stable names.
type Fault string

const (
	// Verification TXT.
	FaultCase     Fault = "case-changed" // the token in another case: the provider lowercased it
	FaultMangled  Fault = "mangled"      // the token with other characters around it
	FaultNotToken Fault = "other-value"  // values, none of them this token (other instances' tokens, say)

	// Easy DKIM CNAME.
	FaultTarget         Fault = "wrong-target"    // not SES's key for the token
	FaultTargetAppended Fault = "target-appended" // the provider appended the domain to the target
	FaultTargetSwapped  Fault = "target-swapped"  // another token's target

	// The DKIM key record at a CNAME's target (judged by internal/dkim,
	// which owns the key format: parsing one needs crypto/x509).
	FaultKeyMalformed Fault = "key-malformed" // a DKIM record whose key does not parse
	FaultKeyRevoked   Fault = "key-revoked"   // p= empty: the key was revoked (RFC 6376 §3.6.1)
	FaultKeyMismatch  Fault = "key-mismatch"  // a key, but not the one the signer holds

	// MAIL FROM MX.
	FaultRegion       Fault = "wrong-region"  // the feedback host of another region
	FaultNotOnlyMX    Fault = "not-only-mx"   // SES's MX, and others beside it
	FaultHost         Fault = "wrong-host"    // a host that is not SES's
	FaultHostAppended Fault = "host-appended" // the provider appended the domain to the host
	FaultNullMX       Fault = "null-mx"       // "0 .", which refuses all mail (RFC 7505)

	// SPF of a MAIL FROM domain (or any domain).
	FaultNoSPF          Fault = "no-spf"           // no SPF record among the TXT values
	FaultMultipleSPF    Fault = "multiple-spf"     // several: a permanent error (RFC 7208 §4.5)
	FaultNoInclude      Fault = "no-include"       // the record does not authorise SES
	FaultTooManyLookups Fault = "too-many-lookups" // more than 10 DNS lookups (RFC 7208 §4.6.4)
	FaultTooManyVoid    Fault = "too-many-void"    // more than 2 lookups that find nothing (§4.6.4)
	FaultSyntax         Fault = "syntax"           // a term that is not SPF: a permanent error (§4.6)
	FaultBrokenInclude  Fault = "broken-include"   // an include or redirect target without one SPF record (§5.2, §6.1)
	FaultPassAll        Fault = "pass-all"         // authorises any host: +all or a range of everything
	FaultLookupFailed   Fault = "lookup-failed"    // a lookup the count needs failed for now
)

// Problem is one fault with what it is about.
type Problem struct {
	Fault  Fault
	Detail string // e.g. the bad term, the include that failed
}

// Verdict is the judgement of one record against an expectation.
type Verdict struct {
	Kind Kind
	// Problems say why the record is Wrong. A record may have several
	// (SPF: every fault of the record, not only the first one found);
	// an SPF record that authorises SES may still carry problems that
	// make receivers fail it, and is then Wrong.
	Problems []Problem
	// Value is the served value that came closest to the expected one,
	// as served.
	Value string
	// Others are served values beside Value that make the record wrong
	// (MX hosts that are not SES's, say).
	Others []string
	// Region is the region of another region's feedback host.
	Region string
	// Lookups is how many DNS lookups an SPF record needs (RFC 7208
	// §4.6.4), counted over the whole record.
	Lookups int
}

// Fault is the first fault of v, or "".
func (v Verdict) Fault() Fault {
	if len(v.Problems) == 0 {
		return ""
	}
	return v.Problems[0].Fault
}

// Has reports whether v has the fault f.
func (v Verdict) Has(f Fault) bool {
	return slices.ContainsFunc(v.Problems, func(p Problem) bool { return p.Fault == f })
}

func wrong(f Fault, value string) Verdict {
	return Verdict{Kind: Wrong, Problems: []Problem{{Fault: f}}, Value: value}
}

package dnsclient

import (
	"context"
	"errors"
	"net"
	"strconv"
)

// Outcome classifies what one server said about one name and type.
//
// The point of the distinction: NXDomain and NoData mean the record is not
// published (yet); the Temporary outcomes mean we could not find out, and
// must not be taken as "not there".
type Outcome int

const (
	Answer   Outcome = iota + 1 // records of the asked type, possibly after CNAMEs
	NoData                      // the name exists without records of the type (RFC 2308 §2.2)
	NXDomain                    // the name does not exist (RFC 2308 §2.1)
	ServFail                    // SERVFAIL, or another error rcode such as FORMERR
	Refused                     // REFUSED: the server does not serve the zone
	Timeout                     // no reply within the timeout or the budget
	NetError                    // the query could not be sent or the reply was unusable
	Lame                        // a reply without the AA bit: a referral or cached data, not the zone's own
	Loop                        // a CNAME chain that loops or is longer than MaxCNAMEs
)

var outcomeNames = [...]string{
	Answer:   "Answer",
	NoData:   "NoData",
	NXDomain: "NXDomain",
	ServFail: "ServFail",
	Refused:  "Refused",
	Timeout:  "Timeout",
	NetError: "NetError",
	Lame:     "Lame",
	Loop:     "Loop",
}

func (o Outcome) String() string {
	if o > 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Temporary reports whether the outcome says nothing about the record: the
// server failed, refused, was unreachable or not authoritative, and asking
// again later may give an answer.
func (o Outcome) Temporary() bool {
	switch o {
	case ServFail, Refused, Timeout, NetError, Lame:
		return true
	}
	return false
}

var (
	// ErrNoZone: no zone encloses the name below the root; the domain does
	// not exist.
	ErrNoZone = errors.New("no zone encloses the name")
	// ErrNoServers: the zone's NS host names have no addresses (a lame
	// delegation).
	ErrNoServers = errors.New("no address for any name server of the zone")
	// ErrTemporary: the recursive resolver failed; try again later.
	ErrTemporary = errors.New("temporary resolver failure")
	// ErrDNSSEC, with ErrTemporary: the resolver failed only while it
	// validated DNSSEC, so the zone's chain of trust is broken (a DS record
	// that matches no DNSKEY, expired signatures).
	ErrDNSSEC = errors.New("DNSSEC validation failed at the resolver")
	// ErrCNAMELoop: a CNAME chain loops or exceeds MaxCNAMEs links.
	ErrCNAMELoop = errors.New("CNAME loop or chain too long")
	// ErrBadReply: a reply that does not answer the query sent: wrong ID,
	// question or QR bit (RFC 5452 §3).
	ErrBadReply = errors.New("reply does not match the query")
)

// errOutcome classifies a failed exchange.
func errOutcome(err error) Outcome {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return Timeout
	}
	return NetError
}

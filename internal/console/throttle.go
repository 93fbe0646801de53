package console

import "github.com/sesame/sesame/internal/auth/throttle"

// Sign-in throttling (internal/auth/throttle, shared with the SMTP
// interface's AUTH): guessing secrets through the console is held to a
// crawl, per client address and per key ID from that address.
const (
	// SignInFreeFailures is how many failed sign-ins one key ID has from
	// one client address before each further attempt waits.
	SignInFreeFailures = throttle.FreeFailures
	// SignInFreeFailuresPerAddress is the same for one client address.
	SignInFreeFailuresPerAddress = throttle.FreeFailuresPerAddress
	// SignInBackoff is the first wait; it doubles with each further
	// failure, up to SignInMaxBackoff.
	SignInBackoff    = throttle.FirstBackoff
	SignInMaxBackoff = throttle.MaxBackoff
)

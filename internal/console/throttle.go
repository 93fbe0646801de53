package console

import "github.com/sesame/sesame/internal/auth/throttle"

// Sign-in throttling (internal/auth/throttle, shared with the SMTP
// interface's AUTH): guessing secrets through the console is held to a
// crawl, per access key ID and per client address.
const (
	// SignInFreeFailures is how many failed sign-ins a key ID has before
	// each further attempt waits.
	SignInFreeFailures = throttle.FreeFailures
	// SignInFreeFailuresPerAddress is the same for one client address.
	SignInFreeFailuresPerAddress = throttle.FreeFailuresPerAddress
	// SignInBackoff is the first wait; it doubles with each further
	// failure, up to SignInMaxBackoff.
	SignInBackoff    = throttle.FirstBackoff
	SignInMaxBackoff = throttle.MaxBackoff
)

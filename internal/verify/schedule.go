package verify

import (
	"cmp"
	"time"

	"github.com/sesame/sesame/internal/identity"
)

// Backoff spaces the checks of a record that is not there yet. The delay
// after a check is the time since the window started, at least First and
// at most Max (MaxAfterHour once the window is an hour old): checks at 0,
// 5, 10, 20, 40 s and so on. So a record published while the customer
// watches is seen within seconds, and one that takes days costs a check
// every half hour. Being a function of the window's age, it needs no state
// and survives restarts.
type Backoff struct {
	First        time.Duration // default 5 s
	Max          time.Duration // default 5 min, during the window's first hour
	MaxAfterHour time.Duration // default 30 min
}

func (b Backoff) withDefaults() Backoff {
	b.First = cmp.Or(b.First, 5*time.Second)
	b.Max = cmp.Or(b.Max, 5*time.Minute)
	b.MaxAfterHour = cmp.Or(b.MaxAfterHour, 30*time.Minute)
	return b
}

// Delay is how long to wait after a check made elapsed into a window.
func (b Backoff) Delay(elapsed time.Duration) time.Duration {
	b = b.withDefaults()
	limit := b.Max
	if elapsed >= time.Hour {
		limit = b.MaxAfterHour
	}
	return max(min(elapsed, limit), b.First)
}

// next is when id should be checked again after a check at now: the
// earliest of its active checks' times.
//
//   - Pending or TemporaryFailure: on the backoff from the window's start,
//     but no later than the window's end, when it becomes Failed.
//   - Success with the record missing (SES's revocation warning): on the
//     backoff from when it went missing, to see it come back, but no later
//     than the end of the grace period.
//   - Success: every Recheck, to notice a removed record.
//   - An email address's link: at its deadline, to expire it; no DNS.
//
// Zero means never: nothing is being checked.
func (v *Verifier) next(id *identity.Identity, now time.Time) time.Time {
	var next time.Time
	soonest := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for name, c := range id.Checks() {
		p := v.policy(id, name)
		if name == "verification" && !id.IsDomain() {
			soonest(c.Deadline(p))
			continue
		}
		if !c.Active() {
			continue
		}
		switch {
		case c.Status == identity.Success && c.MissingSince.IsZero():
			soonest(now.Add(v.recheck()))
		case c.Status == identity.Success:
			soonest(now.Add(v.Backoff.Delay(now.Sub(c.MissingSince))))
			soonest(c.Deadline(p))
		default:
			soonest(now.Add(v.Backoff.Delay(now.Sub(c.Started))))
			soonest(c.Deadline(p))
		}
	}
	return next
}

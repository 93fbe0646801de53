package verify

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// errCanceled is a check cut short by its context: its DNS timeouts say
// nothing about the records, so nothing is applied.
var errCanceled = errors.New("check canceled")

// checked is a check done and not yet saved.
type checked struct {
	key identity.Key
	res *results
	up  store.CheckUpdate
	// Set by up.Apply when saved: the identity as stored, or nil if it was
	// deleted or changed meanwhile, and the statuses that changed.
	saved   *identity.Identity
	changes []change
}

// check checks id, as read at the start (its Next is our lease, or what
// CheckNow saw), and saves the results. It returns the identity as stored,
// or nil if it was deleted or changed meanwhile.
func (v *Verifier) check(ctx context.Context, id *identity.Identity) (*identity.Identity, error) {
	c, err := v.examine(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := v.save.save(c.up); err != nil {
		return nil, err
	}
	v.report(c)
	return c.saved, nil
}

// examine asks the DNS about id and prepares the update that applies what
// it found to the identity as stored when it is saved.
// lastLook is how long after its deadline a check is still asked about.
const lastLook = time.Minute

func (v *Verifier) examine(ctx context.Context, id *identity.Identity) (*checked, error) {
	start := time.Now()
	now := v.now()
	want := subject(id)
	snap := id.Clone()
	// A check whose window or grace period ended a while ago is not asked
	// about. One that ends now, when next schedules the check that fails
	// it, gets a last look: a record put back since the previous check
	// (up to 30 minutes earlier in a long grace period) is seen.
	snap.Expire(now.Add(-lastLook), v.Policies)
	res := v.run(ctx, snap, now)
	if ctx.Err() != nil {
		return nil, errCanceled
	}
	checkDuration.Observe(time.Since(start).Seconds())

	c := &checked{key: id.Key, res: res}
	c.up = store.CheckUpdate{Key: id.Key, Checks: res.records, Apply: func(cur *identity.Identity) *identity.Identity {
		c.saved, c.changes = nil, nil
		if cur == nil || subject(cur) != want {
			return nil // deleted, or its records changed: these results are stale
		}
		c.changes = v.apply(cur, res, now, id.Next)
		c.saved = cur
		return cur
	}}
	return c, nil
}

// apply applies res to cur, which the store read just now, and schedules
// its next check. leased is the Next this check started with: if it
// changed meanwhile, someone asked for another check, which is kept if it
// comes sooner.
func (v *Verifier) apply(cur *identity.Identity, res *results, now time.Time, leased time.Time) []change {
	var changes []change
	for name, r := range res.results {
		c := cur.Checks()[name]
		if c == nil {
			continue
		}
		before := c.Status
		if c.Apply(r, v.policy(cur, name)) {
			changes = append(changes, change{check: name, from: before, to: c.Status})
		}
	}
	for name, c := range cur.Checks() {
		before := c.Status
		if c.Expire(now, v.policy(cur, name)) {
			changes = append(changes, change{check: name, from: before, to: c.Status})
		}
	}
	next := v.next(cur, now)
	if !cur.Next.Equal(leased) && !cur.Next.IsZero() && (next.IsZero() || cur.Next.Before(next)) {
		next = cur.Next
	}
	cur.Next = next
	return changes
}

// policy is the policy of the check of id called name.
func (v *Verifier) policy(id *identity.Identity, name string) identity.Policy {
	switch name {
	case "verification":
		return v.Policies.VerificationPolicy(id)
	case "mail-from":
		return v.Policies.MailFrom
	}
	return v.Policies.Records
}

// subject is what a check looks for: if it changes while a check runs
// (new tokens, another MAIL FROM domain, a check started or stopped), the
// results are not applied.
func subject(id *identity.Identity) string {
	kind := id.Kind.String()
	n := len(kind) + len(id.Token) + len(id.MailFrom.Domain) + 8
	for _, t := range id.DKIM.Tokens {
		n += len(t) + 1
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(kind)
	b.WriteByte('|')
	b.WriteString(id.Token)
	b.WriteByte('|')
	b.WriteString(id.MailFrom.Domain)
	for _, t := range id.DKIM.Tokens {
		b.WriteByte('|')
		b.WriteString(t)
	}
	b.WriteString(id.DKIM.KeyRecord) // a BYODKIM key replaced under the same selector
	for _, c := range [...]*identity.Check{&id.Verification, &id.DKIM.Check, &id.MailFrom.Check} {
		if c.Active() {
			b.WriteString("|a")
		} else {
			b.WriteString("|-")
		}
	}
	return b.String()
}

type change struct {
	check    string
	from, to identity.Status
}

// report logs and counts what a check found.
func (v *Verifier) report(c *checked) {
	k, res, changes, saved := c.key, c.res, c.changes, c.saved
	for name, r := range res.results {
		checks.WithLabelValues(name, outcomeLabel(r.Outcome)).Inc()
	}
	if r, ok := res.spf(); ok {
		checks.WithLabelValues("spf", outcomeLabel(r.Outcome)).Inc()
	}
	if len(changes) == 0 && !v.log().Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	// The identity's attributes are passed with each line rather than
	// through Logger.With, which formats them for a child logger first.
	log := v.log()
	if saved == nil {
		log.Debug("identity deleted or changed during its check; results dropped", "account", k.Account, "region", k.Region, "identity", k.Name)
		return
	}
	var states map[string]*identity.Check
	if len(changes) > 0 {
		states = saved.Checks()
	}
	for _, c := range changes {
		log.Info("status changed", "account", k.Account, "region", k.Region, "identity", k.Name,
			"check", c.check, "from", c.from, "to", c.to, "detail", states[c.check].Detail)
	}
	log.Debug("checked", "account", k.Account, "region", k.Region, "identity", k.Name, "next", saved.Next)
}

func outcomeLabel(o identity.Outcome) string {
	switch o {
	case identity.Found:
		return "found"
	case identity.Absent:
		return "absent"
	}
	return "tempfail"
}

// Package verify checks that the records an identity needs are published:
// the domain verification TXT record, the three Easy DKIM CNAMEs and the
// custom MAIL FROM MX (and SPF) record. It asks the domain's own
// authoritative servers, as SES's troubleshooting guide tells a person to,
// moves each check through SES's states (identity.Check.Apply) and keeps
// the evidence of every check: which server said what, and what was
// expected.
//
// Run checks identities as they come due: a new one within a second (Wake),
// then on a backoff, verified ones every Recheck. The schedule lives in the
// store, with a lease while a check runs, so a restart loses nothing and no
// identity is checked twice at once.
package verify

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// Defaults for the zero values of Verifier's fields.
const (
	DefaultConcurrency = 16
	DefaultRecheck     = time.Hour
	DefaultLease       = 2 * time.Minute
	DefaultPoll        = time.Second
)

// Verifier checks identities. Fields must not change once Run or CheckNow
// is called.
type Verifier struct {
	// Store holds identities, their schedule and their evidence. Give it
	// the store.Cache the registry writes through, if it uses one.
	Store store.Store
	// DNS asks the authoritative servers; nil means a zero Client. Its
	// RateLimit bounds the queries per second to any one server; keep
	// Concurrency × 8 / RateLimit under its Budget, or waits for the
	// limiter time out.
	DNS *dnsclient.Client
	// Records are the record settings; zero means SES's.
	Records config.DNS
	// Policies are the windows; zero means SES's.
	Policies identity.Policies
	// Now is the clock of the windows and the schedule; nil means
	// time.Now. Run's polling and the DNS timeouts use real time.
	Now func() time.Time
	Log *slog.Logger
	// Concurrency is how many identities are checked at once.
	Concurrency int
	// Recheck is how often a verified identity is checked again, to notice
	// a removed record.
	Recheck time.Duration
	// Backoff spaces the checks of a pending identity.
	Backoff Backoff
	// Lease is how long a claimed identity is reserved for the check
	// running on it: its Next is set to now+Lease in the store, so a crash
	// re-checks it then and two checks never overlap.
	Lease time.Duration
	// Poll is how often Run looks for due identities when not woken.
	Poll time.Duration

	once    sync.Once
	logger  *slog.Logger
	wake    chan identity.Key
	save    saver
	workers workers

	mu       sync.Mutex
	busy     map[identity.Key]chan struct{} // checks running in this process
	canceled []*identity.Identity           // claimed, check cut short by Run's end
}

func (v *Verifier) init() {
	v.once.Do(func() {
		v.wake = make(chan identity.Key, 1024)
		v.workers.work = make(chan task)
		v.busy = make(map[identity.Key]chan struct{})
		v.save.store = v.Store
		if v.DNS == nil {
			v.DNS = &dnsclient.Client{}
		}
		if v.Records == (config.DNS{}) {
			v.Records = config.SES()
		}
		if v.Policies == (identity.Policies{}) {
			v.Policies = identity.SESPolicies()
		}
		v.Backoff = v.Backoff.withDefaults()
		v.logger = v.Log
		if v.logger == nil {
			v.logger = slog.Default().With("component", "verify")
		}
	})
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now().UTC()
	}
	return time.Now().UTC()
}

func (v *Verifier) log() *slog.Logger { return v.logger }

func (v *Verifier) concurrency() int     { return max(cmp.Or(v.Concurrency, DefaultConcurrency), 1) }
func (v *Verifier) lease() time.Duration { return cmp.Or(v.Lease, DefaultLease) }
func (v *Verifier) recheck() time.Duration {
	return cmp.Or(v.Recheck, DefaultRecheck)
}

// Wake asks Run to check k now rather than at its next poll. It is the
// registry's Changed hook and never blocks: if Run is far behind, the
// identity is found by the next poll instead.
func (v *Verifier) Wake(k identity.Key) {
	v.init()
	select {
	case v.wake <- k:
	default:
	}
}

// CheckNow checks k at once, whether due or not, and returns the identity
// as stored afterwards. A check of k already running in this process is
// waited for first. It returns store.ErrNotFound for an unknown identity.
func (v *Verifier) CheckNow(ctx context.Context, k identity.Key) (*identity.Identity, error) {
	v.init()
	if err := v.acquire(ctx, k); err != nil {
		return nil, err
	}
	defer v.release(k)
	id, err := v.Store.GetIdentity(ctx, k)
	if err != nil {
		return nil, err
	}
	saved, err := v.check(ctx, id)
	if errors.Is(err, errCanceled) {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	if saved == nil {
		// Deleted or changed while we looked: report it as it is now.
		return v.Store.GetIdentity(ctx, k)
	}
	return saved, nil
}

// acquire marks k busy, waiting for a check of k that is running.
func (v *Verifier) acquire(ctx context.Context, k identity.Key) error {
	for {
		v.mu.Lock()
		ch := v.busy[k]
		if ch == nil {
			v.busy[k] = make(chan struct{})
			v.mu.Unlock()
			return nil
		}
		v.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// tryAcquire marks k busy unless it is.
func (v *Verifier) tryAcquire(k identity.Key) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.busy[k] != nil {
		return false
	}
	v.busy[k] = make(chan struct{})
	return true
}

func (v *Verifier) release(k identity.Key) {
	v.mu.Lock()
	defer v.mu.Unlock()
	close(v.busy[k])
	delete(v.busy, k)
}

// Run checks identities as they come due until ctx is done, then waits for
// the checks in flight and returns nil. It claims due identities from the
// store in batches (a lease of Lease each), runs up to Concurrency checks at
// once, and looks for more every Poll, or at once when woken.
func (v *Verifier) Run(ctx context.Context) error {
	v.init()
	log := v.log()
	slots := make(chan struct{}, v.concurrency())
	finished := make(chan struct{}, 1)
	var wg, saving sync.WaitGroup // checks running, and being saved
	defer func() {
		wg.Wait()
		saving.Wait()
		v.mu.Lock()
		canceled := v.canceled
		v.canceled = nil
		v.mu.Unlock()
		v.unclaim(canceled)
	}()
	poll := time.NewTicker(cmp.Or(v.Poll, DefaultPoll))
	defer poll.Stop()

	batch := min(4*v.concurrency(), 1024)
	var queue []*identity.Identity // claimed, waiting for a slot
	more := true                   // the store may hold due identities
	// Claims run beside the loop, so that checks keep starting while the
	// store is busy (a durable store waits for the disk).
	type claim struct {
		ids  []*identity.Identity
		want int
		err  error
	}
	claimed := make(chan claim, 1)
	claiming := false
	for {
		if more && !claiming && len(queue) < batch/2 {
			claiming = true
			now, want := v.now(), batch-len(queue)
			go func() {
				ids, err := v.Store.ClaimDue(ctx, now, now.Add(v.lease()), want)
				claimed <- claim{ids: ids, want: want, err: err}
			}()
		}
		queue = v.start(ctx, queue, slots, finished, &wg, &saving)
		backlog.Set(float64(len(queue)))

		select {
		case <-ctx.Done():
			if claiming {
				queue = append(queue, (<-claimed).ids...)
			}
			v.unclaim(queue)
			backlog.Set(0)
			return nil
		case c := <-claimed:
			claiming = false
			if c.err != nil && ctx.Err() == nil {
				log.Error("claiming due identities", "err", c.err)
			}
			queue = append(queue, c.ids...)
			more = c.err == nil && len(c.ids) == c.want
		case k := <-v.wake:
			if id := v.claim(ctx, k); id != nil {
				queue = append([]*identity.Identity{id}, queue...)
			}
		case <-finished:
		case <-poll.C:
			more = true
		}
	}
}

// start starts checks of queued identities while slots are free, and
// returns those left. An identity being checked already (by CheckNow, or
// claimed again after the registry asked for a new check) waits its turn.
func (v *Verifier) start(ctx context.Context, queue []*identity.Identity, slots chan struct{}, finished chan struct{}, wg, saving *sync.WaitGroup) []*identity.Identity {
	left := queue[:0]
	for _, id := range queue {
		if len(slots) == cap(slots) || !v.tryAcquire(id.Key) {
			left = append(left, id)
			continue
		}
		slots <- struct{}{}
		inFlight.Inc()
		v.workers.Go(wg, func() {
			c, err := v.examine(ctx, id)
			if err != nil { // canceled: Run is stopping
				v.release(id.Key)
				v.mu.Lock()
				v.canceled = append(v.canceled, id)
				v.mu.Unlock()
			} else {
				// The slot is free for the next identity while this one is
				// saved; the identity stays busy until then.
				saving.Add(1)
				v.save.enqueue(c.up, func(err error) {
					defer saving.Done()
					defer v.release(id.Key)
					if err != nil {
						v.log().Error("saving a check", "identity", id.Name, "account", id.Account, "region", id.Region, "err", err)
						return
					}
					v.report(c)
				})
			}
			inFlight.Dec()
			<-slots
			select {
			case finished <- struct{}{}:
			default:
			}
		})
	}
	clear(queue[len(left):])
	return left
}

// claim leases k if it is due, for Wake.
func (v *Verifier) claim(ctx context.Context, k identity.Key) *identity.Identity {
	now := v.now()
	var claimed *identity.Identity
	_, err := v.Store.UpdateIdentity(ctx, k, func(cur *identity.Identity) (*identity.Identity, error) {
		claimed = nil
		if cur == nil || cur.Next.IsZero() || cur.Next.After(now) {
			return nil, nil // gone, or not due: already leased, or nothing to check
		}
		cur.Next = now.Add(v.lease())
		claimed = cur.Clone()
		return cur, nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
		v.log().Error("claiming a woken identity", "identity", k.Name, "account", k.Account, "region", k.Region, "err", err)
		return nil
	}
	return claimed
}

// unclaim gives back the leases of identities claimed but not checked, so
// that after a restart they are due at once rather than when the leases
// run out.
func (v *Verifier) unclaim(ids []*identity.Identity) {
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := v.now()
	ups := make([]store.CheckUpdate, len(ids))
	for i, id := range ids {
		leased := id.Next
		ups[i] = store.CheckUpdate{Key: id.Key, Apply: func(cur *identity.Identity) *identity.Identity {
			if cur == nil || !cur.Next.Equal(leased) {
				return nil
			}
			cur.Next = now
			return cur
		}}
	}
	if err := v.Store.SaveChecks(ctx, ups); err != nil {
		v.log().Warn("giving back leases; they run out by themselves", "identities", len(ids), "err", err)
	}
}

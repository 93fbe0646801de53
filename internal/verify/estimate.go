package verify

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// Visibility estimates when a record published now will be seen, for a
// check that is waiting for one.
type Visibility struct {
	Check string // "verification", "dkim" or "mail-from"
	// Sesame is the next check, which asks the authoritative servers and
	// so sees the record as soon as they serve it.
	Sesame time.Time
	// Resolvers is when every recursive resolver sees it, at the latest: one
	// that asked just before may keep the negative answer for the SOA's
	// negative TTL, min(SOA TTL, MINIMUM) (RFC 2308 §5), and records with
	// another value for their TTL. Zero until the servers have answered.
	Resolvers time.Time
	// NegativeTTL and RecordTTL are the longest of the last check's
	// negative answers and answers with other values.
	NegativeTTL time.Duration
	RecordTTL   time.Duration
	Detail      string
}

// Estimate returns the visibility of each DNS check of id that is waiting
// for a record (Pending, TemporaryFailure, or verified with the record
// missing), from its last check in recs (newest first, as ListChecks
// returns them).
func Estimate(id *identity.Identity, recs []store.CheckRecord, now time.Time) []Visibility {
	var out []Visibility
	for _, name := range []string{"verification", "dkim", "mail-from"} {
		c := id.Checks()[name]
		if c == nil || (name == "verification" && !id.IsDomain()) {
			continue
		}
		waiting := c.Status == identity.Pending || c.Status == identity.TemporaryFailure ||
			c.Status == identity.Success && !c.MissingSince.IsZero()
		if !waiting {
			continue
		}
		vis := Visibility{Check: name, Sesame: id.Next}
		if !id.Next.IsZero() && id.Next.Before(now) {
			vis.Sesame = now
		}
		last := lastCheck(recs, name)
		for _, r := range last {
			switch r.Outcome {
			case "NoData", "NXDomain":
				vis.NegativeTTL = max(vis.NegativeTTL, r.TTL)
			case "mismatch":
				vis.RecordTTL = max(vis.RecordTTL, r.TTL)
			}
		}
		switch {
		case len(last) == 0:
			vis.Detail = "Not checked yet."
		case vis.NegativeTTL == 0 && vis.RecordTTL == 0:
			vis.Detail = "The name servers have not said yet whether the record is there."
		default:
			wait := max(vis.NegativeTTL, vis.RecordTTL)
			vis.Resolvers = now.Add(wait)
			why := fmt.Sprintf("the answer that the record is not there is cached for %v (the SOA's negative TTL)", vis.NegativeTTL)
			if vis.RecordTTL > vis.NegativeTTL {
				why = fmt.Sprintf("the records with other values are cached for %v (their TTL)", vis.RecordTTL)
			}
			vis.Detail = fmt.Sprintf("Sesame sees a record published now at its next check; every resolver within %v, since %s.", wait, why)
		}
		out = append(out, vis)
	}
	return out
}

// lastCheck returns the records of the newest check of one kind.
func lastCheck(recs []store.CheckRecord, check string) []store.CheckRecord {
	i := slices.IndexFunc(recs, func(r store.CheckRecord) bool { return r.Check == check })
	if i < 0 {
		return nil
	}
	at := recs[i].At
	var out []store.CheckRecord
	for _, r := range recs[i:] {
		if r.Check == check && r.At.Equal(at) {
			out = append(out, r)
		}
	}
	return out
}

// Estimate is Estimate for the identity k as stored.
func (v *Verifier) Estimate(ctx context.Context, k identity.Key) ([]Visibility, error) {
	v.init()
	id, err := v.Store.GetIdentity(ctx, k)
	if err != nil {
		return nil, err
	}
	recs, err := v.Store.ListChecks(ctx, k, store.MaxChecks)
	if err != nil {
		return nil, err
	}
	return Estimate(id, recs, v.now()), nil
}

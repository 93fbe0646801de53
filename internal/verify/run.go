package verify

import (
	"context"
	"sync"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/records"
	"github.com/sesame/sesame/internal/store"
)

// results is what one check of an identity found.
type results struct {
	results map[string]identity.Result // by the name in Identity.Checks
	spfRes  *identity.Result           // reported with MAIL FROM, not a status
	records []store.CheckRecord
}

func (r *results) spf() (identity.Result, bool) {
	if r.spfRes == nil {
		return identity.Result{}, false
	}
	return *r.spfRes, true
}

// examined is a finding and what decide made of it.
type examined struct {
	*finding
	res identity.Result
}

func (e examined) near() bool {
	for _, o := range e.obs {
		if o.near != "" {
			return true
		}
	}
	return false
}

func (e examined) stale() bool {
	for _, o := range e.obs {
		if o.stale != "" {
			return true
		}
	}
	return false
}

// examine looks for one record, decides, and keeps the evidence.
func (r *run) examine(ctx context.Context, p probe) examined {
	f := r.lookup(ctx, p)
	res := decide(f, r.at)
	r.record(f)
	return examined{finding: f, res: res}
}

// run checks every active DNS check of id at once. An email address's own
// check is its link, which needs no DNS.
func (v *Verifier) run(ctx context.Context, id *identity.Identity, now time.Time) *results {
	r := &run{v: v, at: now, e: records.ExpectFor(id, v.Records)}
	out := &results{results: make(map[string]identity.Result)}
	var dkim []records.Record
	var txt, mx, spf *records.Record
	for _, rec := range r.e.Records() {
		switch rec.Purpose {
		case records.Verification:
			if id.Verification.Active() {
				txt = &rec
			}
		case records.DKIM:
			if id.DKIM.Check.Active() {
				dkim = append(dkim, rec)
			}
		case records.MailFromMX:
			if id.MailFrom.Check.Active() {
				mx = &rec
			}
		case records.MailFromSPF:
			if id.MailFrom.Check.Active() {
				spf = &rec
			}
		}
	}
	if txt == nil && dkim == nil && mx == nil {
		return out
	}
	// Find the zone once: the records below the domain are in it unless
	// delegated.
	zoneOf := id.Name
	if id.Kind != names.KindDomain {
		zoneOf = id.MailFrom.Domain
	}
	// The lookups run at once, the last in this goroutine.
	var tasks []func()
	if z := r.find(ctx, zoneOf); z.err == nil {
		tasks = append(tasks, func() { r.fetchSOA(ctx, z) }) // beside the records, not after
	}

	var mu sync.Mutex
	set := func(name string, res identity.Result) {
		mu.Lock()
		defer mu.Unlock()
		out.results[name] = res
	}
	if txt != nil {
		tasks = append(tasks, func() { set("verification", r.verification(ctx, id.Name, *txt)) })
	}
	if len(dkim) > 0 {
		tasks = append(tasks, func() { set("dkim", r.dkim(ctx, dkim)) })
	}
	var spfRes identity.Result
	if mx != nil {
		tasks = append(tasks,
			func() { spfRes = r.mailFromSPF(ctx, *spf) },
			func() { set("mail-from", r.mailFromMX(ctx, *mx)) })
	}
	var wg sync.WaitGroup
	for _, t := range tasks[:len(tasks)-1] {
		v.workers.Go(&wg, t)
	}
	tasks[len(tasks)-1]()
	wg.Wait()
	if mx != nil {
		out.spfRes = &spfRes
		mf := out.results["mail-from"]
		mf.Detail += " SPF: " + spfRes.Detail
		out.results["mail-from"] = mf
	}
	out.records = r.records
	return out
}

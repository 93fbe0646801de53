package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sesame/sesame/internal/pgtest"
)

// With -setups, apiload compares stores and replica counts in one sitting
// (issue 18): each set-up gets its own store (a data directory's SQLite, or
// a PostgreSQL cluster of its own started by internal/pgtest), seeded
// alike, and its replicas, all sharing one data directory for the key
// files as README's "Running on PostgreSQL" says; the signed requests go
// to the replicas in turn. Rounds are interleaved (set-up 1, 2, 3, then
// again) so that a change in the machine's load falls on all of them.
//
// The figure that does not depend on that load is CPU per request: the
// sesame processes' (from /proc) and the database's (postmaster and
// backends, pgtest.Server.CPU), from which it projects what N machines of
// two cores, each running a replica, would serve beside a database
// machine of two cores.

type setup struct {
	name     string // sqlite or postgres
	replicas int
	bin      string // the sesame binary, when not -sesame's (store:replicas@binary)
	pg       *pgtest.Server
	reps     []replica
	reqs     []signed
}

func (s *setup) String() string {
	r := "replica"
	if s.replicas > 1 {
		r = "replicas"
	}
	store := "SQLite"
	if s.pg != nil {
		store = "PostgreSQL"
	}
	if s.bin != "" {
		return fmt.Sprintf("%d %s, %s, %s", s.replicas, r, store, s.bin)
	}
	return fmt.Sprintf("%d %s, %s", s.replicas, r, store)
}

func parseSetups(v string) []*setup {
	var out []*setup
	for _, f := range strings.Split(v, ",") {
		f, bin, _ := strings.Cut(strings.TrimSpace(f), "@")
		name, n, ok := strings.Cut(f, ":")
		r, err := strconv.Atoi(n)
		if !ok || err != nil || r < 1 || (name != "sqlite" && name != "postgres") {
			log.Fatalf("-setups: %q is not store:replicas (sqlite:1, postgres:3)", f)
		}
		if name == "sqlite" && r != 1 {
			log.Fatalf("-setups: %q: SQLite serves one replica (its data directory); several need postgres", f)
		}
		out = append(out, &setup{name: name, replicas: r, bin: bin})
	}
	return out
}

// measured is one throughput phase of one set-up.
type measured struct {
	rate, errors   float64
	p99            string
	app, db, total float64 // CPU per request, µs: sesame processes, database, both
	client         float64 // the load generator's CPU per request, µs
	load           string  // /proc/loadavg's 1-minute figure at the end
}

func compare(ctx context.Context, bin, spec string, n, workers, pool int, writes float64, runs int, dur time.Duration) {
	setups := parseSetups(spec)
	p := &pgtest.Program{}
	defer p.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	for _, s := range setups {
		dir, err := os.MkdirTemp("", "sesame-bench-")
		check(err)
		p.Cleanup(func() { os.RemoveAll(dir) })
		flags := []string{"--verify=false"}
		url := ""
		if s.name == "postgres" {
			s.pg = pgtest.Start(p)
			url = s.pg.NewDatabase(p)
			flags = append(flags, "--database-url", url)
		}
		creds, _ := seed(ctx, dir, url, n)
		var addrs []string
		for range s.replicas {
			b := bin
			if s.bin != "" {
				b = s.bin
			}
			r := start(b, dir, flags...)
			p.Cleanup(r.stop)
			s.reps = append(s.reps, r)
			addrs = append(addrs, r.addr)
		}
		s.reqs = sign(addrs, creds, n, pool, writes)
		closedLoop(client, s.reqs, workers, time.Second) // warm connections and caches
	}

	mix := "GetIdentityVerificationAttributes"
	if writes > 0 {
		mix = fmt.Sprintf("%.0f%% VerifyDomainIdentity (a write each), %.0f%% GetIdentityVerificationAttributes", writes*100, (1-writes)*100)
	}
	fmt.Printf("sesame API benchmark, set-ups compared: %s; %d identities, %d workers spread over the replicas, %s phases, verifier off, %d cores\n\n",
		mix, n, workers, dur, runtimeCores())
	fmt.Printf("| round | set-up | requests/s | errors | p99 | CPU/request: sesame | database | total | load generator | load (1 min) |\n|---|---|---|---|---|---|---|---|---|---|\n")
	results := make([][]measured, len(setups))
	for round := range runs {
		for i, s := range setups {
			m := phase(client, s, workers, dur)
			results[i] = append(results[i], m)
			fmt.Printf("| %d | %s | %.0f | %.0f | %s | %.1f µs | %.1f µs | %.1f µs | %.1f µs | %s |\n",
				round+1, s, m.rate, m.errors, m.p99, m.app, m.db, m.total, m.client, m.load)
		}
	}

	fmt.Printf("\nmedians of %d:\n\n| set-up | requests/s | CPU/request: sesame | database | total | total / SQLite's |\n|---|---|---|---|---|---|\n", runs)
	med := make([]measured, len(setups))
	var base float64
	for i, s := range setups {
		med[i] = measured{
			rate: median(results[i], func(m measured) float64 { return m.rate }),
			app:  median(results[i], func(m measured) float64 { return m.app }),
			db:   median(results[i], func(m measured) float64 { return m.db }),
		}
		med[i].total = median(results[i], func(m measured) float64 { return m.total })
		if s.pg == nil && base == 0 {
			base = med[i].total
		}
		ratio := "-"
		if base > 0 {
			ratio = fmt.Sprintf("%.2f×", med[i].total/base)
		}
		fmt.Printf("| %s | %.0f | %.1f µs | %.1f µs | %.1f µs | %s |\n", s, med[i].rate, med[i].app, med[i].db, med[i].total, ratio)
	}

	// The projection: N machines of two cores, each running one replica
	// (the sesame CPU per request of the set-up with the fewest replicas on
	// PostgreSQL: more replicas than cores on one machine cost more, which
	// separate machines do not pay), and the database on a machine of two
	// cores of its own (the database CPU per request of the set-up with the
	// most replicas, which pays for their notifications and heartbeats).
	// The replicas scale with N; the database does not. Set-ups of another
	// binary than -sesame's (a version compared with it) are left out.
	one, most := -1, -1
	for i, s := range setups {
		if s.pg == nil || s.bin != "" {
			continue
		}
		if one < 0 || s.replicas < setups[one].replicas {
			one = i
		}
		if most < 0 || s.replicas >= setups[most].replicas {
			most = i
		}
	}
	if one < 0 {
		return
	}
	app, db := med[one].app, med[most].db
	fmt.Printf("\nprojection: N machines of 2 cores, one replica each (%.1f µs of sesame CPU a request, from %s), and a 2-core database machine (%.1f µs a request, from %s), serve at most:\n\n",
		app, setups[one], db, setups[most])
	fmt.Printf("| N | requests/s | replicas' limit | database's limit |\n|---|---|---|---|\n")
	dbMax := 2e6 / max(db, 0.001)
	for _, machines := range []int{1, 2, 3, 4, 8, 16} {
		apps := float64(machines) * 2e6 / app
		fmt.Printf("| %d | %.0f | %.0f | %.0f |\n", machines, min(apps, dbMax), apps, dbMax)
	}
}

// phase runs one closed-loop throughput phase on a set-up and takes its
// CPU times.
func phase(client *http.Client, s *setup, workers int, dur time.Duration) measured {
	app := func() (t time.Duration) {
		for _, r := range s.reps {
			t += cpuTime(r.pid)
		}
		return t
	}
	db := func() time.Duration {
		if s.pg == nil {
			return 0
		}
		return s.pg.CPU()
	}
	a0, d0, c0 := app(), db(), cpuTime(os.Getpid())
	st := closedLoop(client, s.reqs, workers, dur)
	a, d, c := app()-a0, db()-d0, cpuTime(os.Getpid())-c0
	per := func(t time.Duration) float64 { return t.Seconds() / float64(max(st.n, 1)) * 1e6 }
	load, _ := os.ReadFile("/proc/loadavg")
	return measured{
		rate: float64(st.n) / dur.Seconds(), errors: float64(st.errors), p99: st.pct(99),
		app: per(a), db: per(d), total: per(a + d), client: per(c),
		load: strings.Fields(string(load) + " -")[0],
	}
}

func median(ms []measured, f func(measured) float64) float64 {
	v := make([]float64, len(ms))
	for i, m := range ms {
		v[i] = f(m)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

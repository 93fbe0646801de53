// Command verifyload measures the verifier: how many domain identities per
// second it checks, and how many DNS queries per second that takes, against
// a local authoritative server holding every record in memory.
//
// Each identity is a domain in a zone of its own (d<i>.test), with its
// verification TXT record, three Easy DKIM CNAMEs and a custom MAIL FROM
// domain with its MX and SPF records published, all correct, in the SQLite
// store with every check due. The server runs in a child process (this
// command with -serve), so the verifier's memory and the server's are told
// apart. The per-server rate limit is lifted (-ratelimit): it protects
// other people's servers, and this one is ours.
//
// With -dnsperf, the same query mix (the queries one check of an identity
// makes, for every identity) is written to a file and replayed with
// dnsperf (Debian package dnsperf) against the same server, -perfruns
// times (once before the verifier, the others after), and the verifier's
// rate is printed with its ratio to the median of dnsperf's. dnsperf sends
// EDNS0 (-e), as the verifier does (dnsclient advertises 1232 bytes): the
// server then answers with an OPT record too, which costs it some 5% more
// per query, so without -e dnsperf measured cheaper queries than the ones
// the verifier makes.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/pgtest"
	"github.com/sesame/sesame/internal/records"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/store/postgres"
	"github.com/sesame/sesame/internal/store/sqlite"
	"github.com/sesame/sesame/internal/verify"
)

func main() {
	n := flag.Int("n", 100000, "domain identities")
	concurrency := flag.Int("concurrency", 64, "identities checked at once (Verifier.Concurrency)")
	rateLimit := flag.Float64("ratelimit", 0, "queries/s to one server (dnsclient.Client.RateLimit); 0: no limit")
	perf := flag.Bool("dnsperf", false, "also replay the same query mix with dnsperf and compare")
	perfSeconds := flag.Int("l", 10, "dnsperf run length, seconds")
	perfRuns := flag.Int("perfruns", 3, "dnsperf runs, one before the verifier and the others after (at least 2); the rate compared is their median")
	serve := flag.String("serve", "", "run the DNS server on this address (used by the command itself)")
	cpuProfile := flag.String("cpuprofile", "", "write the verifier's CPU profile to this file")
	memProfile := flag.String("memprofile", "", "write the verifier's allocation profile to this file")
	traceFile := flag.String("trace", "", "write an execution trace of the verifier to this file")
	storeKind := flag.String("store", "sqlite", "sqlite (durable, as sesame serve runs), postgres (a cluster started by internal/pgtest, as sesame serve --database-url runs) or memory (the verifier alone)")
	replicas := flag.Int("replicas", 1, "with -store postgres, this many verifiers on the database, each with its own store (connection pool) and identity cache kept by LISTEN (Watch), claiming with FOR UPDATE SKIP LOCKED as sesame serve replicas do, in this one process")
	pin := flag.Bool("pin", false, "run the DNS server on CPU 0 and the client, the verifier and then dnsperf, on CPU 1 (taskset): each side has a core of its own")
	flag.Parse()
	if *serve != "" {
		runServer(*serve, *n)
		return
	}
	if *pin {
		pinClient()
	}
	server.TuneGC() // as sesame serve does
	server.TuneProcs()

	dir, err := os.MkdirTemp("", "verifyload-")
	check(err)
	defer os.RemoveAll(dir)
	addr, serverPID, stop := startServer(*n, *pin)
	defer stop()
	_, port, _ := strings.Cut(addr, ":")

	ctx := context.Background()
	var pg *pgtest.Server // with -store postgres
	var st interface {
		store.Store
		Import(context.Context, []*identity.Identity) error
	}
	if *replicas < 1 || (*replicas > 1 && *storeKind != "postgres") {
		log.Fatalf("-replicas %d: several verifiers need -store postgres", *replicas)
	}
	var reps []store.Store // the verifiers' stores, the first st's
	var stopWatch []func()
	defer func() {
		for _, stop := range stopWatch {
			stop()
		}
	}()
	switch *storeKind {
	case "sqlite":
		db, err := sqlite.Open(ctx, dir)
		check(err)
		defer db.Close()
		st = db
	case "postgres":
		p := &pgtest.Program{}
		defer p.Close()
		pg = pgtest.Start(p)
		url := pg.NewDatabase(p)
		for i := range *replicas {
			db, err := postgres.Open(ctx, url)
			check(err)
			defer db.Close()
			if i == 0 {
				st = db
			}
			// As sesame serve on PostgreSQL: the verifier works through
			// the identity cache, which its replica's listener keeps
			// (every replica hears every claim and save).
			c := store.NewCache(db, 100000)
			wctx, cancel := context.WithCancel(ctx)
			var wg sync.WaitGroup
			wg.Go(func() { db.Watch(wctx, c) })
			stopWatch = append(stopWatch, func() { cancel(); wg.Wait() })
			reps = append(reps, c)
		}
	case "memory":
		st = newMemStore()
	default:
		log.Fatalf("-store %q: want sqlite, postgres or memory", *storeKind)
	}
	now := time.Now().UTC()
	for lo := 0; lo < *n; lo += 5000 {
		var ids []*identity.Identity
		for i := lo; i < min(lo+5000, *n); i++ {
			ids = append(ids, benchIdentity(i, now))
		}
		check(st.Import(ctx, ids))
	}

	// dnsperf runs once before the verifier and the other times after it,
	// so that the median brackets the verifier's run: the machine's speed
	// drifts over minutes, and the DNS server's cost per query with it.
	file := filepath.Join(dir, "queries.txt")
	var perfLines []string
	var rates []float64
	runPerf := func(when string) {
		sq0, scpu0 := serverCount(addr), procCPU(serverPID)
		dq := dnsperf(addr, port, file, *perfSeconds)
		sq, scpu := serverCount(addr)-sq0-1, procCPU(serverPID)-scpu0
		perfLines = append(perfLines, fmt.Sprintf("  %s: %.0f queries/s, DNS server meanwhile %.1fs CPU (%.0fµs per query)",
			when, dq, scpu.Seconds(), float64(scpu.Microseconds())/float64(sq)))
		rates = append(rates, dq)
	}
	if *perf {
		check(writeQueryFile(file, *n))
		runPerf("before the verifier")
	}

	if *rateLimit == 0 {
		// Not a huge finite rate: the limiter would then make each query
		// wait a few nanoseconds, which a timer rounds up to a millisecond.
		*rateLimit = math.Inf(1)
	}
	if reps == nil {
		reps = []store.Store{st}
	}
	t := &tally{target: int64(*n), done: make(chan struct{})}
	cs := &countingStore{Store: reps[0], tally: t}
	var vs []*verify.Verifier
	for _, r := range reps {
		vs = append(vs, &verify.Verifier{
			Store:       &countingStore{Store: r, tally: t},
			DNS:         &dnsclient.Client{Resolver: addr, AuthPort: port, RateLimit: *rateLimit},
			Log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
			Concurrency: *concurrency,
		})
	}
	before := serverCount(addr)
	var peakHeap atomic.Uint64
	var gauges gaugeSamples // checks in flight and waiting, sampled
	sample := time.NewTicker(100 * time.Millisecond)
	go func() {
		var ms runtime.MemStats
		for range sample.C {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peakHeap.Load() {
				peakHeap.Store(ms.HeapInuse)
			}
			gauges.sample()
		}
	}()
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		check(err)
		check(trace.Start(f))
		defer func() {
			trace.Stop()
			check(f.Close())
		}()
	}
	if *memProfile != "" {
		runtime.MemProfileRate = 64 << 10
		defer func() {
			f, err := os.Create(*memProfile)
			check(err)
			check(pprof.Lookup("allocs").WriteTo(f, 0))
			check(f.Close())
		}()
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		check(err)
		check(pprof.StartCPUProfile(f))
	}
	cpu0, serverCPU0, busy0, gc0, db0 := cpuTime(), procCPU(serverPID), machineBusy(), gcStats(), pg.CPU()
	start := time.Now()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, len(vs))
	for _, v := range vs {
		go func() { done <- v.Run(rctx) }()
	}
	<-cs.done
	elapsed := time.Since(start)
	cpu, serverCPU, busy, gc, dbCPU := cpuTime()-cpu0, procCPU(serverPID)-serverCPU0, machineBusy()-busy0, gcStats().minus(gc0), pg.CPU()-db0
	cancel()
	for range vs {
		check(<-done)
	}
	sample.Stop()
	pprof.StopCPUProfile()
	queries := serverCount(addr) - before - 1

	// Every identity must have come out verified, or the figures mean nothing.
	last, err := st.GetIdentity(ctx, benchIdentity(*n-1, now).Key)
	check(err)
	if last.Status() != identity.Success || last.MailFrom.Check.Status != identity.Success {
		log.Fatalf("identity %s: %s, MAIL FROM %s: %s", last.Name, last.Status(), last.MailFrom.Check.Status, last.MailFrom.Check.Detail)
	}

	reportMetrics()

	var ru syscall.Rusage
	check(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	ids := float64(*n) / elapsed.Seconds()
	qps := float64(queries) / elapsed.Seconds()
	fmt.Printf("verifier: %d identities (TXT + 3 DKIM + MAIL FROM MX and SPF) in %.2fs, concurrency %d, GOMAXPROCS %d, %s store, %d verifier(s)\n",
		*n, elapsed.Seconds(), *concurrency, runtime.GOMAXPROCS(0), *storeKind, len(vs))
	fmt.Printf("  %.0f identities/s, %.0f DNS queries/s (%.1f queries per identity)\n", ids, qps, float64(queries)/float64(*n))
	fmt.Printf("  peak heap in use %.0f MiB, max RSS %.0f MiB\n", float64(peakHeap.Load())/(1<<20), float64(ru.Maxrss)/1024)
	fmt.Printf("  checks in flight %.0f, claimed and waiting %.0f (means of samples)\n", gauges.mean("sesame_verify_in_flight"), gauges.mean("sesame_verify_backlog"))
	fmt.Printf("  store: %d ClaimDue in %.1fs, %d SaveChecks in %.1fs (%.0f checks each)\n", cs.claims.Load(), time.Duration(cs.claiming.Load()).Seconds(),
		cs.saves.Load(), time.Duration(cs.saving.Load()).Seconds(), float64(*n)/float64(cs.saves.Load()))
	fmt.Printf("  CPU: verifier %.1fs (%.0fµs per identity), DNS server %.1fs (%.0fµs per query)\n",
		cpu.Seconds(), float64(cpu.Microseconds())/float64(*n), serverCPU.Seconds(), float64(serverCPU.Microseconds())/float64(queries))
	if pg != nil {
		fmt.Printf("  CPU: database %.1fs (%.0fµs per identity); verifier and database %.0fµs per identity\n",
			dbCPU.Seconds(), float64(dbCPU.Microseconds())/float64(*n), float64((cpu+dbCPU).Microseconds())/float64(*n))
	}
	fmt.Printf("  GC: %d cycles, %.1fs CPU (%.0f%% of the verifier's), %.0f KiB allocated per identity\n",
		gc.cycles, gc.cpu.Seconds(), 100*gc.cpu.Seconds()/cpu.Seconds(), float64(gc.alloc)/1024/float64(*n))
	if busy > 0 {
		fmt.Printf("  machine: %.1f of %d CPUs busy, %.1f by others\n", busy.Seconds()/elapsed.Seconds(), machineCPUs(),
			(busy-cpu-serverCPU).Seconds()/elapsed.Seconds())
	}

	if *perf {
		for range max(*perfRuns, 2) - 1 {
			runPerf("after")
		}
		// One run of dnsperf moves by a tenth within minutes and by a
		// quarter between sittings on a shared machine (60,000-90,000
		// queries/s); the median of a few is compared.
		fmt.Printf("dnsperf -e -s 127.0.0.1 -p %s -d queries.txt -l %d (same query mix, %d queries), %d runs:\n", port, *perfSeconds, 10**n, len(rates))
		for _, l := range perfLines {
			fmt.Println(l)
		}
		slices.Sort(rates)
		med := rates[len(rates)/2]
		if len(rates)%2 == 0 {
			med = (rates[len(rates)/2-1] + rates[len(rates)/2]) / 2
		}
		fmt.Printf("  median %.0f queries/s\n", med)
		fmt.Printf("  verifier / dnsperf = %.2f (against the fastest run: %.2f)\n", qps/med, qps/rates[len(rates)-1])
	}
}

// benchIdentity is domain identity i, its checks due at now. Its tokens
// derive from i, so that the server process publishes the same records.
func benchIdentity(i int, now time.Time) *identity.Identity {
	id := &identity.Identity{
		Key:     identity.Key{Account: "111111111111", Region: "us-east-1", Name: fmt.Sprintf("d%d.test", i)},
		Kind:    names.KindDomain,
		Created: now,
		Token:   base64.StdEncoding.EncodeToString(hash("token", i)),
		Next:    now,
	}
	var dkim []string
	for k := range 3 {
		dkim = append(dkim, strings.ToLower(base32.StdEncoding.EncodeToString(hash(fmt.Sprint("dkim", k), i)[:20])))
	}
	id.DKIM = identity.DKIM{Enabled: true, Tokens: dkim, Origin: "AWS_SES", KeyLength: "RSA_2048_BIT"}
	id.MailFrom = identity.MailFrom{Domain: "mail." + id.Name, Behavior: identity.UseDefaultValue}
	id.Verification.Start(now)
	id.DKIM.Check.Start(now)
	id.MailFrom.Check.Start(now)
	return id
}

func hash(what string, i int) []byte {
	h := sha256.Sum256([]byte(what + strconv.Itoa(i)))
	return h[:]
}

// writeQueryFile writes, in dnsperf's format, the queries one check of
// each identity makes: the zone lookup through the resolver (NS of the
// domain, A and AAAA of its name server), the zone's SOA, and the records.
func writeQueryFile(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i := range n {
		id := benchIdentity(i, time.Time{})
		fmt.Fprintf(w, "%s NS\nns.bench.test A\nns.bench.test AAAA\n%s SOA\n", id.Name, id.Name)
		for _, r := range records.For(id, config.SES()) {
			fmt.Fprintf(w, "%s %s\n", r.Name, r.Type)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

var qpsLine = regexp.MustCompile(`Queries per second:\s+([0-9.]+)`)

func dnsperf(addr, port, file string, seconds int) float64 {
	host, _, _ := strings.Cut(addr, ":")
	out, err := exec.Command("dnsperf", "-e", "-s", host, "-p", port, "-d", file, "-l", strconv.Itoa(seconds)).CombinedOutput()
	if err != nil {
		log.Fatalf("dnsperf (apt-get install -y dnsperf): %v\n%s", err, out)
	}
	m := qpsLine.FindSubmatch(out)
	if m == nil {
		log.Fatalf("no rate in dnsperf's output:\n%s", out)
	}
	q, _ := strconv.ParseFloat(string(m[1]), 64)
	return q
}

// pinClient runs this command again on CPU 1 alone, unless it is already
// that run: GOMAXPROCS follows from the CPUs the process starts with, and
// dnsperf, started from here, inherits them.
func pinClient() {
	if os.Getenv("VERIFYLOAD_PINNED") != "" {
		fmt.Println("pinned: DNS server on CPU 0; verifier, then dnsperf, on CPU 1")
		return
	}
	if runtime.NumCPU() < 2 {
		log.Fatal("-pin needs two CPUs")
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		log.Fatalf("-pin: %v (taskset is in util-linux)", err)
	}
	args := append([]string{"taskset", "-c", "1"}, os.Args...)
	env := append(os.Environ(), "VERIFYLOAD_PINNED="+strconv.Itoa(runtime.NumCPU()))
	log.Fatal(syscall.Exec(taskset, args, env))
}

// machineCPUs is the number of CPUs of the machine, not only those this
// process may run on.
func machineCPUs() int {
	if n, err := strconv.Atoi(os.Getenv("VERIFYLOAD_PINNED")); err == nil {
		return n
	}
	return runtime.NumCPU()
}

// startServer runs this command with -serve and returns the server's
// address once it is listening.
func startServer(n int, pin bool) (string, int, func()) {
	args := []string{os.Args[0], "-serve", "127.0.0.1:0", "-n", strconv.Itoa(n)}
	if pin {
		args = append([]string{"taskset", "-c", "0"}, args...) // taskset execs it: the PID is the server's
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	check(err)
	check(cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		log.Fatalf("DNS server did not start: %v", err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if !ok {
		log.Fatalf("DNS server said %q", line)
	}
	return addr, cmd.Process.Pid, func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}
}

// gaugeSamples samples the verifier's gauges.
type gaugeSamples struct {
	mu  sync.Mutex
	n   int
	sum map[string]float64
}

func (g *gaugeSamples) sample() {
	reg := prometheus.NewRegistry()
	reg.MustRegister(verify.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sum == nil {
		g.sum = make(map[string]float64)
	}
	g.n++
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if m.Gauge != nil {
				g.sum[mf.GetName()] += m.Gauge.GetValue()
			}
		}
	}
}

func (g *gaugeSamples) mean(name string) float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sum[name] / float64(max(g.n, 1))
}

// gcCounters are cumulative garbage collector figures.
type gcCounters struct {
	cycles, alloc uint64
	cpu           time.Duration
}

func (g gcCounters) minus(h gcCounters) gcCounters {
	return gcCounters{cycles: g.cycles - h.cycles, alloc: g.alloc - h.alloc, cpu: g.cpu - h.cpu}
}

func gcStats() gcCounters {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/allocs:bytes"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	return gcCounters{cycles: s[0].Value.Uint64(), alloc: s[1].Value.Uint64(), cpu: time.Duration(s[2].Value.Float64() * float64(time.Second))}
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	check(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineBusy is the CPU time all processes have used, from /proc/stat;
// 0 where there is none.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for i, v := range f[1:8] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100
}

// procCPU is the CPU time process pid has used, from /proc; 0 where there
// is no /proc.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses:
	// state is the 3rd field of stat, utime and stime the 14th and 15th.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ, 100 on Linux
}

// serverCount asks the server how many queries it has answered.
func serverCount(addr string) int64 {
	m := new(dns.Msg).SetQuestion("count.bench.", dns.TypeTXT)
	r, err := dns.Exchange(m, addr)
	check(err)
	if len(r.Answer) != 1 {
		log.Fatalf("count query: %v", r)
	}
	c, err := strconv.ParseInt(r.Answer[0].(*dns.TXT).Txt[0], 10, 64)
	check(err)
	return c
}

// countingStore closes done once target checks are saved, by the
// verifiers that share its tally.
type countingStore struct {
	store.Store
	*tally
}

type tally struct {
	n, target        int64
	done             chan struct{}
	saves, claims    atomic.Int64 // transactions
	saving, claiming atomic.Int64 // wall time in them, ns
}

func (s *countingStore) ClaimDue(ctx context.Context, now, until time.Time, limit int) ([]*identity.Identity, error) {
	s.claims.Add(1)
	defer func(t time.Time) { s.claiming.Add(int64(time.Since(t))) }(time.Now())
	return s.Store.ClaimDue(ctx, now, until, limit)
}

func (s *countingStore) SaveChecks(ctx context.Context, ups []store.CheckUpdate) error {
	s.saves.Add(1)
	t := time.Now()
	err := s.Store.SaveChecks(ctx, ups)
	s.saving.Add(int64(time.Since(t)))
	var n int64
	for _, u := range ups {
		if len(u.Checks) > 0 {
			n++
		}
	}
	if before := atomic.AddInt64(&s.n, n) - n; before < s.target && before+n >= s.target {
		close(s.done)
	}
	return err
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// reportMetrics prints the verifier's counters: checks by result, queries
// by outcome (timeouts would mean the server dropped queries), and the
// check duration.
func reportMetrics() {
	reg := prometheus.NewRegistry()
	reg.MustRegister(verify.Collectors()...)
	mfs, err := reg.Gather()
	check(err)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			switch {
			case m.Counter != nil:
				fmt.Printf("  %s{%s} %.0f\n", mf.GetName(), strings.Join(labels, ","), m.Counter.GetValue())
			case m.Histogram != nil:
				h := m.Histogram
				fmt.Printf("  %s mean %.1fms over %d\n", mf.GetName(), 1000*h.GetSampleSum()/float64(h.GetSampleCount()), h.GetSampleCount())
			}
		}
	}
}

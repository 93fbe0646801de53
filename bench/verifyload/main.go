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
// dnsperf (Debian package dnsperf) against the same server, and both rates
// are printed with their ratio.
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
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/records"
	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/store/sqlite"
	"github.com/sesame/sesame/internal/verify"
)

func main() {
	n := flag.Int("n", 100000, "domain identities")
	concurrency := flag.Int("concurrency", 64, "identities checked at once (Verifier.Concurrency)")
	rateLimit := flag.Float64("ratelimit", 0, "queries/s to one server (dnsclient.Client.RateLimit); 0: no limit")
	perf := flag.Bool("dnsperf", false, "also replay the same query mix with dnsperf and compare")
	perfSeconds := flag.Int("l", 10, "dnsperf run length, seconds")
	serve := flag.String("serve", "", "run the DNS server on this address (used by the command itself)")
	cpuProfile := flag.String("cpuprofile", "", "write the verifier's CPU profile to this file")
	storeKind := flag.String("store", "sqlite", "sqlite (durable, as sesame serve runs) or memory (the verifier alone)")
	flag.Parse()
	if *serve != "" {
		runServer(*serve, *n)
		return
	}

	dir, err := os.MkdirTemp("", "verifyload-")
	check(err)
	defer os.RemoveAll(dir)
	addr, stop := startServer(*n)
	defer stop()
	_, port, _ := strings.Cut(addr, ":")

	ctx := context.Background()
	var st interface {
		store.Store
		Import(context.Context, []*identity.Identity) error
	}
	switch *storeKind {
	case "sqlite":
		db, err := sqlite.Open(ctx, dir)
		check(err)
		defer db.Close()
		st = db
	case "memory":
		st = newMemStore()
	default:
		log.Fatalf("-store %q: want sqlite or memory", *storeKind)
	}
	now := time.Now().UTC()
	for lo := 0; lo < *n; lo += 5000 {
		var ids []*identity.Identity
		for i := lo; i < min(lo+5000, *n); i++ {
			ids = append(ids, benchIdentity(i, now))
		}
		check(st.Import(ctx, ids))
	}

	if *rateLimit == 0 {
		// Not a huge finite rate: the limiter would then make each query
		// wait a few nanoseconds, which a timer rounds up to a millisecond.
		*rateLimit = math.Inf(1)
	}
	cs := &countingStore{Store: st, target: int64(*n), done: make(chan struct{})}
	v := &verify.Verifier{
		Store:       cs,
		DNS:         &dnsclient.Client{Resolver: addr, AuthPort: port, RateLimit: *rateLimit},
		Log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		Concurrency: *concurrency,
	}
	before := serverCount(addr)
	var peakHeap atomic.Uint64
	sample := time.NewTicker(100 * time.Millisecond)
	go func() {
		var ms runtime.MemStats
		for range sample.C {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peakHeap.Load() {
				peakHeap.Store(ms.HeapInuse)
			}
		}
	}()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		check(err)
		check(pprof.StartCPUProfile(f))
	}
	start := time.Now()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- v.Run(rctx) }()
	<-cs.done
	elapsed := time.Since(start)
	cancel()
	check(<-done)
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
	fmt.Printf("verifier: %d identities (TXT + 3 DKIM + MAIL FROM MX and SPF) in %.2fs, concurrency %d, GOMAXPROCS %d, %s store\n",
		*n, elapsed.Seconds(), *concurrency, runtime.GOMAXPROCS(0), *storeKind)
	fmt.Printf("  %.0f identities/s, %.0f DNS queries/s (%.1f queries per identity)\n", ids, qps, float64(queries)/float64(*n))
	fmt.Printf("  peak heap in use %.0f MiB, max RSS %.0f MiB\n", float64(peakHeap.Load())/(1<<20), float64(ru.Maxrss)/1024)

	if *perf {
		file := filepath.Join(dir, "queries.txt")
		check(writeQueryFile(file, *n))
		dq := dnsperf(addr, port, file, *perfSeconds)
		fmt.Printf("dnsperf -s 127.0.0.1 -p %s -d queries.txt -l %d (same query mix, %d queries): %.0f queries/s\n", port, *perfSeconds, 10**n, dq)
		fmt.Printf("  verifier / dnsperf = %.2f\n", qps/dq)
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
	out, err := exec.Command("dnsperf", "-s", host, "-p", port, "-d", file, "-l", strconv.Itoa(seconds)).CombinedOutput()
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

// startServer runs this command with -serve and returns the server's
// address once it is listening.
func startServer(n int) (string, func()) {
	cmd := exec.Command(os.Args[0], "-serve", "127.0.0.1:0", "-n", strconv.Itoa(n))
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
	return addr, func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}
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

// countingStore closes done once target checks are saved.
type countingStore struct {
	store.Store
	n, target int64
	done      chan struct{}
}

func (s *countingStore) SaveChecks(ctx context.Context, ups []store.CheckUpdate) error {
	err := s.Store.SaveChecks(ctx, ups)
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

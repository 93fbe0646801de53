// Command sendload measures sending (issue 16): SendRawEmail of a 10 KB
// message, DKIM-signed with an RSA-2048 key and relayed to Postfix's
// smtp-sink on loopback, against two ceilings measured in the same run on
// the same cores:
//
//   - sign: how many 10 KB messages Go signs a second with RSA-2048
//     (github.com/emersion/go-msgauth/dkim, relaxed/relaxed), on every core;
//   - smtp: Postfix's smtp-source → smtp-sink, 10 KB messages on as many
//     sessions as Sesame's --relay-concurrency, the raw SMTP rate.
//
// Then, per run: closed loop, -clients goroutines per core (32) calling
// SendRawEmail as fast as they are answered: the server's capacity, with
// callers enough that both cores stay busy while calls wait for the
// disk's sync (a call waits longer for its commit than for its
// signature; docs/benchmarks.md measured 8, 16, 32 and 64 a core, three
// runs each: 57-61%, 60%, 60-62% and 57-59% of the ceiling, differences
// within the noise but for 64): accepted/s, and
// relayed/s (every accepted message over the time until the queue has
// delivered the last); and open loop, one call every 1/rate s whatever
// the earlier ones do: the latency of each (p50, p99) and relayed/s. The
// calls go through the whole API handler (SigV4 signature, gate, build,
// DKIM signature, the outbox write) without the network. Medians of -runs
// runs, and their ratios, are printed.
//
// Needs smtp-sink and smtp-source (Debian package postfix; the postfix
// service need not run).
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dkim"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/mail"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/send"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/store"
)

func main() {
	runs := flag.Int("runs", 3, "runs of each measure; medians are printed")
	dur := flag.Duration("duration", 5*time.Second, "length of each measure")
	rate := flag.Float64("rate", 200, "offered rate of the open loop, calls a second")
	conc := flag.Int("relay-concurrency", mail.DefaultConcurrency, "the queue's deliveries at once")
	clients := flag.Int("clients", 32, "callers per core in the closed loop")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the closed loops to this file")
	flag.Parse()
	log.SetFlags(0)
	server.TuneGC() // as sesame serve does
	for _, tool := range []string{"smtp-sink", "smtp-source"} {
		if _, err := exec.LookPath(tool); err != nil {
			log.Fatalf("%s not found: apt-get install -y postfix (the binaries only; the service need not run)", tool)
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	msg := []byte("From: app@example.com\r\nTo: to@example.org\r\nSubject: bench\r\n\r\n" + strings.Repeat(strings.Repeat("x", 76)+"\r\n", 128))
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("sendload: %d cores (GOMAXPROCS), %d runs of %s, open loop at %g/s, --relay-concurrency %d; load average %s",
		runtime.GOMAXPROCS(0), *runs, *dur, *rate, *conc, load)

	var signs, smtps, accepted, relayedClosed, p50s, p99s, relayedOpen, ratios, cpuRatios []float64
	for run := 1; run <= *runs; run++ {
		s, sCPU := signRate(key, msg, *dur)
		m := smtpRate(*dur, *conc)
		if *profile != "" {
			f, err := os.Create(*profile)
			if err != nil {
				log.Fatal(err)
			}
			pprof.StartCPUProfile(f)
		}
		a, rc, rcCPU := closedLoop(key, msg, *dur, *conc, *clients*runtime.GOMAXPROCS(0))
		pprof.StopCPUProfile()
		p50, p99, ro, thr := openLoop(key, msg, *dur, *rate, *conc)
		fmt.Printf("run %d: sign %.0f/s (%.0f per CPU-s); smtp-source→smtp-sink %.0f/s; closed loop accepted %.0f/s, relayed %.0f/s (%.0f per CPU-s): %.0f%% of sign, %.0f%% per CPU-s; open loop at %g/s: p50 %.1f ms, p99 %.1f ms, relayed %.0f/s, %d throttled\n",
			run, s, sCPU, m, a, rc, rcCPU, 100*rc/s, 100*rcCPU/sCPU, *rate, p50, p99, ro, thr)
		signs, smtps, accepted, relayedClosed = append(signs, s), append(smtps, m), append(accepted, a), append(relayedClosed, rc)
		p50s, p99s, relayedOpen = append(p50s, p50), append(p99s, p99), append(relayedOpen, ro)
		ratios, cpuRatios = append(ratios, rc/s), append(cpuRatios, rcCPU/sCPU)
	}
	sg, sm, ac, rc := median(signs), median(smtps), median(accepted), median(relayedClosed)
	fmt.Printf("\nmedians: sign %.0f/s, smtp %.0f/s, accepted %.0f/s, relayed %.0f/s; at %g/s offered: p50 %.1f ms, p99 %.1f ms, relayed %.0f/s\n",
		sg, sm, ac, rc, *rate, median(p50s), median(p99s), median(relayedOpen))
	fmt.Printf("relayed/sign (target at least 60%%): median of the runs %.0f%% by the clock, %.0f%% per CPU-second (what the other load on the machine does not move); relayed/smtp %.1f%%; p99 at %g/s %.1f ms (target under 50 ms)\n",
		100*median(ratios), 100*median(cpuRatios), 100*rc/sm, *rate, median(p99s))
}

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

// signRate is how many messages a second are signed on every core, and
// how many per second of CPU.
func signRate(key *rsa.PrivateKey, msg []byte, d time.Duration) (rate, perCPU float64) {
	c0 := cpu()
	var n atomic.Int64
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				if _, err := dkim.Sign(msg, "example.com", "bench", key); err != nil {
					log.Fatal(err)
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds(), float64(n.Load()) / (cpu() - c0).Seconds()
}

// sink runs smtp-sink on a free loopback port until stop is called.
func sink() (addr string, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	cmd := exec.Command("smtp-sink", "-u", "nobody", addr, "256")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log.Fatalf("smtp-sink on %s not accepting", addr)
		}
	}
	return addr, func() { cmd.Process.Kill(); cmd.Wait() }
}

// smtpRate runs smtp-source against smtp-sink: 10 KB messages, sessions
// sessions each sending many messages (-d), for about d.
func smtpRate(d time.Duration, sessions int) float64 {
	addr, stop := sink()
	defer stop()
	// A first short run sizes the real one to last about d.
	rate := func(n int) (float64, time.Duration) {
		start := time.Now()
		out, err := exec.Command("smtp-source", "-d", "-s", strconv.Itoa(sessions), "-l", "10240", "-m", strconv.Itoa(n),
			"-f", "app@example.com", "-t", "to@example.org", addr).CombinedOutput()
		if err != nil {
			log.Fatalf("smtp-source: %v\n%s", err, out)
		}
		el := time.Since(start)
		return float64(n) / el.Seconds(), el
	}
	r, _ := rate(200)
	r, _ = rate(max(200, int(r*d.Seconds())))
	return r
}

// bench is a server relaying to smtp-sink, with one verified domain out of
// the sandbox and a signed SendRawEmail request to replay.
type bench struct {
	s      *server.Server
	body   string
	header http.Header
	stop   func()
}

func newBench(key *rsa.PrivateKey, msg []byte, conc int) *bench {
	ctx := context.Background()
	addr, stopSink := sink()
	data, err := os.MkdirTemp("", "sendload")
	if err != nil {
		log.Fatal(err)
	}
	os.Chmod(data, 0o700)
	s, err := server.Open(ctx, server.Options{Data: data, DNS: config.SES(), Policies: identity.SESPolicies(), SMTPURL: "smtp://" + addr,
		Mail: mail.Settings{Concurrency: conc}, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	// The cost of a real signature; which key signs is the dkim
	// package's business, not this measure's.
	s.Sender.Signer = send.SignerFunc(func(_ context.Context, _ registry.Scope, _ string, m []byte) ([]byte, error) {
		return dkim.Sign(m, "example.com", "bench", key)
	})
	c, err := s.Accounts.Create(ctx, "bench")
	if err != nil {
		log.Fatal(err)
	}
	k := identity.Key{Account: c.AccountId, Region: "us-east-1", Name: "example.com"}
	now := time.Now().UTC()
	id := &identity.Identity{Key: k, Kind: 1, Created: now, Token: identity.NewVerificationToken()}
	id.Verification.Start(now)
	id.Verification.Status = identity.Success
	if _, err := s.Identities.UpdateIdentity(ctx, k, func(*identity.Identity) (*identity.Identity, error) { return id, nil }); err != nil {
		log.Fatal(err)
	}
	if _, err := s.Store.UpdateSendingState(ctx, c.AccountId, "us-east-1", func(st *store.SendingState) error {
		st.Production, st.MaxSendRate, st.Max24HourSend = true, -1, -1
		return nil
	}); err != nil {
		log.Fatal(err)
	}
	body := url.Values{"Action": {"SendRawEmail"}, "Version": {"2010-12-01"},
		"RawMessage.Data": {base64.StdEncoding.EncodeToString(msg)}}.Encode()
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: c.AccessKeyId, SecretAccessKey: string(c.SecretAccessKey)}
	if err := v4.NewSigner().SignHTTP(ctx, creds, r, hex.EncodeToString(sum[:]), "ses", "us-east-1", now); err != nil {
		log.Fatal(err)
	}
	return &bench{s: s, body: body, header: r.Header, stop: func() { s.Close(); stopSink(); os.RemoveAll(data) }}
}

var messageID = regexp.MustCompile(`<MessageId>[^<]+</MessageId>`)

// call makes one SendRawEmail and fails on anything but a MessageId, or,
// when throttling is allowed, SES's Throttling (the server holds its
// budget of request bodies: calls pile up when it falls behind); it says
// whether the call was throttled.
func (b *bench) call(throttling bool) (throttled bool) {
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(b.body))
	r.Header = b.header
	w := httptest.NewRecorder()
	b.s.Handler.ServeHTTP(w, r)
	if throttling && w.Code == 400 && strings.Contains(w.Body.String(), "<Code>Throttling</Code>") {
		return true
	}
	if w.Code != 200 || !messageID.Match(w.Body.Bytes()) {
		log.Fatalf("SendRawEmail: status %d: %s", w.Code, w.Body)
	}
	return false
}

// drained waits until the queue has delivered everything, and returns when
// that was.
func (b *bench) drained() time.Time {
	// Every 5 ms: often enough for the figure (5 s runs), rarely enough
	// that the polling's CPU is not counted as the queue's.
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		next, err := b.s.Store.NextDue(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		if next.IsZero() {
			return time.Now()
		}
	}
	log.Fatal("the queue did not drain in 5 minutes")
	return time.Time{}
}

// closedLoop: callers goroutines (-clients per core), each call after the
// last is answered.
// perCPU is the messages relayed per second of this process's CPU, until
// the last is relayed.
func closedLoop(key *rsa.PrivateKey, msg []byte, d time.Duration, conc, callers int) (accepted, relayed, perCPU float64) {
	b := newBench(key, msg, conc)
	defer b.stop()
	c0 := cpu()
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				b.call(false)
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	done := b.drained()
	used := cpu() - c0
	return float64(n.Load()) / el.Seconds(), float64(n.Load()) / done.Sub(start).Seconds(), float64(n.Load()) / used.Seconds()
}

// openLoop: one call every 1/rate s, each on its own goroutine, whatever
// the earlier ones do; the latency of each is from its scheduled time, so
// that a stalled sender does not hide the wait (coordinated omission).
func openLoop(key *rsa.PrivateKey, msg []byte, d time.Duration, rate float64, conc int) (p50, p99, relayed float64, throttled int64) {
	b := newBench(key, msg, conc)
	defer b.stop()
	n := int(rate * d.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	lat := make([]time.Duration, n)
	var thr atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(at))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if b.call(true) {
				thr.Add(1)
			}
			lat[i] = time.Since(at)
		}()
	}
	wg.Wait()
	done := b.drained()
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(n-1))]) / float64(time.Millisecond) }
	return ms(0.50), ms(0.99), float64(n-int(thr.Load())) / done.Sub(start).Seconds(), thr.Load()
}

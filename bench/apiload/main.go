// Command apiload measures the SES API of a running `sesame serve`: the
// throughput and latency of SigV4-signed GetIdentityVerificationAttributes
// calls over loopback, with 10,000 identities in the store; with -attack,
// the same throughput beside unsigned connections that announce large
// bodies and stall, and with -keyed and -header-stall, requests in another
// tenant's key ID with a wrong signature whose bodies stall, and headers
// that trickle (attack.go); with -setups, SQLite against PostgreSQL with
// one or more replicas, reads mixed with -writes (compare.go).
//
// It seeds a fresh data directory, starts the sesame binary on it as a
// separate process, and then runs two phases:
//
//   - throughput: -workers closed-loop clients for -duration;
//   - latency: an open loop at -rate requests/s for -duration, latencies
//     measured from each request's scheduled time, so a stall counts in full.
//
// Requests are signed before each phase with the AWS SDK's v4 signer (a pool
// of -pool distinct requests, replayed); signing on the client would
// otherwise take a share of the same two cores the server is measured on.
// Signatures stay valid for the server's 15 minutes of allowed skew.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/server"
)

func main() {
	bin := flag.String("sesame", "./sesame", "sesame binary to measure")
	n := flag.Int("identities", 10000, "identities in the store")
	workers := flag.Int("workers", 32, "concurrent clients in the throughput phase")
	rate := flag.Int("rate", 1000, "requests/s in the latency phase")
	dur := flag.Duration("duration", 10*time.Second, "length of each phase")
	pool := flag.Int("pool", 4096, "distinct signed requests")
	attack := flag.Int("attack", 0, "instead of the two phases, alternate throughput phases without and with this many unsigned connections announcing -attack-mib each (attack.go)")
	keyed := flag.Int("keyed", 0, "with the attack, this many connections in another tenant's access key ID with a wrong signature, stalling their bodies (attack.go)")
	headers := flag.Int("header-stall", 0, "with the attack, this many connections that send their headers a byte a second (attack.go)")
	attackMiB := flag.Int64("attack-mib", 32, "Content-Length of each attacking connection, MiB")
	trickle := flag.Duration("trickle", 0, "attacking connections send a byte this often instead of stalling")
	runs := flag.Int("runs", 3, "pairs of phases with -attack; rounds of phases with -setups")
	setups := flag.String("setups", "", "instead of the two phases, compare set-ups in one sitting, each -runs times, rounds interleaved: store:replicas, comma-separated, e.g. sqlite:1,postgres:1,postgres:3 (PostgreSQL started by internal/pgtest; compare.go); store:replicas@binary runs another sesame binary than -sesame's, to compare two versions in one sitting")
	writes := flag.Float64("writes", 0, "with -setups, the share of requests that are VerifyDomainIdentity of a seeded domain (a write: a new verification window), the rest reads")
	flag.Parse()

	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sesame-bench-")
	check(err)
	defer os.RemoveAll(dir)
	if *setups != "" {
		compare(ctx, *bin, *setups, *n, *workers, *pool, *writes, *runs, *dur)
		return
	}
	creds, victim := seed(ctx, dir, "", *n)

	r := start(*bin, dir)
	defer r.stop()
	addr := r.addr
	serverPID = r.pid

	reqs := sign([]string{addr}, creds, *n, *pool, 0)
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	// Warm up connections and caches.
	closedLoop(client, reqs, *workers, time.Second)
	if *attack > 0 || *keyed > 0 || *headers > 0 {
		plan := attackPlan{unsigned: *attack, keyed: *keyed, headers: *headers, keyID: victim, size: *attackMiB << 20, trickle: *trickle}
		attackBench(client, reqs, addr, *workers, *runs, plan, *dur)
		return
	}

	fmt.Printf("sesame API benchmark: GetIdentityVerificationAttributes, %d identities, GOMAXPROCS of the server = %d cores\n\n", *n, runtimeCores())
	srv0, cli0 := cpuTime(serverPID), cpuTime(os.Getpid())
	tp := closedLoop(client, reqs, *workers, *dur)
	srvCPU, cliCPU := cpuTime(serverPID)-srv0, cpuTime(os.Getpid())-cli0
	fmt.Printf("| phase | requests | errors | throughput (req/s) | p50 | p99 |\n|---|---|---|---|---|---|\n")
	fmt.Printf("| throughput, %d workers | %d | %d | %.0f | %s | %s |\n", *workers, tp.n, tp.errors, float64(tp.n)/dur.Seconds(), tp.pct(50), tp.pct(99))
	lt := openLoop(client, reqs, *rate, *dur)
	fmt.Printf("| latency, %d req/s | %d | %d | %.0f | %s | %s |\n", *rate, lt.n, lt.errors, float64(lt.n)/dur.Seconds(), lt.pct(50), lt.pct(99))
	// CPU time per request does not depend on what else the machine runs:
	// it says what two idle cores could serve, server and client together.
	perSrv := srvCPU.Seconds() / float64(tp.n) * 1e6
	perCli := cliCPU.Seconds() / float64(tp.n) * 1e6
	fmt.Printf("\nCPU per request in the throughput phase: server %.1f µs, load generator %.1f µs;\n", perSrv, perCli)
	fmt.Printf("two idle cores would serve %.0f req/s (server and load generator sharing them), %.0f req/s (server alone)\n",
		2e6/(perSrv+perCli), 2e6/perSrv)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func runtimeCores() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return bytes.Count(b, []byte("processor\t:"))
}

// seed makes an account and n domain identities in dir (or the PostgreSQL
// database at url), in one transaction, and another account, whose access
// key ID it returns too (the keyed attackers use it).
func seed(ctx context.Context, dir, url string, n int) (*account.Credentials, string) {
	st, err := server.OpenStore(ctx, dir, url)
	check(err)
	defer st.Close()
	m, err := server.OpenAccounts(st, dir, "")
	check(err)
	c, err := m.Create(ctx, "bench")
	check(err)
	victim, err := m.Create(ctx, "victim")
	check(err)
	now := time.Now().UTC()
	ids := make([]*identity.Identity, n)
	for i := range ids {
		id := &identity.Identity{
			Key:  identity.Key{Account: c.AccountId, Region: "us-east-1", Name: fmt.Sprintf("d%05d.example.com", i)},
			Kind: names.KindDomain, Created: now, Token: identity.NewVerificationToken(),
			DKIM: identity.DKIM{Enabled: true, Tokens: identity.NewDKIMTokens(), Origin: "AWS_SES"},
		}
		id.Verification.Start(now)
		id.DKIM.Check.Start(now)
		ids[i] = id
	}
	check(st.Import(ctx, ids))
	return c, victim.AccessKeyId
}

// replica is a running `sesame serve`.
type replica struct {
	addr string
	pid  int
	stop func()
}

// start runs `sesame serve` on a free port, with extra flags, and waits for
// /healthz.
func start(bin, dir string, extra ...string) replica {
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--data", dir, "--log-level", "warn"}, extra...)...)
	stderr, err := cmd.StderrPipe()
	check(err)
	cmd.Stdout = io.Discard
	check(cmd.Start())
	// Port 0 lets the kernel choose; ss tells which port the process got.
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(os.Stderr, "server:", sc.Text())
		}
	}()
	go func() {
		re := regexp.MustCompile(`127\.0\.0\.1:(\d+)`)
		for range 200 {
			out, _ := exec.Command("ss", "-ltnpH").Output()
			for _, line := range strings.Split(string(out), "\n") {
				if strings.Contains(line, fmt.Sprintf("pid=%d,", cmd.Process.Pid)) {
					if m := re.FindStringSubmatch(line); m != nil {
						addrc <- "127.0.0.1:" + m[1]
						return
					}
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		addrc <- ""
	}()
	addr := <-addrc
	if addr == "" {
		cmd.Process.Kill()
		log.Fatal("sesame did not start listening")
	}
	stop := func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }
	for range 100 {
		if r, err := http.Get("http://" + addr + "/healthz"); err == nil && r.StatusCode == 200 {
			r.Body.Close()
			return replica{addr: addr, pid: cmd.Process.Pid, stop: stop}
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	log.Fatal("sesame not healthy")
	return replica{}
}

type signed struct {
	url    string // of the replica the request is signed for (its Host)
	body   []byte
	header http.Header
	want   []byte // in a successful response
}

// sign prepares count signed requests, each for one random identity, spread
// over the replicas at addrs in turn; a share writes of them are
// VerifyDomainIdentity, the others GetIdentityVerificationAttributes.
func sign(addrs []string, c *account.Credentials, n, count int, writes float64) []signed {
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: c.AccessKeyId, SecretAccessKey: string(c.SecretAccessKey)}
	out := make([]signed, count)
	now := time.Now().UTC()
	everyWrite := 0
	if writes > 0 {
		everyWrite = int(1/writes + 0.5)
	}
	for i := range out {
		domain := fmt.Sprintf("d%05d.example.com", rand.IntN(n))
		v := url.Values{"Action": {"GetIdentityVerificationAttributes"}, "Version": {"2010-12-01"}, "Identities.member.1": {domain}}
		want := "<VerificationStatus>"
		if everyWrite > 0 && i%everyWrite == 0 {
			v = url.Values{"Action": {"VerifyDomainIdentity"}, "Version": {"2010-12-01"}, "Domain": {domain}}
			want = "<VerificationToken>"
		}
		body := v.Encode()
		u := "http://" + addrs[i%len(addrs)] + "/"
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		sum := sha256.Sum256([]byte(body))
		check(signer.SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "ses", "us-east-1", now))
		out[i] = signed{url: u, body: []byte(body), header: req.Header, want: []byte(want)}
	}
	return out
}

type stats struct {
	n, errors int64
	lat       []time.Duration
}

func (s *stats) pct(p float64) string {
	if len(s.lat) == 0 {
		return "-"
	}
	slices.Sort(s.lat)
	d := s.lat[min(len(s.lat)-1, int(float64(len(s.lat))*p/100))]
	return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
}

func do(client *http.Client, r signed) bool {
	req, _ := http.NewRequest(http.MethodPost, r.url, bytes.NewReader(r.body))
	req.Header = r.header.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode == 200 && bytes.Contains(b, r.want)
}

var serverPID int

// cpuTime is the user+system CPU time of a process, from /proc/PID/stat.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

func closedLoop(client *http.Client, reqs []signed, workers int, d time.Duration) *stats {
	var mu sync.Mutex
	total := &stats{}
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	var next atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local stats
			for time.Now().Before(deadline) {
				r := reqs[int(next.Add(1))%len(reqs)]
				t := time.Now()
				ok := do(client, r)
				local.lat = append(local.lat, time.Since(t))
				local.n++
				if !ok {
					local.errors++
				}
			}
			mu.Lock()
			total.n += local.n
			total.errors += local.errors
			total.lat = append(total.lat, local.lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total
}

func openLoop(client *http.Client, reqs []signed, rate int, d time.Duration) *stats {
	var mu sync.Mutex
	total := &stats{}
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	count := int(d / interval)
	for i := range count {
		due := start.Add(time.Duration(i) * interval)
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok := do(client, reqs[i%len(reqs)])
			l := time.Since(due)
			mu.Lock()
			total.n++
			if !ok {
				total.errors++
			}
			total.lat = append(total.lat, l)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total
}

// Command dkimdns measures Sesame's authoritative DNS for the DKIM zone
// (internal/dnsserver on the keyring, answers from the SQLite store)
// against Knot DNS serving the same records from a zone file: dnsperf
// (Debian package dnsperf) replays the same queries, one TXT query per
// token in random order, against each in turn, and the rates are printed
// with their ratio. Response rate limiting is off on both (dnsperf is one
// client, which RRL would rightly throttle).
//
//	go run ./bench/dkimdns -n 10000 -l 10 -runs 2
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dkim"
	"github.com/sesame/sesame/internal/dnsserver"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/keyring"
	"github.com/sesame/sesame/internal/seal"
	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/store/sqlite"
)

const zone = "dkim.bench.test."

func main() {
	n := flag.Int("n", 10000, "domain identities (three tokens each)")
	seconds := flag.Int("l", 10, "dnsperf run length, seconds")
	runs := flag.Int("runs", 2, "dnsperf runs on each server, alternating")
	cpuProfile := flag.String("cpuprofile", "", "write the CPU profile of Sesame's server, over its dnsperf runs, to this file")
	flag.Parse()
	for _, tool := range []string{"dnsperf", "knotd"} {
		if _, err := lookPath(tool); err != nil {
			log.Fatalf("%s is not installed (apt-get install -y dnsperf knot)", tool)
		}
	}
	dir, err := os.MkdirTemp("", "dkimdns-")
	check(err)
	defer os.RemoveAll(dir)
	ctx := context.Background()

	// Eight real key pairs, their records spread over the tokens: the
	// answers have the size of real 2048-bit keys.
	var records []string
	var ders [][]byte
	for range 8 {
		k, err := dkim.Generate(dkim.RSA2048)
		check(err)
		der, err := dkim.Marshal(k)
		check(err)
		records, ders = append(records, dkim.Record(&k.PublicKey)), append(ders, der)
	}
	st, err := sqlite.Open(ctx, dir)
	check(err)
	defer st.Close()
	sk := make([]byte, 32)
	rand.Read(sk)
	sealer, err := seal.NewSealer(sk)
	check(err)
	var tokens []string
	now := time.Now().UTC()
	for lo := 0; lo < *n; lo += 1000 {
		var keys []store.DKIMKey
		for i := lo; i < min(lo+1000, *n); i++ {
			id := identity.Key{Account: "111111111111", Region: "us-east-1", Name: fmt.Sprintf("d%06d.example", i)}
			for j, tok := range identity.NewDKIMTokens() {
				r := mrand.IntN(len(records))
				sealed, err := sealer.Seal(string(ders[r]), tok)
				check(err)
				state := store.DKIMStandby
				if j == 0 {
					state = store.DKIMCurrent
				}
				keys = append(keys, store.DKIMKey{Token: tok, Identity: id, State: state, Length: dkim.RSA2048, Sealed: sealed, Record: records[r], Created: now})
				tokens = append(tokens, tok)
			}
		}
		check(st.AddDKIMKeys(ctx, keys))
	}

	// Sesame's listener, as sesame serve --dns-listen runs it.
	ring := &keyring.Keyring{Keys: st, Identities: st, Sealer: sealer}
	sesame := &dnsserver.Server{Zone: zone, NS: []string{"ns1." + zone}, Keys: ring, RateLimit: -1}
	pcs, l, err := dnsserver.Listen("127.0.0.1:0")
	check(err)
	go func() { check(sesame.ServeAll(ctx, pcs, l)) }()
	sesameAddr := pcs[0].LocalAddr().String()

	knotAddr, stopKnot := startKnot(dir, st, tokens)
	defer stopKnot()

	// The same queries, in random order; and the same answer from both.
	file := filepath.Join(dir, "queries.txt")
	mrand.Shuffle(len(tokens), func(i, j int) { tokens[i], tokens[j] = tokens[j], tokens[i] })
	var b strings.Builder
	for _, t := range tokens {
		fmt.Fprintf(&b, "%s.%s TXT\n", t, strings.TrimSuffix(zone, "."))
	}
	check(os.WriteFile(file, []byte(b.String()), 0o644))
	for _, t := range tokens[:20] {
		a, k := txt(sesameAddr, t+"."+zone), txt(knotAddr, t+"."+zone)
		if a == "" || a != k {
			log.Fatalf("%s: Sesame answers %q, Knot %q", t, a, k)
		}
	}

	fmt.Printf("%d tokens (%d identities), 2048-bit keys; dnsperf -e -l %d, %d runs each, alternating\n", len(tokens), *n, *seconds, *runs)
	var ses, knot []float64
	var prof *os.File
	if *cpuProfile != "" {
		prof, err = os.Create(*cpuProfile)
		check(err)
	}
	for i := range *runs {
		if prof != nil {
			check(pprof.StartCPUProfile(prof))
		}
		ses = append(ses, dnsperf(sesameAddr, file, *seconds))
		if prof != nil {
			pprof.StopCPUProfile()
			prof = nil // the first run's
		}
		fmt.Printf("  run %d: Sesame %.0f queries/s\n", i+1, ses[len(ses)-1])
		knot = append(knot, dnsperf(knotAddr, file, *seconds))
		fmt.Printf("  run %d: Knot   %.0f queries/s\n", i+1, knot[len(knot)-1])
	}
	ms, mk := median(ses), median(knot)
	fmt.Printf("median: Sesame %.0f queries/s, Knot %.0f queries/s, Sesame / Knot = %.2f (target at least 0.5)\n", ms, mk, ms/mk)
}

// startKnot serves the zone with every token's record from a zone file.
func startKnot(dir string, st store.DKIMKeys, tokens []string) (string, func()) {
	knotd, _ := lookPath("knotd")
	var z bytes.Buffer
	fmt.Fprintf(&z, "$ORIGIN %s\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 604800 60\n@ NS ns1\n", zone)
	ctx := context.Background()
	for _, t := range tokens {
		k, err := st.GetDKIMKey(ctx, t)
		check(err)
		var parts []string
		for _, s := range dnsserver.Split(k.Record) {
			parts = append(parts, strconv.Quote(s))
		}
		fmt.Fprintf(&z, "%s TXT %s\n", t, strings.Join(parts, " "))
	}
	for _, d := range []string{"zones", "db", "run"} {
		check(os.MkdirAll(filepath.Join(dir, "knot", d), 0o755))
	}
	kd := filepath.Join(dir, "knot")
	check(os.WriteFile(filepath.Join(kd, "zones", zone+"zone"), z.Bytes(), 0o644))
	port := freePort()
	conf := fmt.Sprintf(`server:
    listen: 127.0.0.1@%s
    rundir: %s/run
log:
  - target: stderr
    any: warning
database:
    storage: %s/db
template:
  - id: default
    storage: %s/zones
    zonefile-sync: -1
    zonefile-load: whole
zone:
  - domain: %s
`, port, kd, kd, kd, zone)
	confPath := filepath.Join(kd, "knot.conf")
	check(os.WriteFile(confPath, []byte(conf), 0o644))
	cmd := exec.Command(knotd, "-c", confPath)
	cmd.Stderr = os.Stderr
	check(cmd.Start())
	addr := "127.0.0.1:" + port
	deadline := time.Now().Add(30 * time.Second)
	for txt(addr, tokens[len(tokens)-1]+"."+zone) == "" {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			log.Fatal("knotd did not serve the zone within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return addr, func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }
}

func txt(addr, name string) string {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeTXT)
	m.SetEdns0(1232, false)
	r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, addr)
	if err != nil || len(r.Answer) != 1 {
		return ""
	}
	t, ok := r.Answer[0].(*dns.TXT)
	if !ok {
		return ""
	}
	return strings.Join(t.Txt, "")
}

var qpsLine = regexp.MustCompile(`Queries per second:\s+([0-9.]+)`)

func dnsperf(addr, file string, seconds int) float64 {
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command("dnsperf", "-e", "-s", host, "-p", port, "-d", file, "-l", strconv.Itoa(seconds)).CombinedOutput()
	if err != nil {
		log.Fatalf("dnsperf: %v\n%s", err, out)
	}
	m := qpsLine.FindSubmatch(out)
	if m == nil {
		log.Fatalf("no rate in dnsperf's output:\n%s", out)
	}
	if bytes.Contains(out, []byte("Queries lost:")) && !bytes.Contains(out, []byte("Queries lost:         0 ")) {
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "lost") || strings.Contains(line, "NOERROR") {
				fmt.Println("    " + strings.TrimSpace(line))
			}
		}
	}
	q, _ := strconv.ParseFloat(string(m[1]), 64)
	return q
}

func freePort() string {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		check(err)
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return strconv.Itoa(port)
		}
	}
	log.Fatal("no free port")
	return ""
}

func lookPath(tool string) (string, error) {
	for _, dir := range []string{"", "/usr/sbin/", "/usr/bin/"} {
		if p, err := exec.LookPath(dir + tool); err == nil {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

package server_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/dnstest"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/sestest"
)

// TestSoak (issue 14): for a bounded time, signed writes through both
// protocols, the verifier checking what they create on a loopback DNS
// server, and at once the attacks of the issue, each from a loopback
// address of its own (127.0.0.2-6; the signed clients dial from
// 127.0.0.1): unsigned connections that announce 32 MiB, send what the
// server takes and stall; connections that send garbage; requests in the
// name of another tenant's access key (its ID is no secret), with a wrong
// signature, whose bodies stall: small ones, a 32 MiB template sent but
// for its last byte, and templates that trickle; and connections that
// send 60 KiB of headers, or a few, and then a byte a second. No
// acknowledged write may be lost, no signed call may fail, and the
// process's resident memory stays bounded.
//
// The test does not run in parallel, so that the memory measured is the
// soak's (the process's RSS, sampled, and its peak, VmHWM, reset at the
// start). Before issue 14's fixes, each unsigned connection could make the
// server hold 32 MiB (1.6 GiB for 50); before the connection and header
// limits, each header trickler held 64 KiB and a goroutine, without bound
// on their number; and before the budget was charged as bytes arrived, the
// key ID's stalled bodies took the whole budget, failing the signed calls.
func TestSoak(t *testing.T) {
	dur := 10 * time.Second
	if testing.Short() {
		dur = 3 * time.Second
	}
	// The bound for the server alone is 300 MiB under 200
	// unsigned connections; here the process holds the test's clients and
	// attackers too. Measured on a loaded 2-core machine (load 10-13):
	// 86-192 MiB, and 566-707 MiB under the race detector, whose shadow
	// of every byte allocated (a 32 MiB body grown by doubling is 64 MiB)
	// multiplies memory. The code before the connection and header limits
	// and the budget charged as bytes arrive peaked at 237-342 MiB, and
	// 1.3-1.4 GiB under the race detector (and failed signed writes).
	rssBound := int64(300 << 20)
	if raceEnabled {
		rssBound = 1 << 30
	}

	dns := dnstest.NewServer(t, "")
	dns.SetZone("soak.test.", "@ SOA ns1 hostmaster 1 3600 600 86400 30\n@ NS ns1\nns1 A 127.0.0.1\n")
	srv := sestest.New(t, sestest.Options{
		Limits: api.Limits{BodyTimeout: time.Second},
		Verify: server.VerifyOptions{Run: true, Resolver: dns.Addr, AuthPort: dns.Port, RateLimit: 1000, Recheck: time.Second,
			Timeout: 500 * time.Millisecond, Budget: 3 * time.Second},
	})
	a := srv.NewAccount("soak")
	victim := srv.NewAccount("victim") // its key ID is known to the attackers
	addr := strings.TrimPrefix(srv.URL, "http://")
	ctx, cancel := context.WithTimeout(t.Context(), dur)
	defer cancel()
	rss0 := resetPeakRSS(t)

	// The attacks.
	var attacks sync.WaitGroup
	var opened atomic.Int64
	// attack runs n attackers from one address; each opens a connection,
	// runs conn on it, and waits pause before the next.
	attack := func(n int, from string, pause time.Duration, conn func(c net.Conn)) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		for range n {
			attacks.Add(1)
			go func() {
				defer attacks.Done()
				for ctx.Err() == nil {
					c, err := d.DialContext(ctx, "tcp", addr)
					if err != nil {
						time.Sleep(100 * time.Millisecond)
						continue
					}
					opened.Add(1)
					stop := context.AfterFunc(ctx, func() { c.Close() })
					conn(c)
					stop()
					c.Close()
					select {
					case <-ctx.Done():
					case <-time.After(pause):
					}
				}
			}()
		}
	}
	chunk := []byte(strings.Repeat("Action=ListIdentities&", 3000))
	drain := func(c net.Conn) { // until the server closes the connection
		buf := make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}
	trickle := func(c net.Conn, b []byte) { // a byte a second until the server closes the connection
		go drain(c)
		for i := 0; ctx.Err() == nil; i++ {
			if _, err := c.Write(b[i%len(b) : i%len(b)+1]); err != nil {
				return
			}
			time.Sleep(time.Second)
		}
	}
	attack(50, "127.0.0.2", time.Second, func(c net.Conn) { // unsigned, 32 MiB announced, stalls
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", 32<<20)
		for sent := 0; sent < 32<<20-len(chunk); sent += len(chunk) {
			if _, err := c.Write(chunk); err != nil {
				break
			}
		}
		drain(c)
	})
	attack(10, "127.0.0.2", time.Second, func(c net.Conn) { // garbage
		b := make([]byte, 8192)
		rand.Read(b)
		c.Write(b)
		drain(c)
	})
	keyed := func(length int) string {
		now := time.Now().UTC()
		return fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Amz-Date: %s\r\nAuthorization: AWS4-HMAC-SHA256 Credential=%s/%s/us-east-1/ses/aws4_request, SignedHeaders=host;x-amz-date, Signature=%s\r\nContent-Length: %d\r\n\r\n",
			now.Format("20060102T150405Z"), victim.AccessKeyId, now.Format("20060102"), strings.Repeat("0", 64), length)
	}
	attack(300, "127.0.0.3", time.Second, func(c net.Conn) { // the victim's key, a bad signature, 256 KiB announced, 1 KiB sent
		fmt.Fprint(c, keyed(256<<10))
		c.Write(chunk[:1024])
		drain(c)
	})
	attack(2, "127.0.0.3", time.Second, func(c net.Conn) { // the victim's key, a 32 MiB template sent but for its last byte
		fmt.Fprint(c, keyed(32<<20))
		fmt.Fprint(c, "Action=CreateCustomVerificationEmailTemplate&Version=2010-12-01&TemplateContent=")
		for sent := 82; sent < 32<<20-len(chunk); sent += len(chunk) {
			if _, err := c.Write(chunk); err != nil {
				break
			}
		}
		drain(c)
	})
	attack(4, "127.0.0.4", 100*time.Millisecond, func(c net.Conn) { // the victim's key, a bad signature, a template that trickles
		fmt.Fprint(c, keyed(32<<20))
		fmt.Fprintf(c, "Action=CreateCustomVerificationEmailTemplate&Version=2010-12-01&TemplateContent=")
		for ctx.Err() == nil {
			if _, err := c.Write(chunk[:1024]); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	bigHead := []byte("POST / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("y", 1000)+"\r\n", 60))
	// 1000 connections from one address that each send 60 KiB of headers
	// and then a byte a second (past --max-connections-per-ip, refused;
	// within, answered 431); they wait 5 s before trying again, not to
	// take the CPU that the signed writes need.
	attack(1000, "127.0.0.5", 5*time.Second, func(c net.Conn) { // 60 KiB of headers, then a byte a second
		if _, err := c.Write(bigHead); err == nil {
			trickle(c, []byte("X-More: y\r\n"))
		}
	})
	attack(100, "127.0.0.6", time.Second, func(c net.Conn) { // a request line, then a byte a second
		fmt.Fprint(c, "GET /healthz HTTP/1.1\r\n")
		trickle(c, []byte("X-More: y\r\n"))
	})

	// The signed writes: each acknowledged name is kept, and the v1 ones
	// are published, so that the verifier has work.
	type ack struct{ name, token string }
	acks := make(chan ack, 1024)
	var writers sync.WaitGroup
	var failures atomic.Int64
	var firstFailure atomic.Value
	for w := range 4 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			v1, v2 := a.V1(""), a.V2("")
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprintf("w%d-%d.soak.test", w, i)
				var err error
				var token string
				if i%2 == 0 {
					var out *ses.VerifyDomainIdentityOutput
					out, err = v1.VerifyDomainIdentity(context.Background(), &ses.VerifyDomainIdentityInput{Domain: aws.String(name)})
					if err == nil {
						token = aws.ToString(out.VerificationToken)
					}
				} else {
					_, err = v2.CreateEmailIdentity(context.Background(), &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(name)})
				}
				if err != nil {
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("%s: %v", name, err))
					continue
				}
				acks <- ack{name, token}
			}
		}()
	}
	go func() { writers.Wait(); close(acks) }()

	var acked []ack
	var peakRSS, peakHeap int64
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case k, ok := <-acks:
			if !ok {
				done = true
				break
			}
			acked = append(acked, k)
			if k.token != "" {
				dns.AddRR(fmt.Sprintf(`_amazonses.%s. 60 TXT "%s"`, k.name, k.token))
			}
		case <-tick.C:
			peakRSS = max(peakRSS, procStatus(t, "VmRSS"))
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, int64(ms.HeapInuse))
		}
	}
	attacks.Wait()
	hwm := procStatus(t, "VmHWM")
	t.Logf("%s: %d acknowledged writes, %d attacking connections, RSS %d MiB at the start, peak %d MiB sampled, %d MiB VmHWM (Go heap in use: peak %d MiB)",
		dur, len(acked), opened.Load(), rss0>>20, peakRSS>>20, hwm>>20, peakHeap>>20)

	if n := failures.Load(); n > 0 {
		t.Errorf("%d signed writes failed during the attack, the first: %v", n, firstFailure.Load())
	}
	if peak := max(peakRSS, hwm); peak > rssBound {
		t.Errorf("peak RSS %d MiB, want at most %d MiB", peak>>20, rssBound>>20)
	}
	if len(acked) < 20 {
		t.Fatalf("only %d writes acknowledged in %s", len(acked), dur)
	}
	// Every acknowledged write is there.
	v2 := a.V2("")
	lost := 0
	for _, k := range acked {
		if _, err := v2.GetEmailIdentity(context.Background(), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(k.name)}); err != nil {
			lost++
			if lost <= 3 {
				t.Errorf("acknowledged %s: %v", k.name, err)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged writes lost", lost, len(acked))
	}
	// The verifier kept working: the first published domain is verified.
	for _, k := range acked {
		if k.token != "" {
			waitStatus(t, v2, k.name, "SUCCESS", 15*time.Second)
			break
		}
	}
}

// procStatus is a field of /proc/self/status in bytes (VmRSS, VmHWM).
func procStatus(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("/proc/self/status: %s: %v", line, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("/proc/self/status has no %s", field)
	return 0
}

// resetPeakRSS resets the process's VmHWM to its RSS now (clear_refs 5,
// Linux 4.0), so that VmHWM at the end is the soak's own peak, not an
// earlier test's, and returns the RSS now.
func resetPeakRSS(t *testing.T) int64 {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatalf("resetting VmHWM: %v", err)
	}
	return procStatus(t, "VmRSS")
}

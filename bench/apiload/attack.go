package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The attacks of issue 14, each kind from a loopback address of its own
// (the signed calls come from 127.0.0.1, and the server bounds
// connections per client address):
//   - unsigned (-attack, from 127.0.0.2): connections that are not signed
//     announce a large body (Content-Length), send all of it but the last
//     byte, and stall (or trickle a byte every -trickle). A server that
//     reads bodies before checking signatures holds each one in memory for
//     as long as the connection lasts;
//   - keyed (-keyed, from 127.0.0.3): requests in the name of another
//     tenant's access key (a key ID is no secret), signed with a wrong
//     secret, which the server can tell only once it has the body. Half
//     announce a template of -attack-mib and send all of it but the last
//     byte; half announce 256 KiB, send 1 KiB and stall;
//   - header stalls (-header-stall, from 127.0.0.4): a request line, then
//     a header byte every second (slowloris).
//
// When the server closes a connection, its attacker waits a second and
// opens another, so that that many of them keep trying.

type attackKind int

const (
	unsignedAttack attackKind = iota
	keyedAttack
	headerAttack
)

// attackers runs n attacking connections until stop is closed.
type attackers struct {
	addr    string
	kind    attackKind
	from    *net.TCPAddr
	keyID   string // keyed: the access key ID used
	size    int64
	trickle time.Duration
	stop    chan struct{}
	wg      sync.WaitGroup
	opened  atomic.Int64 // connections opened
	sent    atomic.Int64 // body bytes the server accepted
}

func startAttack(addr string, kind attackKind, keyID string, n int, size int64, trickle time.Duration) *attackers {
	from := fmt.Sprintf("127.0.0.%d", 2+int(kind))
	a := &attackers{addr: addr, kind: kind, from: &net.TCPAddr{IP: net.ParseIP(from)}, keyID: keyID, size: size, trickle: trickle, stop: make(chan struct{})}
	for i := range n {
		a.wg.Add(1)
		go a.run(i)
	}
	return a
}

func (a *attackers) close() {
	close(a.stop)
	a.wg.Wait()
}

func (a *attackers) stopped(d time.Duration) bool {
	select {
	case <-a.stop:
		return true
	case <-time.After(d):
		return false
	}
}

// head is the request line and headers of attacker i, and the length of
// the body it sends (all but one byte of what it announces).
func (a *attackers) head(i int) (string, int64) {
	switch {
	case a.kind == headerAttack:
		return "POST / HTTP/1.1\r\n", 0
	case a.kind == keyedAttack:
		size, prefix := a.size, "Action=CreateCustomVerificationEmailTemplate&Version=2010-12-01&TemplateContent="
		if i%2 == 1 {
			size = 256 << 10
		}
		now := time.Now().UTC()
		h := fmt.Sprintf("POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Amz-Date: %s\r\n"+
			"Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/us-east-1/ses/aws4_request, SignedHeaders=host;x-amz-date, Signature=%s\r\nContent-Length: %d\r\n\r\n%s",
			a.addr, now.Format("20060102T150405Z"), a.keyID, now.Format("20060102"), strings.Repeat("0", 64), size, prefix)
		if i%2 == 1 {
			return h, 1 << 10
		}
		return h, size - 1 - int64(len(prefix))
	}
	return fmt.Sprintf("POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", a.addr, a.size), a.size - 1
}

func (a *attackers) run(i int) {
	defer a.wg.Done()
	chunk := bytes.Repeat([]byte("Action=ListIdentities&"), 256<<10/22)
	d := net.Dialer{LocalAddr: a.from}
	for {
		c, err := d.Dial("tcp", a.addr)
		if err != nil {
			if a.stopped(time.Second) {
				return
			}
			continue
		}
		a.opened.Add(1)
		// A small send buffer, as an attacker who pays for their own
		// machine would use: what the server does not read stays
		// unsent rather than copied into the kernel and thrown away.
		c.(*net.TCPConn).SetWriteBuffer(64 << 10)
		done := make(chan struct{})
		go func() { // the connection ends when the server closes it or stop
			select {
			case <-a.stop:
			case <-done:
			}
			c.Close()
		}()
		head, left := a.head(i)
		_, err = io.WriteString(c, head)
		for err == nil && left > 0 {
			n := min(left, int64(len(chunk)))
			var m int
			m, err = c.Write(chunk[:n])
			a.sent.Add(int64(m))
			left -= n
		}
		// Stall (or trickle) until the server gives up on the connection.
		buf := make([]byte, 4096)
		for err == nil {
			switch {
			case a.kind == headerAttack:
				c.SetReadDeadline(time.Now().Add(time.Second))
			case a.trickle > 0:
				c.SetReadDeadline(time.Now().Add(a.trickle))
			}
			_, err = c.Read(buf)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				err = nil
				if a.kind == headerAttack { // one more byte of a header
					_, err = c.Write([]byte("X"))
				} // a body's would end it
			}
		}
		close(done)
		if a.stopped(time.Second) {
			return
		}
	}
}

// rss is the resident set size of a process, from /proc/PID/status.
func rss(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}

// peakRSS samples the server's RSS every 50 ms until stop, and returns the
// highest value.
func peakRSS(pid int, stop <-chan struct{}) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		var peak int64
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, rss(pid, "VmRSS"))
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

type attackRun struct {
	rate    float64 // signed requests/s
	errors  int64
	p99     string
	peakRSS int64
	cpu     float64 // server CPU per signed request, µs
}

// attackPlan is what -attack, -keyed and -header-stall ask for.
type attackPlan struct {
	unsigned, keyed, headers int
	keyID                    string // of the tenant whose key ID the keyed attackers use
	size                     int64
	trickle                  time.Duration
}

func (p attackPlan) String() string {
	var parts []string
	mode := "stall"
	if p.trickle > 0 {
		mode = "trickle a byte every " + p.trickle.String()
	}
	if p.unsigned > 0 {
		parts = append(parts, fmt.Sprintf("%d unsigned connections that each announce %d MiB, send all but a byte and %s", p.unsigned, p.size>>20, mode))
	}
	if p.keyed > 0 {
		parts = append(parts, fmt.Sprintf("%d requests in another tenant's key ID with a wrong signature (half a %d MiB template sent but for a byte, half 1 KiB of 256 KiB)", p.keyed, p.size>>20))
	}
	if p.headers > 0 {
		parts = append(parts, fmt.Sprintf("%d connections that send their headers a byte a second", p.headers))
	}
	return strings.Join(parts, "; ")
}

func (p attackPlan) start(addr string) []*attackers {
	var at []*attackers
	for _, k := range []struct {
		kind attackKind
		n    int
	}{{unsignedAttack, p.unsigned}, {keyedAttack, p.keyed}, {headerAttack, p.headers}} {
		if k.n > 0 {
			at = append(at, startAttack(addr, k.kind, p.keyID, k.n, p.size, p.trickle))
		}
	}
	return at
}

// attackBench runs alternating pairs of throughput phases, without and with
// the attack, and prints each and the medians.
func attackBench(client *http.Client, reqs []signed, addr string, workers, runs int, plan attackPlan, dur time.Duration) {
	fmt.Printf("sesame attack benchmark: %d workers of signed GetIdentityVerificationAttributes, alone and beside %s\n\n", workers, plan)
	fmt.Printf("| run | phase | signed requests | errors | signed req/s | p99 | server peak RSS | server CPU per signed request | attack connections opened | attack bytes accepted |\n|---|---|---|---|---|---|---|---|---|---|\n")
	var alone, attacked []attackRun
	for i := range runs {
		for _, attack := range []bool{false, true} {
			var at []*attackers
			if attack {
				at = plan.start(addr)
				time.Sleep(2 * time.Second) // let the connections open and send
			}
			stop := make(chan struct{})
			peak := peakRSS(serverPID, stop)
			cpu0 := cpuTime(serverPID)
			s := closedLoop(client, reqs, workers, dur)
			cpu := cpuTime(serverPID) - cpu0
			close(stop)
			r := attackRun{rate: float64(s.n) / dur.Seconds(), errors: s.errors, p99: s.pct(99), peakRSS: <-peak, cpu: cpu.Seconds() / float64(s.n) * 1e6}
			phase, opened, sent := "alone", "-", "-"
			if attack {
				phase = "attacked"
				var o, b int64
				for _, a := range at {
					o, b = o+a.opened.Load(), b+a.sent.Load()
					a.close()
				}
				opened, sent = fmt.Sprint(o), fmt.Sprintf("%d MiB", b>>20)
				attacked = append(attacked, r)
			} else {
				alone = append(alone, r)
			}
			fmt.Printf("| %d | %s | %d | %d | %.0f | %s | %d MiB | %.1f µs | %s | %s |\n", i+1, phase, s.n, s.errors, r.rate, r.p99, r.peakRSS>>20, r.cpu, opened, sent)
			time.Sleep(time.Second)
		}
	}
	med := func(rs []attackRun, f func(attackRun) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	rate := func(r attackRun) float64 { return r.rate }
	mem := func(r attackRun) float64 { return float64(r.peakRSS >> 20) }
	ratios := make([]attackRun, len(alone))
	for i := range alone {
		ratios[i].rate = attacked[i].rate / alone[i].rate
	}
	fmt.Printf("\nmedian of %d: alone %.0f req/s, peak RSS %.0f MiB; attacked %.0f req/s, peak RSS %.0f MiB; attacked/alone %.2f (pairs: ",
		runs, med(alone, rate), med(alone, mem), med(attacked, rate), med(attacked, mem), med(ratios, rate))
	for i, r := range ratios {
		if i > 0 {
			fmt.Print(", ")
		}
		fmt.Printf("%.2f", r.rate)
	}
	fmt.Printf("); server VmHWM %d MiB\n", rss(serverPID, "VmHWM")>>20)
}

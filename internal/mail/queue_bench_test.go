package mail

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/smtptest"
	"github.com/sesame/sesame/internal/store/sqlite"
)

// body10KB is the body of a 10 KB message, in 78-octet lines.
var body10KB = bytes.Repeat([]byte(strings.Repeat("x", 76)+"\r\n"), 128)

// BenchmarkQueue measures the queue alone: b.N queued 10 KB messages in
// the SQLite outbox, relayed to a loopback SMTP server (smtptest over
// STARTTLS or plain SMTP, and Postfix's smtp-sink when installed), with one
// delivery at a time or DefaultConcurrency; relayed/s is b.N over the time
// until the last outcome is written. Run with a fixed count, such as
// -benchtime 2000x: queueing the messages is not timed, but takes a write
// each.
func BenchmarkQueue(b *testing.B) {
	sinks := []struct {
		name  string
		start func(b *testing.B) *Relay
	}{
		{"smtptest-starttls", func(b *testing.B) *Relay { return benchRelay(b, smtptest.New(b, smtptest.Options{CountOnly: true})) }},
		{"smtptest-plain", func(b *testing.B) *Relay {
			return benchRelay(b, smtptest.New(b, smtptest.Options{CountOnly: true, Plain: true}))
		}},
		{"smtp-sink", startSMTPSink},
	}
	for _, sink := range sinks {
		for _, conc := range []int{1, DefaultConcurrency} {
			b.Run(fmt.Sprintf("%s/concurrency=%d", sink.name, conc), func(b *testing.B) {
				relay := sink.start(b)
				relay.MaxIdle = conc
				st, err := sqlite.Open(context.Background(), b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				queueNumbered(b, st, b.N, body10KB)
				q := &Queue{Store: st, Relay: relay, Concurrency: conc, Log: slog.New(slog.DiscardHandler)}
				q.Init()
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				b.SetBytes(int64(len(body10KB)))
				b.ResetTimer()
				go func() { defer close(done); q.Run(ctx) }()
				for {
					next, err := st.NextDue(ctx)
					if err != nil {
						b.Fatal(err)
					}
					if next.IsZero() {
						break
					}
					time.Sleep(2 * time.Millisecond)
				}
				b.StopTimer()
				cancel()
				<-done
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "relayed/s")
			})
		}
	}
}

func benchRelay(b *testing.B, srv *smtptest.Server) *Relay {
	r, err := ParseRelay(srv.URL, srv.CAFile)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// startSMTPSink runs Postfix's smtp-sink on a free loopback port (plain
// SMTP, as it has no TLS), or skips when it is not installed (the postfix
// Debian package; with CI=true, fails).
func startSMTPSink(b *testing.B) *Relay {
	path, err := exec.LookPath("smtp-sink")
	if err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatal("smtp-sink not found: apt-get install postfix")
		}
		b.Skip("smtp-sink not found (Debian package postfix)")
	}
	addr := SMTPSink(b, path)
	r, err := ParseRelay("smtp://"+addr, "")
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// SMTPSink starts smtp-sink at path on a free loopback port and returns
// its address once it accepts connections; it is killed when tb ends.
func SMTPSink(tb testing.TB, path string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// -u nobody: as root it drops to that user (default "postfix").
	cmd := exec.Command(path, "-u", "nobody", addr, "256")
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			tb.Fatalf("smtp-sink on %s not accepting within 10s", addr)
		}
	}
}

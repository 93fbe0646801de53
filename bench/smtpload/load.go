package main

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// target is where a load phase sends: with auth, the client says
// STARTTLS and AUTH PLAIN once a session, as SES's SMTP clients do.
type target struct {
	addr       string
	startTLS   bool
	user, pass string
}

// stats are the per-message latencies of a phase: from MAIL FROM sent to
// the 250 after the message's final dot.
type stats struct {
	lat      []time.Duration
	n        int // messages, when no latencies are known (smtp-source)
	errors   int
	elapsed  time.Duration
	firstErr error
}

func (s *stats) rate() float64 { return float64(s.count()) / s.elapsed.Seconds() }

func (s *stats) pct(p float64) time.Duration {
	if len(s.lat) == 0 {
		return 0
	}
	slices.Sort(s.lat)
	return s.lat[min(len(s.lat)-1, int(float64(len(s.lat))*p/100))]
}

// message is a 10 KB message (size bytes in all, headers included) from
// the verified domain: 76-character body lines, as a mailer wraps them.
func message(size int) []byte {
	var b strings.Builder
	b.WriteString("From: Bench <app@" + benchFrom + ">\r\nTo: to@example.org\r\nSubject: smtpload\r\n" +
		"Date: " + time.Now().UTC().Format(time.RFC1123Z) + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
	line := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz", 3)[:76] + "\r\n"
	for b.Len()+len(line) <= size {
		b.WriteString(line)
	}
	b.WriteString(strings.Repeat("x", max(0, size-b.Len()-2)) + "\r\n")
	return []byte(b.String())
}

// load sends n messages of msg through sessions concurrent SMTP
// sessions, each sending message after message on its connection (MAIL
// right after the last 250, as smtp-source -d does), and a new session
// when one fails.
func load(t target, sessions, n int, msg []byte) *stats {
	var left atomic.Int64
	left.Store(int64(n))
	var mu sync.Mutex
	total := &stats{}
	var wg sync.WaitGroup
	start := time.Now()
	for range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local stats
			for left.Load() > 0 && local.errors < 100 {
				if err := session(t, &left, msg, &local); err != nil {
					local.errors++
					if local.firstErr == nil {
						local.firstErr = err
					}
				}
			}
			mu.Lock()
			total.lat = append(total.lat, local.lat...)
			total.errors += local.errors
			if total.firstErr == nil {
				total.firstErr = local.firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	total.elapsed = time.Since(start)
	return total
}

// session is one connection: greeting, EHLO, STARTTLS and AUTH when t
// asks, then messages while any are left.
func session(t target, left *atomic.Int64, msg []byte, st *stats) error {
	var c *smtp.Client
	var err error
	if t.startTLS {
		// EHLO, STARTTLS, then EHLO again inside TLS.
		c, err = smtp.DialStartTLS(t.addr, &tls.Config{InsecureSkipVerify: true})
	} else if c, err = smtp.Dial(t.addr); err == nil {
		err = c.Hello("smtpload.test")
	}
	if err != nil {
		return err
	}
	defer c.Close()
	if t.user != "" {
		if err := c.Auth(sasl.NewPlainClient("", t.user, t.pass)); err != nil {
			return err
		}
	}
	// The next MAIL follows the 250 of the last message's dot, without
	// RSET, as smtp-source -d does: the transaction ended with it.
	for left.Add(-1) >= 0 {
		t0 := time.Now()
		if err := sendOne(c, msg); err != nil {
			left.Add(1)
			return err
		}
		st.lat = append(st.lat, time.Since(t0))
	}
	return c.Quit()
}

func sendOne(c *smtp.Client, msg []byte) error {
	if err := c.Mail("app@"+benchFrom, nil); err != nil {
		return fmt.Errorf("MAIL: %w", err)
	}
	if err := c.Rcpt("to@example.org", nil); err != nil {
		return fmt.Errorf("RCPT: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of DATA: %w", err)
	}
	return nil
}

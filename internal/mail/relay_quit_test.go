package mail

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// TestRelayQuitWithinASecond: closing the relay ends a kept connection
// within a second even when the server never answers QUIT, not after
// the relay's step timeout (a minute), which go-smtp's QUIT would
// otherwise set.
func TestRelayQuitWithinASecond(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// Plain SMTP as a mail catcher speaks it; silent after QUIT.
		br := bufio.NewReader(c)
		c.Write([]byte("220 stall.example ESMTP\r\n"))
		for data := false; ; {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			cmd := strings.ToUpper(strings.TrimSpace(line))
			switch {
			case data && cmd == ".":
				data = false
				c.Write([]byte("250 queued\r\n"))
			case data:
			case strings.HasPrefix(cmd, "EHLO"):
				c.Write([]byte("250-stall.example\r\n250 8BITMIME\r\n"))
			case cmd == "DATA":
				data = true
				c.Write([]byte("354 go on\r\n"))
			case cmd == "QUIT":
				time.Sleep(time.Minute) // the relay must not wait for this
				return
			default:
				c.Write([]byte("250 ok\r\n"))
			}
		}
	}()
	r, err := ParseRelay("smtp://"+ln.Addr().String(), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Send(context.Background(), "a@example.com", []string{"b@example.org"}, []byte("Subject: hi\r\n\r\nbody\r\n")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r.Close()
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("Close took %v with a server silent after QUIT, want about a second", el)
	}
}

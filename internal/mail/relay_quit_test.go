package mail

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRelayQuitWithinASecond: closing the relay ends its kept connections
// within a second, all at once, even when the server never answers QUIT:
// not after the relay's step timeout (a minute), which go-smtp's QUIT
// would otherwise set, nor a second for each in turn.
func TestRelayQuitWithinASecond(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ended := make(chan struct{})
	t.Cleanup(func() { close(ended) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go stallAtQuit(c, ended)
		}
	}()
	r, err := ParseRelay("smtp://"+ln.Addr().String(), "")
	if err != nil {
		t.Fatal(err)
	}
	// Three messages at once, each answered after 200 ms: three connections.
	const n = 3
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := r.Send(context.Background(), "a@example.com", []string{"b@example.org"}, []byte("Subject: hi\r\n\r\nbody\r\n")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	r.mu.Lock()
	idle := len(r.idle)
	r.mu.Unlock()
	if idle != n {
		t.Fatalf("%d connections kept, want %d", idle, n)
	}
	start := time.Now()
	r.Close()
	if el := time.Since(start); el > 2500*time.Millisecond {
		t.Errorf("Close took %v for %d connections to a server silent after QUIT, want about a second", el, n)
	}
}

// stallAtQuit speaks plain SMTP as a mail catcher does, answers each
// message after 200 ms, and is silent after QUIT until ended is closed.
func stallAtQuit(c net.Conn, ended <-chan struct{}) {
	defer c.Close()
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
			time.Sleep(200 * time.Millisecond)
			c.Write([]byte("250 queued\r\n"))
		case data:
		case strings.HasPrefix(cmd, "EHLO"):
			c.Write([]byte("250-stall.example\r\n250 8BITMIME\r\n"))
		case cmd == "DATA":
			data = true
			c.Write([]byte("354 go on\r\n"))
		case cmd == "QUIT":
			<-ended // the relay must not wait for this
			return
		default:
			c.Write([]byte("250 ok\r\n"))
		}
	}
}

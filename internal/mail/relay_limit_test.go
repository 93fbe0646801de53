package mail

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/smtptest"
)

// TestRelayConnectionLimit: a smarthost that allows fewer connections a
// client than the queue's deliveries at once refuses the others with 421
// at the greeting (Postfix's smtpd_client_connection_count_limit); those
// messages wait for one of the relay's own connections rather than fail,
// and all are delivered.
func TestRelayConnectionLimit(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{Plain: true, MaxConnections: 2})
	r := relayTo(t, srv)
	r.MaxIdle = 8
	ctx := context.Background()
	const senders, each = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, senders*each)
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				msg := fmt.Sprintf("Subject: %d.%d\r\n\r\nbody\r\n", i, j)
				if err := r.Send(ctx, "no-reply@sesame.example.com", []string{"user@example.com"}, []byte(msg)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Send: %v", err)
	}
	if n := srv.Accepted(); n != senders*each {
		t.Errorf("%d messages delivered, want %d", n, senders*each)
	}
	// A refused delivery dials again only when one of ours closes, which
	// none does here: at most one refusal a message (a delivery that finds
	// no idle connection tries for a new one once), not a loop of dials.
	if n := srv.Refused(); n == 0 || n > senders*each {
		t.Errorf("%d connections refused, want 1 to %d: one at most for each message", n, senders*each)
	}
	r.Close()
}

// TestRelayRefusedNoneOfOurs: refused with 421 when the relay holds no
// connection of its own (another client takes the server's only place),
// the message fails at once, to be retried later: there is nothing of
// ours to wait for.
func TestRelayRefusedNoneOfOurs(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{Plain: true, MaxConnections: 1})
	other, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := bufio.NewReader(other).ReadString('\n'); err != nil { // the greeting: its place is taken
		t.Fatal(err)
	}
	r := relayTo(t, srv)
	start := time.Now()
	err = r.Send(context.Background(), "no-reply@sesame.example.com", []string{"user@example.com"}, []byte("Subject: x\r\n\r\nbody\r\n"))
	var de *DeliveryError
	if !errors.As(err, &de) || de.Permanent {
		t.Fatalf("Send = %v, want a temporary DeliveryError", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("Send took %v, want it to fail at once", el)
	}
	if srv.Refused() != 1 {
		t.Errorf("%d connections refused, want 1", srv.Refused())
	}
}

package mail

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sesame/sesame/internal/redact"
	"github.com/sesame/sesame/internal/smtptest"
)

func relayTo(t *testing.T, srv *smtptest.Server) *Relay {
	t.Helper()
	r, err := ParseRelay(srv.URL, srv.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	r.Hello = "sesame.example.com"
	return r
}

func TestRelaySend(t *testing.T) {
	for _, tt := range []struct {
		name  string
		opts  smtptest.Options
		relay func(r *Relay)
	}{
		{name: "STARTTLS", opts: smtptest.Options{}},
		{name: "STARTTLS with AUTH PLAIN", opts: smtptest.Options{Username: "sesame", Password: "s3cret:/@"}},
		{name: "smtps with AUTH PLAIN", opts: smtptest.Options{Implicit: true, Username: "sesame", Password: "pw"}},
		{name: "plain SMTP on loopback", opts: smtptest.Options{Plain: true}},
		{name: "plain SMTP on loopback with AUTH PLAIN", opts: smtptest.Options{Plain: true, Username: "sesame", Password: "pw"}},
		{name: "STARTTLS off loopback", opts: smtptest.Options{}, relay: func(r *Relay) { r.Loopback = false }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.New(t, tt.opts)
			msg := []byte("Subject: hi\r\n\r\nbody\r\n")
			r := relayTo(t, srv)
			if tt.relay != nil {
				tt.relay(r)
			}
			if err := r.Send(context.Background(), "no-reply@sesame.example.com", []string{"user@example.com"}, msg); err != nil {
				t.Fatal(err)
			}
			m := srv.Next(t)
			if m.From != "no-reply@sesame.example.com" || len(m.To) != 1 || m.To[0] != "user@example.com" || string(m.Data) != string(msg) {
				t.Errorf("received %+v", m)
			}
		})
	}
}

func TestRelayErrors(t *testing.T) {
	tests := []struct {
		name      string
		opts      smtptest.Options
		relay     func(r *Relay)
		permanent bool
		want      string
	}{
		{name: "4xx is temporary", opts: smtptest.Options{Reply: func(int, smtptest.Message) error { return smtptest.Temporary }}, want: "451"},
		{name: "5xx is permanent", opts: smtptest.Options{Reply: func(int, smtptest.Message) error { return smtptest.Permanent }}, permanent: true, want: "550"},
		{name: "wrong password is the relay's problem", opts: smtptest.Options{Username: "u", Password: "p"},
			relay: func(r *Relay) { r.Password = "wrong" }, want: "AUTH PLAIN"},
		{name: "untrusted certificate", relay: func(r *Relay) { r.TLS.RootCAs = nil }, want: "certificate"},
		{name: "untrusted certificate off loopback", relay: func(r *Relay) { r.TLS.RootCAs, r.Loopback = nil, false }, want: "certificate"},
		{name: "no STARTTLS off loopback", opts: smtptest.Options{Plain: true}, relay: func(r *Relay) { r.Loopback = false }, want: "STARTTLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.New(t, tt.opts)
			r := relayTo(t, srv)
			if tt.relay != nil {
				tt.relay(r)
			}
			err := r.Send(context.Background(), "a@example.com", []string{"b@example.com"}, []byte("\r\n"))
			var de *DeliveryError
			if !errors.As(err, &de) || de.Permanent != tt.permanent || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Send = %v; want a DeliveryError, permanent %v, naming %q", err, tt.permanent, tt.want)
			}
			if strings.Contains(err.Error(), "wrong") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
	// With credentials in the URL, a failure to deliver names the relay
	// and the user, never the password.
	t.Run("credentials stay out of errors", func(t *testing.T) {
		srv := smtptest.New(t, smtptest.Options{Username: "sesame", Password: "right"})
		for _, raw := range []string{
			strings.Replace(srv.URL, "://", "://sesame:hunter2@", 1), // refused by the relay
			"smtp://sesame:hunter2@127.0.0.1:1",                      // nothing listening
		} {
			r, err := ParseRelay(raw, srv.CAFile)
			if err != nil {
				t.Fatal(err)
			}
			err = r.Send(context.Background(), "a@example.com", []string{"b@example.com"}, []byte("\r\n"))
			if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "sesame@") {
				t.Errorf("Send through %s = %v, want an error naming the relay and user, not the password", redact.String(raw), err)
			}
			if strings.Contains(r.String(), "hunter2") {
				t.Errorf("String() = %s", r)
			}
		}
	})
	t.Run("nothing listening is temporary", func(t *testing.T) {
		r, _ := ParseRelay("smtp://127.0.0.1:1", "")
		var de *DeliveryError
		if err := r.Send(context.Background(), "a@example.com", []string{"b@example.com"}, nil); !errors.As(err, &de) || de.Permanent {
			t.Fatalf("Send = %v, want a temporary DeliveryError", err)
		}
	})
}

func TestParseRelay(t *testing.T) {
	tests := []struct {
		url, addr, user, pass string
		implicit, loopback    bool
		bad                   string
	}{
		{url: "smtp://mail.example.com", addr: "mail.example.com:587"},
		{url: "smtp://u%40x:p%3Aw@mail.example.com:2525", addr: "mail.example.com:2525", user: "u@x", pass: "p:w"},
		{url: "smtps://mail.example.com", addr: "mail.example.com:465", implicit: true},
		{url: "smtps://[::1]:4650", addr: "[::1]:4650", implicit: true, loopback: true},
		{url: "smtp://localhost:1025", addr: "localhost:1025", loopback: true},
		{url: "smtp://127.0.0.2:25", addr: "127.0.0.2:25", loopback: true},
		{url: "http://mail.example.com", bad: "use smtp://"},
		{url: "smtp://user:secret@mail.example.com/path", bad: "REDACTED"},
		{url: "smtp://:25", bad: "host"},
		{url: "smtp://mail.example.com:0587", addr: "mail.example.com:587"},
		{url: "smtp://user:secret@mail.example.com:0", bad: `port "0"`},
		{url: "smtp://user:secret@mail.example.com:65536", bad: `port "65536"`},
		{url: "smtp://user:secret@mail.example.com:99999999999999999999", bad: "from 1 to 65535"},
		{url: "smtp://user:secret@mail.example.com:", bad: `port ""`},
		{url: "smtps://user:secret@[::1]:70000", bad: "REDACTED"},
		{url: "smtp://user:secret@mail.example.com:bad", bad: "invalid port"},
		{url: "smtp://user:secret%zz@mail.example.com", bad: "invalid URL escape"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			r, err := ParseRelay(tt.url, "")
			if tt.bad != "" {
				if err == nil || !strings.Contains(err.Error(), tt.bad) || strings.Contains(err.Error(), "secret") {
					t.Fatalf("ParseRelay = %v, want an error naming %q without the password", err, tt.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Addr != tt.addr || r.Username != tt.user || string(r.Password) != tt.pass || r.Implicit != tt.implicit || r.Loopback != tt.loopback {
				t.Errorf("got %+v", r)
			}
			if strings.Contains(r.String(), "p:w") {
				t.Errorf("String() shows the password: %s", r)
			}
		})
	}
	if _, err := ParseRelay("smtp://x.example", "/nonexistent/ca.pem"); err == nil {
		t.Error("a missing CA file was accepted")
	}
}

// TestRelayReusesConnections: messages one after another go over one
// connection (RSET between them), and a connection that broke while idle
// is replaced without failing the message.
func TestRelayReusesConnections(t *testing.T) {
	srv := smtptest.New(t)
	r := relayTo(t, srv)
	ctx := context.Background()
	send := func(i int) {
		t.Helper()
		if err := r.Send(ctx, "no-reply@sesame.example.com", []string{"user@example.com"}, []byte(fmt.Sprintf("Subject: %d\r\n\r\nbody\r\n", i))); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	for i := range 3 {
		send(i)
	}
	// Two: a loopback relay is tried without TLS first, then again
	// with STARTTLS since it offers it.
	if n := srv.Connections(); n != 2 {
		t.Errorf("3 messages in a row took %d connections, want 2", n)
	}
	// The server drops the idle connection (here, the network does).
	r.mu.Lock()
	for _, pc := range r.idle {
		pc.conn.Close()
	}
	r.mu.Unlock()
	send(3)
	if n := srv.Connections(); n != 3 {
		t.Errorf("after the idle connection broke: %d connections, want 3 (straight to STARTTLS)", n)
	}
	if got := srv.Messages(); len(got) != 4 || string(got[3].Data) != "Subject: 3\r\n\r\nbody\r\n" {
		t.Errorf("received %d messages: %+v", len(got), got)
	}
	// Close closes the idle connection: the next message opens another.
	r.Close()
	send(4)
	if n := srv.Connections(); n != 4 {
		t.Errorf("after Close: %d connections, want 4", n)
	}
}

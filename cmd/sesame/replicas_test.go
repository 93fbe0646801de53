package main

import (
	"context"
	"fmt"
	"os"
	osexec "os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/sesame/sesame/internal/pgtest"
)

// TestReplicasKillNine: three `sesame serve` processes on one PostgreSQL
// database, sharing their key files, serve one client spread over them;
// one is killed with SIGKILL during the load. Every write any of them
// acknowledged is read back from each survivor and from a replica started
// afterwards.
func TestReplicasKillNine(t *testing.T) {
	bin, err := buildSesame()
	if err != nil {
		t.Fatal(err)
	}
	url := pgtest.Start(t).NewDatabase(t)
	flags := []string{"--database-url", url}
	data := t.TempDir()
	os.Chmod(data, 0o700)
	t.Setenv("SESAME_DATABASE_URL", url) // for accounts create
	creds := accountsCreate(t, bin, data, "replicas")
	var cmds []*osexec.Cmd
	var clients []*ses.Client
	var urls []string
	for range 3 {
		cmd, u := startServe(t, bin, data, flags...)
		cmds = append(cmds, cmd)
		urls = append(urls, u)
		clients = append(clients, sesClient(u, creds))
	}
	defer func() {
		for _, c := range cmds[1:] {
			c.Process.Signal(os.Interrupt)
			c.Wait()
		}
	}()

	var mu sync.Mutex
	acked := map[string]string{} // domain -> token
	var killed atomic.Bool
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for w := range 6 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				d := fmt.Sprintf("w%d-%d.example.com", w, i)
				out, err := clients[(w+i)%3].VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String(d)})
				if err != nil {
					continue // the killed replica, or its connection cut
				}
				mu.Lock()
				acked[d] = aws.ToString(out.VerificationToken)
				n := len(acked)
				mu.Unlock()
				switch {
				case n == 90 && killed.CompareAndSwap(false, true):
					cmds[0].Process.Signal(syscall.SIGKILL)
				case n >= 240:
					cancel()
				}
			}
		})
	}
	wg.Wait()
	cmds[0].Wait()
	if !killed.Load() {
		t.Fatal("no replica was killed")
	}
	if len(acked) < 240 {
		t.Fatalf("only %d writes acknowledged in a minute", len(acked))
	}

	late, u := startServe(t, bin, data, flags...)
	defer func() { late.Process.Signal(os.Interrupt); late.Wait() }()
	// New clients: the writers' connections may have been cut by the
	// cancel that ended the load, in the middle of a call.
	readers := map[string]*ses.Client{"replica 2": sesClient(urls[1], creds), "replica 3": sesClient(urls[2], creds), "a replica started later": sesClient(u, creds)}
	var names []string
	for d := range acked {
		names = append(names, d)
	}
	for who, c := range readers {
		for rest := names; len(rest) > 0; {
			batch := rest[:min(100, len(rest))]
			rest = rest[len(batch):]
			out, err := c.GetIdentityVerificationAttributes(context.Background(), &ses.GetIdentityVerificationAttributesInput{Identities: batch})
			if err != nil {
				t.Fatalf("%s: %v", who, err)
			}
			for _, d := range batch {
				if a, ok := out.VerificationAttributes[d]; !ok || aws.ToString(a.VerificationToken) != acked[d] {
					t.Errorf("%s: acknowledged write of %s lost (got %+v)", who, d, a)
				}
			}
		}
	}
}

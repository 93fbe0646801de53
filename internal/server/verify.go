package server

import (
	"context"
	"sync"
	"time"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/verify"
)

// VerifyOptions configure the DNS verifier.
type VerifyOptions struct {
	// Run starts the background verifier; without it identities are
	// checked only on demand (the API's check-now extension).
	Run bool
	// Resolver is the recursive resolver (host:port) used to find each
	// domain's authoritative servers; empty reads /etc/resolv.conf.
	Resolver string
	// AuthPort is the port of authoritative servers; empty is 53. Tests
	// serve zones on other ports.
	AuthPort string
	// RateLimit is the most queries per second to any one name server.
	RateLimit float64
	// Concurrency is how many identities are checked at once.
	Concurrency int
	// Recheck is how often a verified identity is checked again.
	Recheck time.Duration
	// Timeout is the limit of one DNS query; Budget of one lookup.
	Timeout, Budget time.Duration
}

// openVerifier builds the verifier on the identity cache the registry
// writes through, and starts it when asked.
func (s *Server) openVerifier(opts Options) {
	vo := opts.Verify
	dns := &dnsclient.Client{Resolver: vo.Resolver, AuthPort: vo.AuthPort, RateLimit: vo.RateLimit,
		Timeout: vo.Timeout, Budget: vo.Budget}
	if w, ok := s.Store.(store.Watcher); ok && s.stopWatch != nil {
		// Replicas keep to --dns-rate-limit together: each to its share.
		dns.Sharers = w.Replicas
	}
	s.Verifier = &verify.Verifier{
		Store:   s.Identities,
		DNS:     dns,
		Records: opts.DNS, Policies: opts.Policies, Now: opts.Now,
		Log: opts.Log.With("component", "verify"), Concurrency: vo.Concurrency, Recheck: vo.Recheck,
	}
	if !vo.Run {
		return
	}
	s.Registry.Changed = s.Verifier.Wake
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.Verifier.Run(ctx); err != nil {
			s.Log.Error("verifier stopped", "err", err)
		}
	}()
	s.stopVerify = func() { cancel(); wg.Wait() }
}

func (s *Server) closeVerifier() {
	if s.stopVerify != nil {
		s.stopVerify()
	}
}

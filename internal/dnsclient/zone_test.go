package dnsclient

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/sesame/sesame/internal/dnstest"
)

func TestFindZone(t *testing.T) {
	w := newWorld(t)
	example := &Zone{
		Apex:    "example.test.",
		NS:      []string{"ns1.example.test.", "ns2.example.test."},
		Servers: []Server{ns1, ns2},
	}
	subZone := &Zone{Apex: "sub.example.test.", NS: []string{"ns.sub.example.test."}, Servers: []Server{sub}}

	tests := []struct {
		name string
		want *Zone
	}{
		{name: "example.test", want: example},
		{name: "_amazonses.example.test", want: example},
		{name: "A.B.Example.Test.", want: example}, // a.b: NXDOMAIN, b: no NS
		{name: "abc._domainkey.example.test", want: example},
		{name: "sub.example.test", want: subZone},
		{name: "x.sub.example.test", want: subZone},
		{name: "x.other.test", want: &Zone{Apex: "other.test.", NS: []string{"ns1.example.test."}, Servers: []Server{ns1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := w.c.FindZone(context.Background(), tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(Zone{}, "Evidence"), cmpopts.EquateComparable(netip.Addr{})); diff != "" {
				t.Errorf("zone (-want +got):\n%s", diff)
			}
			if len(got.Evidence) == 0 {
				t.Error("FindZone kept no evidence")
			}
			// The same zone without the evidence.
			bare, err := w.c.FindZoneNoEvidence(context.Background(), tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, bare, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
				t.Errorf("FindZoneNoEvidence (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("evidence", func(t *testing.T) {
		w.resolver.ResetQueries()
		z, err := w.c.FindZone(context.Background(), "a.b.example.test")
		if err != nil {
			t.Fatal(err)
		}
		want := "dig @127.0.0.53 -p " + w.ns1.Port + " a.b.example.test. NS"
		if z.Evidence[0] != want || z.Evidence[1] != ";; status: NXDOMAIN, flags: qr aa rd" {
			t.Errorf("evidence starts %q, want %q and the NXDOMAIN status", z.Evidence[:2], want)
		}
		for _, q := range w.resolver.Queries() {
			if !q.RD {
				t.Errorf("resolver query %s %d without RD", q.Name, q.Type)
			}
		}
	})
}

func TestFindZoneErrors(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name   string
		fault  dnstest.Fault
		want   error
		dnssec bool // want ErrDNSSEC too
	}{
		{name: "nosuch.invalid", want: ErrNoZone},
		{name: ".", want: ErrNoZone},
		{name: "lame.test", want: ErrNoServers},
		{name: "example.test", fault: dnstest.ServFail, want: ErrTemporary},
		{name: "example.test", fault: dnstest.Refused, want: ErrTemporary},
		{name: "example.test", fault: dnstest.Bogus, want: ErrTemporary, dnssec: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w.resolver.SetFault(tc.fault)
			defer w.resolver.SetFault(dnstest.NoFault)
			z, err := w.c.FindZone(context.Background(), tc.name)
			if !errors.Is(err, tc.want) {
				t.Errorf("FindZone(%q) = %v, %v; want %v", tc.name, z, err, tc.want)
			}
			if errors.Is(err, ErrDNSSEC) != tc.dnssec {
				t.Errorf("FindZone(%q) = %v; DNSSEC failure: %v, want %v", tc.name, err, !tc.dnssec, tc.dnssec)
			}
			if _, bareErr := w.c.FindZoneNoEvidence(context.Background(), tc.name); bareErr == nil || bareErr.Error() != err.Error() {
				t.Errorf("FindZoneNoEvidence(%q) = %v, FindZone's error %v", tc.name, bareErr, err)
			}
		})
	}
}

func TestResolverFromResolvConf(t *testing.T) {
	dir := t.TempDir()
	old := resolvConf
	t.Cleanup(func() { resolvConf = old })

	tests := []struct {
		name     string
		resolver string // Client.Resolver
		conf     string // resolv.conf contents
		want     string
	}{
		{name: "v4", conf: "nameserver 192.0.2.53\nnameserver 192.0.2.54\n", want: "192.0.2.53:53"},
		{name: "v6", conf: "nameserver 2001:db8::53\n", want: "[2001:db8::53]:53"},
		{name: "set", resolver: "127.0.0.53:5353", want: "127.0.0.53:5353"},
		{name: "set without port", resolver: "127.0.0.53", want: "127.0.0.53:53"},
		{name: "no nameserver", conf: "search example.test\n"},
		{name: "host name", resolver: "dns.example.test:53"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resolvConf = filepath.Join(dir, tc.name)
			if err := os.WriteFile(resolvConf, []byte(tc.conf), 0o600); err != nil {
				t.Fatal(err)
			}
			c := &Client{Resolver: tc.resolver}
			got, err := c.resolver()
			if tc.want == "" {
				if err == nil {
					t.Errorf("resolver() = %v, want an error", got)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Errorf("resolver() = %v, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestParent(t *testing.T) {
	var got []string
	for n := "a.b.example.test."; n != "."; n = parent(n) {
		got = append(got, n)
	}
	want := []string{"a.b.example.test.", "b.example.test.", "example.test.", "test."}
	if !slices.Equal(got, want) {
		t.Errorf("walk = %q, want %q", got, want)
	}
}

package smtpserver

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSelfSigned: without files, a certificate for localhost and the
// loopback addresses is made in the directory, 0600 whatever the umask,
// kept across starts, and made anew a month before its end.
func TestSelfSigned(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c, fp, err := LoadCertificate("", "", dir, now)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
		if err := leaf.VerifyHostname(h); err != nil {
			t.Errorf("certificate not for %s: %v", h, err)
		}
	}
	if fp != Fingerprint(leaf.Raw) || len(fp) != 95 || strings.ToUpper(fp) != fp {
		t.Errorf("fingerprint %q", fp)
	}
	for _, f := range []string{CertFile, KeyFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want 0600", f, fi.Mode(), err)
		}
	}
	if _, again, err := LoadCertificate("", "", dir, now.Add(24*time.Hour)); err != nil || again != fp {
		t.Errorf("second start: fingerprint %s, %v; want the same certificate", again, err)
	}
	late := leaf.NotAfter.Add(-7 * 24 * time.Hour)
	_, renewed, err := LoadCertificate("", "", dir, late)
	if err != nil || renewed == fp {
		t.Errorf("a week before its end: fingerprint %s, %v; want a new certificate", renewed, err)
	}
	// Files given are used as they are.
	c2, fp2, err := LoadCertificate(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile), t.TempDir(), now)
	if err != nil || len(c2.Certificate) == 0 || fp2 != renewed {
		t.Errorf("given files: %s, %v", fp2, err)
	}
	if _, _, err := LoadCertificate(filepath.Join(dir, CertFile), "", dir, now); err == nil {
		t.Error("a certificate without its key accepted")
	}
	os.WriteFile(filepath.Join(dir, CertFile), []byte("not PEM"), 0o600)
	if _, _, err := LoadCertificate("", "", dir, now); err == nil || !strings.Contains(err.Error(), "remove both files") {
		t.Errorf("a damaged certificate: %v, want an error saying what to do", err)
	}
}

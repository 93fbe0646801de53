package smtpserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sesame/sesame/internal/fileperm"
)

// The self-signed certificate's files in the data directory, made when no
// certificate is given: for loopback use, where a client is told to trust
// it (or its fingerprint, printed at start).
const (
	CertFile = "smtp-tls.crt"
	KeyFile  = "smtp-tls.key"
)

// selfSignedFor is how long a made certificate lasts; a month before its
// end a new one is made at start.
const selfSignedFor = 2 * 365 * 24 * time.Hour

// LoadCertificate reads a PEM certificate and key, or with both empty the
// self-signed pair of dir, made if missing or near its end. It returns the
// certificate and the SHA-256 fingerprint of its leaf.
func LoadCertificate(certFile, keyFile, dir string, now time.Time) (tls.Certificate, string, error) {
	switch {
	case (certFile == "") != (keyFile == ""):
		return tls.Certificate{}, "", errors.New("give both a certificate and its key, or neither (a self-signed one is then made in the data directory)")
	case certFile == "":
		certFile, keyFile = filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
		if err := ensureSelfSigned(certFile, keyFile, now); err != nil {
			return tls.Certificate{}, "", err
		}
	}
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("SMTP TLS certificate: %w", err)
	}
	return c, Fingerprint(c.Certificate[0]), nil
}

// Fingerprint is the SHA-256 of a DER certificate as openssl x509
// -fingerprint -sha256 writes it: AB:CD:...
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	hex := make([]string, len(sum))
	for i, b := range sum {
		hex[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(hex, ":")
}

func ensureSelfSigned(certFile, keyFile string, now time.Time) error {
	if c, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil {
		if leaf, err := x509.ParseCertificate(c.Certificate[0]); err == nil && now.Before(leaf.NotAfter.Add(-30*24*time.Hour)) {
			return fileperm.Tighten(keyFile)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("SMTP TLS certificate %s: %w (remove both files to make a new one)", certFile, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "localhost", Organization: []string{"Sesame SMTP (self-signed)"}},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(selfSignedFor),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := writePrivate(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})); err != nil {
		return err
	}
	return writePrivate(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// writePrivate writes a file of the data directory: 0600 whatever the
// umask, replaced whole.
func writePrivate(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fileperm.Private)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, fileperm.Private); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Package pgtest runs a real PostgreSQL server (Debian package postgresql)
// for tests: a cluster of its own in a temporary directory, listening on a
// loopback port and a socket in that directory, owned by the postgres
// system user when the tests run as root (PostgreSQL refuses to run as
// root), stopped when the test ends.
//
// Without PostgreSQL the tests skip, except in CI (CI=true), where they
// fail: the test set-up installs it, so its absence is a broken set-up.
package pgtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a running cluster.
type Server struct {
	// URL connects as the cluster's superuser to its postgres database:
	// postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable.
	URL  string
	Port int
	Dir  string // the data directory

	bin  string
	cred *syscall.Credential // the owner's, when running as root
	t    TB
	dbs  atomic.Int64 // databases made by NewDatabase
}

// TB is the part of testing.TB the cluster needs: a *testing.T, or
// Program's stand-in for a main program (a benchmark).
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skip(args ...any)
	Cleanup(func())
}

var _ TB = testing.TB(nil)

// Bin returns the directory of PostgreSQL's server programs, or stops the
// test: a failure in CI, a skip elsewhere.
func Bin(t TB) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Strings(dirs)
	for i := len(dirs) - 1; i >= 0; i-- { // the newest version
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_ctl")); err == nil {
			return dirs[i]
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("PostgreSQL is not installed: the test set-up (scripts/install-test-deps.sh) must install postgresql")
	}
	t.Skip("PostgreSQL is not installed (apt-get install postgresql); CI fails here instead")
	return ""
}

// Start makes a new cluster and starts it.
func Start(t TB) *Server {
	t.Helper()
	s := &Server{bin: Bin(t), t: t}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s.Dir = filepath.Join(dir, "data")
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, PostgreSQL needs a non-root owner: the postgres user (package postgresql) is missing: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	s.run("initdb", "-D", s.Dir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync", "--no-instructions")
	s.Port = freePort(t)
	s.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.Port)
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", s.Port, dir)
	s.run("pg_ctl", "-D", s.Dir, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start")
	t.Cleanup(s.Stop)
	return s
}

// Stop stops the cluster at once; Start's cleanup calls it.
func (s *Server) Stop() {
	cmd := s.command("pg_ctl", "-D", s.Dir, "-m", "immediate", "-w", "stop")
	cmd.Run() // already stopped is fine
}

// Kill stops the server as kill -9 would, for crash tests.
func (s *Server) Kill() {
	b, err := os.ReadFile(filepath.Join(s.Dir, "postmaster.pid"))
	if err != nil {
		s.t.Fatal(err)
	}
	pid, _ := strconv.Atoi(string(bytes.SplitN(b, []byte("\n"), 2)[0]))
	syscall.Kill(pid, syscall.SIGKILL)
}

func (s *Server) command(tool string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, tool), args...)
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	cmd.Dir = os.TempDir()
	return cmd
}

func (s *Server) run(tool string, args ...string) {
	s.t.Helper()
	out, err := s.command(tool, args...).CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(filepath.Dir(s.Dir), "log"))
		s.t.Fatalf("%s: %v\n%s\n%s", tool, err, out, log)
	}
}

// freePort finds a free loopback TCP port. It may be taken before the
// server binds it; pg_ctl then fails and says so.
func freePort(t TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitReady waits until the server accepts connections on its port.
func (s *Server) WaitReady(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// NewDatabase creates an empty database on the server and returns the URL
// that connects to it, so that one cluster serves many tests.
func (s *Server) NewDatabase(t TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("db%d", s.dbs.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	return strings.Replace(s.URL, "/postgres?", "/"+name+"?", 1)
}

package pgtest

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of /proc's CPU times: USER_HZ, 100 on every Linux
// platform Go runs on.
const clockTick = 10 * time.Millisecond

// CPU returns the CPU time the server has used so far: its postmaster and
// every process it started (backends, the checkpointer, the WAL writer...),
// those that ended included, as /proc counts them. Benchmarks take the
// difference across a run, so that a figure per request includes the
// database's share.
func (s *Server) CPU() time.Duration {
	if s == nil { // no database: a benchmark on another store
		return 0
	}
	b, err := os.ReadFile(filepath.Join(s.Dir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	pm := string(bytes.SplitN(b, []byte("\n"), 2)[0])
	var total time.Duration
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		st, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15) cutime(16) cstime(17)
		i := bytes.LastIndexByte(st, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(st[i+1:]))
		if len(f) < 15 {
			continue
		}
		pid := filepath.Base(filepath.Dir(p))
		if pid != pm && f[1] != pm {
			continue
		}
		n := 2 // utime and stime of the process itself
		if pid == pm {
			n = 4 // and cutime and cstime: its children that ended
		}
		for _, v := range f[11 : 11+n] {
			t, _ := strconv.ParseInt(v, 10, 64)
			total += time.Duration(t) * clockTick
		}
	}
	return total
}

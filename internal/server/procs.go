package server

import (
	"os"
	"runtime"
)

// MinProcs is the least GOMAXPROCS that TuneProcs sets.
const MinProcs = 2

// TuneProcs runs Go code on at least MinProcs threads at once on a machine,
// or in a CPU set, of one CPU, unless the GOMAXPROCS environment variable
// sets it. The SQLite store is Go code that makes blocking system calls
// (fsync, pwrite): with one P, the verifier and the API wait during each
// until the runtime hands the P to another thread. With two, one runs
// while the other waits; on one CPU the verifier checked 15% more
// identities per second, for no more CPU per identity (bench/verifyload
// -pin, docs/benchmarks.md). A CPU quota of one CPU on a larger machine
// (a container's cgroup limit) is left alone: there, two threads would
// spend the quota in half the time and wait out the rest, throttled.
func TuneProcs() {
	if n := procsFor(os.Getenv("GOMAXPROCS"), runtime.NumCPU(), runtime.GOMAXPROCS(0)); n != 0 {
		runtime.GOMAXPROCS(n)
	}
}

// procsFor is the GOMAXPROCS to set, 0 to keep the current one.
func procsFor(env string, cpus, current int) int {
	if env != "" || cpus != 1 || current >= MinProcs {
		return 0
	}
	return MinProcs
}

package server

import (
	"os"
	"runtime/debug"
)

// GCPercent is the garbage collector's target that TuneGC sets.
const GCPercent = 400

// TuneGC sets the garbage collector's target to GCPercent, unless the
// GOGC environment variable sets it. Sesame's live heap is small (about
// 10 MiB while the verifier checks 100,000 identities) and its allocation
// rate high (some 44 KiB per check, 11 KiB per API request), so at Go's
// default of 100 a cycle runs every few megabytes: 14-23% of the
// verifier's CPU in bench/verifyload, against 5% at 400, for some 30 MiB
// more memory. See docs/benchmarks.md.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
}

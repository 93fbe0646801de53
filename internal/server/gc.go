package server

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"

	"github.com/sesame/sesame/internal/api"
)

// GCPercent is the garbage collector's least target that TuneGC sets,
// GCHeadroom the growth of the heap between collections it allows at
// least, and GCMaxPercent the target it sets at most. The cap bounds the
// heap when the live heap grows fast: the target set after one collection
// applies to the heap the next one finds live, until it is set again.
const (
	GCPercent    = 400
	GCHeadroom   = 64 << 20
	GCMaxPercent = 1000
)

// TuneGC sets the garbage collector's target, unless the GOGC environment
// variable sets it. Sesame's live heap is small (about 10 MiB while the
// verifier checks 100,000 identities) and its allocation rate high (some
// 42 KiB per check, 11 KiB per API request), so at Go's default of 100 a
// cycle runs every few megabytes: 14-23% of the verifier's CPU in
// bench/verifyload. The target is 400, and after each collection it is
// raised, if need be, so that the heap may grow by GCHeadroom before the
// next, up to 1,000%: at 10 MiB live that is 640%. A large live heap (the
// API's cache of hundreds of thousands of identities) keeps 400%, so the
// heap stays under the larger of 5 times the live heap and the live heap
// plus GCHeadroom. Request bodies being read (api.BodyBytes, up to
// --body-memory-mib) are left out of the live heap the growth is
// proportional to: they live only as long as their requests, and a client
// that knows an access key ID can make the server hold a 32 MiB template
// body, which at 400% would let the heap grow by 128 MiB more (peak RSS
// 321 MiB under bench/apiload's keyed attack). GOMEMLIMIT, if set, still
// bounds it. See docs/benchmarks.md.
func TuneGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(GCPercent)
	if gcTuning.CompareAndSwap(false, true) {
		watchGC()
	}
}

// gcTuning is set while TuneGC adjusts the target after each collection.
var gcTuning atomic.Bool

// gcSentinel is allocated unreachable, so each collection finds it and
// runs its cleanup. It holds a pointer, so it is never a tiny allocation,
// whose cleanup would wait for the objects sharing its block.
type gcSentinel struct{ _ *byte }

// watchGC adjusts the target after the next collection, then watches for
// the one after.
func watchGC() {
	runtime.AddCleanup(&gcSentinel{}, func(struct{}) {
		if !gcTuning.Load() {
			return
		}
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			p := gcPercentFor(sample[0].Value.Uint64(), uint64(max(0, api.BodyBytes())))
			if p != currentGCPercent() {
				debug.SetGCPercent(p)
			}
		}
		watchGC()
	}, struct{}{})
}

// gcPercentFor is the target for a live heap of live bytes, bodies of
// them request bodies: it lets the heap grow by GCPercent of the rest, or
// by GCHeadroom if that is more, as a percentage of all of it, between
// Go's default of 100 and GCMaxPercent.
func gcPercentFor(live, bodies uint64) int {
	rest := live - min(bodies, live)
	growth := max(GCHeadroom, rest*GCPercent/100)
	p := growth * 100 / max(live, 1)
	return int(min(max(p, 100), GCMaxPercent))
}

func currentGCPercent() int {
	sample := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return -1
	}
	return int(sample[0].Value.Uint64())
}

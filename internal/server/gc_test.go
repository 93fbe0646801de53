package server

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestGCPercentFor(t *testing.T) {
	for _, c := range []struct {
		live, bodies uint64
		want         int
	}{
		{0, 0, GCMaxPercent},
		{1 << 20, 0, GCMaxPercent}, // 1 MiB live: 10 MiB of growth, not 64
		{GCHeadroom * 100 / GCMaxPercent, 0, GCMaxPercent},
		{8 << 20, 0, 800},                      // 64 MiB of growth
		{10 << 20, 0, 640},                     // as while the verifier runs
		{16 << 20, 0, GCPercent},               // 400% is 64 MiB
		{GCHeadroom*100/GCPercent - 1, 0, 400}, // rounds down to 400
		{1 << 30, 0, GCPercent},                // a large cache: 400%, not more
		// A 32 MiB body held (and 4 MiB of others) beside 14 MiB of the
		// rest: 64 MiB of growth, not 200.
		{50 << 20, 36 << 20, 128},
		{100 << 20, 64 << 20, 144}, // 400% of the 36 MiB of the rest
		{64 << 20, 64 << 20, 100},  // all bodies: Go's default
		{10 << 20, 20 << 20, 640},  // a count that raced ahead of the heap's
	} {
		if got := gcPercentFor(c.live, c.bodies); got != c.want {
			t.Errorf("gcPercentFor(%d, %d) = %d, want %d", c.live, c.bodies, got, c.want)
		}
	}
}

// TestTuneGC runs the tuner in this test's process, whose live heap is a
// few MiB: after a collection the target must be above 400, as the
// headroom requires.
func TestTuneGC(t *testing.T) {
	t.Setenv("GOGC", "")
	old := debug.SetGCPercent(100)
	t.Cleanup(func() {
		gcTuning.Store(false)
		debug.SetGCPercent(old)
	})
	TuneGC()
	if p := currentGCPercent(); p != GCPercent {
		t.Fatalf("target right after TuneGC = %d, want %d", p, GCPercent)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		if p := currentGCPercent(); p > GCPercent {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("target still %d after collections with a live heap of a few MiB, want more than %d", p, GCPercent)
		}
		time.Sleep(10 * time.Millisecond) // the cleanup runs on a goroutine of its own
	}

	// GOGC set by the operator wins.
	gcTuning.Store(false)
	debug.SetGCPercent(100)
	t.Setenv("GOGC", "150")
	TuneGC()
	if p := currentGCPercent(); p != 100 {
		t.Errorf("with GOGC set, TuneGC changed the target to %d", p)
	}
}

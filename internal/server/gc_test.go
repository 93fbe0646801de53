package server

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestGCPercentFor(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, GCMaxPercent},
		{1 << 20, GCMaxPercent}, // 1 MiB live: 10 MiB of growth, not 64
		{GCHeadroom * 100 / GCMaxPercent, GCMaxPercent},
		{8 << 20, 800},                      // 64 MiB of growth
		{10 << 20, 640},                     // as while the verifier runs
		{16 << 20, GCPercent},               // 400% is 64 MiB
		{GCHeadroom*100/GCPercent - 1, 400}, // rounds down to 400
		{1 << 30, GCPercent},                // a large cache: 400%, not more
	} {
		if got := gcPercentFor(c.live); got != c.want {
			t.Errorf("gcPercentFor(%d) = %d, want %d", c.live, got, c.want)
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

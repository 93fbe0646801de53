package server

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

func TestProcsFor(t *testing.T) {
	for _, c := range []struct {
		env           string
		cpus, current int
		want          int
	}{
		{"", 1, 1, MinProcs}, // one CPU: two Ps
		{"1", 1, 1, 0},       // GOMAXPROCS set: as set
		{"", 2, 2, 0},        // two CPUs: Go's default
		{"", 8, 1, 0},        // a quota of one CPU on eight: as Go sets it
		{"", 1, MinProcs, 0}, // already two
		{"", 16, 16, 0},
	} {
		if got := procsFor(c.env, c.cpus, c.current); got != c.want {
			t.Errorf("procsFor(%q, %d, %d) = %d, want %d", c.env, c.cpus, c.current, got, c.want)
		}
	}
}

// TestTuneProcs runs this test binary again on one CPU (taskset), where
// Go starts with GOMAXPROCS 1 and TuneProcs must raise it, and with
// GOMAXPROCS=1 set, which it must keep.
func TestTuneProcs(t *testing.T) {
	if os.Getenv("SESAME_TUNEPROCS_CHILD") != "" {
		TuneProcs()
		fmt.Printf("GOMAXPROCS=%d\n", runtime.GOMAXPROCS(0))
		return
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		t.Fatalf("taskset (util-linux): %v", err)
	}
	for _, c := range []struct {
		env  string
		want int
	}{{"", MinProcs}, {"1", 1}} {
		cmd := exec.Command(taskset, "-c", "0", os.Args[0], "-test.run", "^TestTuneProcs$")
		cmd.Env = append(os.Environ(), "SESAME_TUNEPROCS_CHILD=1", "GOMAXPROCS="+c.env)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", cmd, err, out)
		}
		if want := fmt.Sprintf("GOMAXPROCS=%d\n", c.want); !strings.Contains(string(out), want) {
			t.Errorf("on one CPU with GOMAXPROCS=%q: %s, want %s", c.env, out, want)
		}
	}
}

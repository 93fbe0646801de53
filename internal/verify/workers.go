package verify

import (
	"sync"
	"time"
)

// workers runs functions on goroutines kept for reuse. A check runs half a
// dozen lookups at once, each on a goroutine of its own; a new goroutine
// starts with a small stack that the DNS code grows several times, which
// cost more than the lookup's own work. Kept goroutines have grown theirs.
// One idle for workerIdle ends.
type workers struct {
	work chan task
}

// task is a function and the WaitGroup that waits for it.
type task struct {
	wg *sync.WaitGroup
	f  func()
}

func (t task) run() {
	defer t.wg.Done()
	t.f()
}

const workerIdle = 10 * time.Second

// Go runs f on an idle worker, or on a new one if none is idle, as
// wg.Go(f) would.
func (p *workers) Go(wg *sync.WaitGroup, f func()) {
	wg.Add(1)
	t := task{wg, f}
	select {
	case p.work <- t:
	default:
		go p.run(t)
	}
}

func (p *workers) run(t task) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		t.run()
		idle.Reset(workerIdle)
		select {
		case t = <-p.work:
		case <-idle.C:
			return
		}
	}
}

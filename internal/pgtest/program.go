package pgtest

import (
	"fmt"
	"log"
	"os"
	"sync"
)

// Program is a TB for a main program such as a benchmark (bench/apiload):
// Start and NewDatabase work as in a test, a failure (or PostgreSQL
// missing) ends the program after stopping what was started, and Close
// runs the cleanups (stops the cluster, removes its directory).
//
//	p := &pgtest.Program{}
//	defer p.Close()
//	url := pgtest.Start(p).NewDatabase(p)
type Program struct {
	mu       sync.Mutex
	cleanups []func()
}

func (p *Program) Helper() {}

func (p *Program) Cleanup(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cleanups = append(p.cleanups, f)
}

// Close runs the cleanups, the last registered first, as testing does.
func (p *Program) Close() {
	p.mu.Lock()
	fs := p.cleanups
	p.cleanups = nil
	p.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

func (p *Program) Fatal(args ...any) { p.exit(fmt.Sprint(args...)) }

func (p *Program) Fatalf(format string, args ...any) { p.exit(fmt.Sprintf(format, args...)) }

// Skip ends the program too: a benchmark asked for PostgreSQL cannot go on
// without it.
func (p *Program) Skip(args ...any) { p.exit(fmt.Sprint(args...)) }

func (p *Program) exit(msg string) {
	p.Close()
	log.Print("pgtest: ", msg)
	os.Exit(1)
}

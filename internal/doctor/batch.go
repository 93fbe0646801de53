package doctor

import (
	"context"
	"sync"
)

// DefaultConcurrency is how many identities Batch diagnoses at once by
// default. A diagnosis mostly waits for replies and for the per-server
// rate limit, so many fit on few cores.
const DefaultConcurrency = 64

// Batch diagnoses inputs with at most n at a time (n <= 0 means
// DefaultConcurrency). It calls emit for each input in input order, from
// one goroutine at a time, and done (if not nil) as each one finishes,
// in any order, for a progress bar.
func (d *Doctor) Batch(ctx context.Context, inputs []Input, n int, emit func(i int, r *Report, err error), done func()) {
	if n <= 0 {
		n = DefaultConcurrency
	}
	type result struct {
		r   *Report
		err error
	}
	results := make([]chan result, len(inputs))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, n)
	wg.Go(func() {
		for i, in := range inputs {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				for _, ch := range results[i:] {
					ch <- result{err: ctx.Err()}
				}
				return
			}
			wg.Go(func() {
				defer func() { <-sem }()
				r, err := d.Diagnose(ctx, in)
				results[i] <- result{r, err}
				if done != nil {
					done()
				}
			})
		}
	})
	for i, ch := range results {
		res := <-ch
		emit(i, res.r, res.err)
	}
	wg.Wait()
}

package format

import (
	"runtime"
	"sync"
)

// parallelMinRows is the size below which rows are converted on one
// goroutine: under it, starting workers costs more than it saves.
const parallelMinRows = 20000

// inParallel runs fn over [0, n) split into one contiguous range per core.
// Each call stops at the first error of its range; the error returned is
// that of the lowest range, so it is the first error in file order, as a
// sequential pass would report.
func inParallel(n int, fn func(from, to int) error) error {
	parts := runtime.GOMAXPROCS(0)
	if n < parallelMinRows || parts < 2 {
		return fn(0, n)
	}
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for k := range parts {
		from, to := k*n/parts, (k+1)*n/parts
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k] = fn(from, to)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

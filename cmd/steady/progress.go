package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progress shows how a phase is going. On a terminal it redraws one line
// ten times a second; otherwise (a pipe, a file, a CI log) it writes a
// short line every second, so a log is never flooded.
type progress struct {
	w     io.Writer
	tty   bool
	every time.Duration
}

func newProgress(w io.Writer) *progress {
	if isTerminal(w) {
		return &progress{w: w, tty: true, every: 100 * time.Millisecond}
	}
	return &progress{w: w, every: time.Second}
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
}

// track shows the progress of a phase of total requests counted by t until
// the returned func is called; that func clears the line on a terminal and
// returns once nothing more is written.
func (p *progress) track(name string, total int, t *tally) (stop func()) {
	start := time.Now()
	line := func() string {
		done, ok := t.done.Load(), t.ok.Load()
		return fmt.Sprintf("%-9s %4d/%d done, %d ok, %d failed, %d in flight, %.1fs",
			name, done, total, ok, done-ok, t.inFlight.Load(), time.Since(start).Seconds())
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(p.every)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				if p.tty {
					fmt.Fprint(p.w, "\r\033[K")
				}
				return
			case <-tick.C:
				if p.tty {
					fmt.Fprint(p.w, "\r\033[K"+line())
				} else {
					fmt.Fprintln(p.w, line())
				}
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
	}
}

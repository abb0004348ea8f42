package loadtest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"
)

// progressPrinter writes the live progress line. On a terminal it rewrites
// the line every second; otherwise it prints a new line every 5 s, whose
// rate and p99 cover those 5 s.
type progressPrinter struct {
	e       *engine
	w       io.Writer
	every   time.Duration
	last    time.Duration // when the previous line was computed
	lastN   int64
	scratch []time.Duration
	width   int // of the previous terminal line, to blank its rest
}

func newProgress(e *engine, w io.Writer) *progressPrinter {
	every := 5 * time.Second
	if e.o.Terminal {
		every = time.Second
	}
	return &progressPrinter{e: e, w: w, every: every}
}

// run prints until ctx ends.
func (p *progressPrinter) run(ctx context.Context) {
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.print()
		case <-ctx.Done():
			return
		}
	}
}

// final prints the last line, and ends the terminal's rewritten line.
func (p *progressPrinter) final() {
	p.print()
	if p.e.o.Terminal {
		fmt.Fprintln(p.w)
	}
}

// print writes one line: elapsed time, requests per second and p99 since the
// previous line, and the errors so far.
func (p *progressPrinter) print() {
	now := time.Since(p.e.start)
	var n, errs int64
	p.scratch = p.scratch[:0]
	for i := range p.e.rec {
		r := &p.e.rec[i]
		n += r.count.Load()
		errs += r.errors.Load()
		p.scratch = r.tail(p.scratch)
	}
	rate := 0.0
	if span := now - p.last; span > 0 {
		rate = float64(n-p.lastN) / span.Seconds()
	}
	p.last, p.lastN = now, n
	slices.Sort(p.scratch)
	line := fmt.Sprintf("%7.1fs  %8.0f req/s  p99 %8.1f ms  errors %d  present %d",
		now.Seconds(), rate, ms(percentile(p.scratch, 0.99)), errs, p.e.model.value())
	if p.e.o.Terminal {
		pad := max(p.width-len(line), 0)
		p.width = len(line)
		fmt.Fprintf(p.w, "\r%s%*s", line, pad, "")
		return
	}
	fmt.Fprintln(p.w, line)
}

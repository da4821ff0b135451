//go:build linux

package main

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// summary is the order statistics of a set of durations.
type summary struct {
	median, p90, min, max time.Duration
}

// summarize returns the median (the mean of the middle two for an even
// count), the 90th percentile (nearest rank), the minimum and the maximum.
func summarize(ds []time.Duration) summary {
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	rank := (9*n + 9) / 10 // ceil(0.9 n)
	return summary{median: med, p90: s[rank-1], min: s[0], max: s[n-1]}
}

func report(w io.Writer, version string, n, warmup int, gl []ghloginTimes, alone []chromiumTimes) {
	ghl := func(f func(ghloginTimes) time.Duration) summary {
		out := make([]time.Duration, len(gl))
		for i, g := range gl {
			out[i] = f(g)
		}
		return summarize(out)
	}
	chr := func(f func(chromiumTimes) time.Duration) summary {
		out := make([]time.Duration, len(alone))
		for i, c := range alone {
			out[i] = f(c)
		}
		return summarize(out)
	}
	stored := ghl(func(g ghloginTimes) time.Duration { return g.stored })
	callback := chr(func(c chromiumTimes) time.Duration { return c.callback })

	if version == "" {
		version = "headless Chromium"
	}
	fmt.Fprintf(w, "ghlogin web flow on loopback, %s, headless: %d runs of each after %d warm-up\n\n", version, n, warmup)
	const line = "%-66s %9s %9s %9s %9s\n"
	fmt.Fprintf(w, line, "", "median", "p90", "min", "max")
	row := func(name string, s summary) {
		fmt.Fprintf(w, line, name, ms(s.median), ms(s.p90), ms(s.min), ms(s.max))
	}
	row("ghlogin login --web: start → token stored", stored)
	row("  start → listening (authorize event)", ghl(func(g ghloginTimes) time.Duration { return g.ready }))
	row("  start → chromium launched", ghl(func(g ghloginTimes) time.Duration { return g.launched }))
	row("  start → emulator redirects with a code", ghl(func(g ghloginTimes) time.Duration { return g.authorize }))
	row("  start → code exchanged", ghl(func(g ghloginTimes) time.Duration { return g.exchanged }))
	row("  code exchanged → token stored", ghl(func(g ghloginTimes) time.Duration { return g.stored - g.exchanged }))
	row("  start → process exit", ghl(func(g ghloginTimes) time.Duration { return g.exit }))
	row("chromium alone: start → callback arrives", callback)
	row("  start → chromium launched", chr(func(c chromiumTimes) time.Duration { return c.launched }))
	row("  start → emulator redirects with a code", chr(func(c chromiumTimes) time.Duration { return c.authorize }))
	row("  redirect → callback arrives", chr(func(c chromiumTimes) time.Duration { return c.callback - c.authorize }))
	fmt.Fprintf(w, line, "difference of the medians (ghlogin − chromium)", ms(stored.median-callback.median), "", "", "")
	// Chromium's start-up varies by hundreds of milliseconds from run to
	// run; taking each run's own Chromium time out of it leaves ghlogin's
	// part (plus the one redirect hop to the callback).
	row("ghlogin's own time per run (stored − chromium's launch → redirect)",
		ghl(func(g ghloginTimes) time.Duration { return g.stored - (g.authorize - g.launched) }))
}

// ms formats d in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
}

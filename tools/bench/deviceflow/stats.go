package main

import (
	"math"
	"slices"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
)

// slowDownStep is what GitHub (and the emulator) add to the interval after
// a poll that came too early.
const slowDownStep = emulator.SlowDownStep

// pollFigures are the polling figures of one client, from the emulator's
// server-side record of every poll.
type pollFigures struct {
	Codes      int       // device codes that were polled
	Polls      int       // polls received
	Early      int       // polls answered with slow_down because they came early (emulator's count)
	Rebuilt    int       // early polls found again from the timestamps (a cross-check)
	Overshoots []float64 // (gap − interval in force) / interval, between consecutive timely polls
	FirstWaits []float64 // (first poll − code issued − interval) / interval
}

// analyse turns the emulator's poll records into figures. base is the
// interval the emulator announced; the interval in force is rebuilt from the
// timestamps: a gap shorter than it is an early poll, after which the server
// adds 5 s, as GitHub does.
func analyse(stats emulator.Stats, base time.Duration, codes []string) pollFigures {
	f := pollFigures{Early: stats.EarlyPolls}
	for _, code := range codes {
		rec, ok := stats.Codes[code]
		if !ok || len(rec.Polls) == 0 {
			continue
		}
		f.Codes++
		f.Polls += len(rec.Polls)
		over, early := overshoots(rec, base)
		f.Overshoots = append(f.Overshoots, over...)
		f.Rebuilt += early
		first := rec.Polls[0].Sub(rec.Issued)
		f.FirstWaits = append(f.FirstWaits, float64(first-base)/float64(base))
	}
	return f
}

// overshoots returns, for each poll after the first, how far past the
// interval in force it came (a fraction of that interval), and how many
// polls came before the interval had passed (those are not in the list).
func overshoots(rec emulator.PollRecord, base time.Duration) ([]float64, int) {
	cur := base
	var out []float64
	early := 0
	for i := 1; i < len(rec.Polls); i++ {
		gap := rec.Polls[i].Sub(rec.Polls[i-1])
		if gap < cur {
			early++
			cur += slowDownStep
			continue
		}
		out = append(out, float64(gap-cur)/float64(cur))
	}
	return out, early
}

// durations are the time-to-code samples of one client and mode.
type durations []time.Duration

// percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of xs, or
// NaN when xs is empty.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// seconds returns d as float seconds, for percentile.
func (d durations) seconds() []float64 {
	out := make([]float64, len(d))
	for i, x := range d {
		out[i] = x.Seconds()
	}
	return out
}

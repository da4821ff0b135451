// Package clock abstracts time so that polling, expiry and backoff logic can be
// tested without sleeping.
package clock

import (
	"context"
	"sync"
	"time"
)

// Clock tells the time and waits. Real code uses Real; tests use a Fake.
type Clock interface {
	// Now returns the current time. The real clock's readings carry Go's
	// monotonic reading, so differences between them are immune to wall-clock jumps.
	Now() time.Time
	// Sleep waits for d, or until ctx is done, whichever comes first. It returns
	// ctx.Err() when the context ended the wait.
	Sleep(ctx context.Context, d time.Duration) error
}

// Real is the system clock.
type Real struct{}

// Or returns c, or the system clock when c is nil: what every component
// with an optional Clock field uses.
func Or(c Clock) Clock {
	if c == nil {
		return Real{}
	}
	return c
}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Sleep waits for d or until ctx is done.
func (Real) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Fake is a clock for tests: Sleep returns at once after moving the time forward
// by d, so a test covering fifteen minutes of polling runs in microseconds.
// OnSleep, when set, is called after each advance (for example to cancel a context
// or to change what a fake server answers).
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	sleeps  []time.Duration
	OnSleep func(d time.Duration)
}

// NewFake returns a fake clock set to start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the fake time forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// Sleep records d, advances the time by d and returns, unless ctx is already done.
func (f *Fake) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d < 0 {
		d = 0
	}
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.sleeps = append(f.sleeps, d)
	hook := f.OnSleep
	f.mu.Unlock()
	if hook != nil {
		hook(d)
	}
	return ctx.Err()
}

// Sleeps returns every duration passed to Sleep so far.
func (f *Fake) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

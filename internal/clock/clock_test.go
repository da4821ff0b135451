package clock

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"
)

// Both clocks satisfy Clock.
var (
	_ Clock = Real{}
	_ Clock = (*Fake)(nil)
)

func TestRealNow(t *testing.T) {
	before := time.Now()
	got := Real{}.Now()
	after := time.Now()
	if got.Before(before) || got.After(after) {
		t.Errorf("Real.Now() = %v, not between %v and %v", got, before, after)
	}
}

func TestRealSleepWaits(t *testing.T) {
	const d = 5 * time.Millisecond
	start := time.Now()
	if err := (Real{}).Sleep(context.Background(), d); err != nil {
		t.Fatalf("Sleep: %v", err)
	}
	if elapsed := time.Since(start); elapsed < d {
		t.Errorf("Sleep(%v) returned after %v", d, elapsed)
	}
}

func TestRealSleepCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- (Real{}).Sleep(ctx, time.Hour) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Sleep after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Sleep did not return after the context was cancelled")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("cancel took %v", elapsed)
	}
}

func TestRealSleepDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if err := (Real{}).Sleep(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Sleep past the deadline = %v, want context.DeadlineExceeded", err)
	}
}

func TestRealSleepNonPositive(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		if err := (Real{}).Sleep(context.Background(), d); err != nil {
			t.Errorf("Sleep(%v) on a live context = %v, want nil", d, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := (Real{}).Sleep(ctx, d); !errors.Is(err, context.Canceled) {
			t.Errorf("Sleep(%v) on a cancelled context = %v, want context.Canceled", d, err)
		}
	}
	// A done context wins over a positive duration too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (Real{}).Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(1h) on a cancelled context = %v", err)
	}
}

var start = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func TestFakeNowAndAdvance(t *testing.T) {
	f := NewFake(start)
	if !f.Now().Equal(start) {
		t.Fatalf("Now() = %v, want %v", f.Now(), start)
	}
	f.Advance(90 * time.Second)
	if want := start.Add(90 * time.Second); !f.Now().Equal(want) {
		t.Errorf("after Advance: %v, want %v", f.Now(), want)
	}
	if len(f.Sleeps()) != 0 {
		t.Errorf("Advance recorded a sleep: %v", f.Sleeps())
	}
}

func TestFakeSleepAdvancesAndRecords(t *testing.T) {
	f := NewFake(start)
	ctx := context.Background()
	for _, d := range []time.Duration{5 * time.Second, 10 * time.Second, 0, 15 * time.Minute} {
		if err := f.Sleep(ctx, d); err != nil {
			t.Fatalf("Sleep(%v): %v", d, err)
		}
	}
	if want := start.Add(15*time.Minute + 15*time.Second); !f.Now().Equal(want) {
		t.Errorf("Now() = %v, want %v", f.Now(), want)
	}
	want := []time.Duration{5 * time.Second, 10 * time.Second, 0, 15 * time.Minute}
	if got := f.Sleeps(); !reflect.DeepEqual(got, want) {
		t.Errorf("Sleeps() = %v, want %v", got, want)
	}
	// Sleeps returns a copy.
	f.Sleeps()[0] = time.Hour
	if f.Sleeps()[0] != 5*time.Second {
		t.Error("Sleeps() exposes the internal slice")
	}
	// A negative sleep does not move time backwards.
	before := f.Now()
	if err := f.Sleep(ctx, -time.Minute); err != nil {
		t.Fatal(err)
	}
	if !f.Now().Equal(before) {
		t.Errorf("a negative sleep moved time to %v", f.Now())
	}
	if got := f.Sleeps(); got[len(got)-1] != 0 {
		t.Errorf("a negative sleep was recorded as %v, want 0", got[len(got)-1])
	}
}

func TestFakeOnSleep(t *testing.T) {
	f := NewFake(start)
	var seen []time.Duration
	var seenAt []time.Time
	f.OnSleep = func(d time.Duration) {
		seen = append(seen, d)
		seenAt = append(seenAt, f.Now()) // the hook may call back into the clock
	}
	_ = f.Sleep(context.Background(), time.Second)
	_ = f.Sleep(context.Background(), 2*time.Second)
	if !reflect.DeepEqual(seen, []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("OnSleep saw %v", seen)
	}
	// The hook runs after the advance.
	if !seenAt[0].Equal(start.Add(time.Second)) || !seenAt[1].Equal(start.Add(3*time.Second)) {
		t.Errorf("OnSleep saw times %v", seenAt)
	}
}

func TestFakeOnSleepCancels(t *testing.T) {
	// A hook that cancels the context ends the wait with the context's error,
	// the way a user pressing Ctrl-C during a poll interval would.
	f := NewFake(start)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.OnSleep = func(time.Duration) { cancel() }
	if err := f.Sleep(ctx, 5*time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep = %v, want context.Canceled", err)
	}
	if !f.Now().Equal(start.Add(5 * time.Second)) {
		t.Errorf("Now() = %v", f.Now())
	}
}

func TestFakeSleepDoneContext(t *testing.T) {
	f := NewFake(start)
	called := false
	f.OnSleep = func(time.Duration) { called = true }

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Sleep(ctx, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep = %v, want context.Canceled", err)
	}
	dctx, dcancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer dcancel()
	if err := f.Sleep(dctx, time.Minute); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Sleep = %v, want context.DeadlineExceeded", err)
	}
	if !f.Now().Equal(start) {
		t.Errorf("a Sleep on a done context advanced the time to %v", f.Now())
	}
	if len(f.Sleeps()) != 0 || called {
		t.Errorf("a Sleep on a done context was recorded (%v) or called the hook (%v)", f.Sleeps(), called)
	}
}

func TestFakeConcurrent(t *testing.T) {
	f := NewFake(start)
	var mu sync.Mutex
	n := 0
	f.OnSleep = func(time.Duration) {
		mu.Lock()
		n++
		mu.Unlock()
	}
	const goroutines, each = 8, 100
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				switch i % 3 {
				case 0:
					_ = f.Sleep(context.Background(), time.Second)
				case 1:
					f.Advance(time.Second)
				default:
					_ = f.Now()
					_ = f.Sleeps()
				}
			}
		}()
	}
	wg.Wait()
	sleeps := (each + 2) / 3   // i%3 == 0
	advances := (each + 1) / 3 // i%3 == 1
	want := start.Add(time.Duration(goroutines*(sleeps+advances)) * time.Second)
	if !f.Now().Equal(want) {
		t.Errorf("Now() = %v, want %v", f.Now(), want)
	}
	if got := len(f.Sleeps()); got != goroutines*sleeps {
		t.Errorf("%d sleeps recorded, want %d", got, goroutines*sleeps)
	}
	if n != goroutines*sleeps {
		t.Errorf("OnSleep called %d times, want %d", n, goroutines*sleeps)
	}
}

func TestOr(t *testing.T) {
	if _, ok := Or(nil).(Real); !ok {
		t.Fatal("Or(nil) is not the real clock")
	}
	f := NewFake(time.Unix(0, 0))
	if Or(f) != Clock(f) {
		t.Fatal("Or(f) is not f")
	}
}

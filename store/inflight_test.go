package store

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/store/storetest"
)

type beginResult struct {
	lease  *LoginLease
	result *LoginResult
	err    error
	owners []LoginOwner
}

// beginAsync runs BeginLogin in a goroutine; announced receives each owner
// it is told about.
func beginAsync(ctx context.Context, s *Store, host string, announced chan<- LoginOwner) <-chan beginResult {
	ch := make(chan beginResult, 1)
	go func() {
		var owners []LoginOwner
		l, r, err := s.BeginLogin(ctx, host, LoginWaitOptions{OnWait: func(o LoginOwner) {
			owners = append(owners, o)
			if announced != nil {
				announced <- o
			}
		}})
		ch <- beginResult{l, r, err, owners}
	}()
	return ch
}

func TestLoginInFlightWaitersGetTheResult(t *testing.T) {
	s := newStore(t, nil)
	lease, r, err := s.BeginLogin(ctx, "github.com", LoginWaitOptions{})
	if err != nil || lease == nil || r != nil {
		t.Fatalf("first BeginLogin = %v, %v, %v", lease, r, err)
	}
	o := lease.Owner()
	if o.PID != os.Getpid() || o.Host != "github.com" || o.Flight == "" || !strings.Contains(o.Command, os.Args[0]) {
		t.Fatalf("owner %+v", o)
	}
	announced := make(chan LoginOwner, 3)
	var waiters []<-chan beginResult
	for _, h := range []string{"github.com", "https://GitHub.com/", "GITHUB.COM"} {
		waiters = append(waiters, beginAsync(ctx, s, h, announced))
	}
	for range waiters {
		select {
		case got := <-announced:
			if !reflect.DeepEqual(got, o) {
				t.Fatalf("waiter told %+v, want %+v", got, o)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a waiter was not told whose login it waits for")
		}
	}
	// Another host's login does not wait.
	other, _, err := s.BeginLogin(ctx, "ghe.example.com", LoginWaitOptions{})
	if err != nil || other == nil {
		t.Fatalf("other host: %v", err)
	}
	other.Release()

	if err := lease.Publish(LoginResult{OK: true, Login: "octocat", Store: BackendKernel}); err != nil {
		t.Fatal(err)
	}
	lease.Release()
	lease.Release()
	for i, w := range waiters {
		b := <-w
		if b.err != nil || b.lease != nil || b.result == nil {
			t.Fatalf("waiter %d: %+v", i, b)
		}
		if r := b.result; r.Flight != o.Flight || !r.OK || r.Login != "octocat" || r.Store != BackendKernel || r.Host != "github.com" {
			t.Fatalf("waiter %d got %+v", i, r)
		}
	}
	if err := lease.Publish(LoginResult{}); err == nil {
		t.Error("Publish after Release")
	}
	if _, err := os.Stat(s.loginPaths("github.com").owner); err == nil {
		t.Error("owner record left after Release")
	}
}

// A failed login: the waiters get its error code, message and exit status.
func TestLoginInFlightError(t *testing.T) {
	s := newStore(t, nil)
	lease, _, _ := s.BeginLogin(ctx, "github.com", LoginWaitOptions{})
	announced := make(chan LoginOwner, 1)
	w := beginAsync(ctx, s, "github.com", announced)
	<-announced
	want := LoginResult{ErrorCode: "access_denied", ErrorMessage: "the server answered access_denied\x1b[2J", ExitCode: 1}
	if err := lease.Publish(want); err != nil {
		t.Fatal(err)
	}
	lease.Release()
	b := <-w
	if b.result == nil || b.result.OK || b.result.ErrorCode != "access_denied" || b.result.ExitCode != 1 {
		t.Fatalf("got %+v", b)
	}
	if strings.Contains(b.result.ErrorMessage, "\x1b") {
		t.Errorf("control characters kept: %q", b.result.ErrorMessage)
	}
}

// A lease released without a result (its owner gave up, or crashed):
// the next waiter runs the login itself.
func TestLoginInFlightTakeover(t *testing.T) {
	s := newStore(t, nil)
	lease, _, _ := s.BeginLogin(ctx, "github.com", LoginWaitOptions{})
	announced := make(chan LoginOwner, 1)
	w := beginAsync(ctx, s, "github.com", announced)
	<-announced
	lease.Release()
	b := <-w
	if b.err != nil || b.result != nil || b.lease == nil {
		t.Fatalf("takeover: %+v", b)
	}
	if b.lease.Owner().Flight == lease.Owner().Flight {
		t.Error("the new login has the old flight ID")
	}
	b.lease.Release()
}

func TestLoginInFlightCancelled(t *testing.T) {
	s := newStore(t, nil)
	lease, _, _ := s.BeginLogin(ctx, "github.com", LoginWaitOptions{})
	defer lease.Release()
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, _, err := s.BeginLogin(tctx, "github.com", LoginWaitOptions{})
	var we *LoginWaitError
	if !errors.As(err, &we) || !errors.Is(err, context.DeadlineExceeded) || we.Owner.PID != os.Getpid() {
		t.Fatalf("err = %v", err)
	}
	want := fmt.Sprintf("gave up waiting for the login to github.com that process %d (", os.Getpid())
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("message %q", err)
	}
	cctx, cancel2 := context.WithCancel(ctx)
	cancel2()
	if _, _, err := s.BeginLogin(cctx, "github.com", LoginWaitOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// Since: a login that finished after the caller found no token counts,
// even though the caller did not wait for it.
func TestLoginInFlightSince(t *testing.T) {
	clk := clock.NewFake(time.Date(2025, 6, 1, 3, 0, 0, 0, time.UTC))
	s, err := Open(Options{Dir: t.TempDir(), Keyring: storetest.NewMemKeyring(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	before := clk.Now()
	clk.Advance(time.Minute)
	lease, _, _ := s.BeginLogin(ctx, "github.com", LoginWaitOptions{})
	clk.Advance(time.Minute)
	lease.Publish(LoginResult{OK: true, Login: "octocat", Store: BackendFile})
	lease.Release()
	finished := clk.Now()

	_, r, err := s.BeginLogin(ctx, "github.com", LoginWaitOptions{Since: before})
	if err != nil || r == nil || !r.Finished.Equal(finished) || r.Login != "octocat" {
		t.Fatalf("since before: %+v, %v", r, err)
	}
	l, r, err := s.BeginLogin(ctx, "github.com", LoginWaitOptions{Since: finished.Add(time.Second)})
	if err != nil || l == nil || r != nil {
		t.Fatalf("since after: %v %+v %v", l, r, err)
	}
	if !l.Owner().Started.Equal(finished) {
		t.Errorf("owner started %v on the fake clock, want %v", l.Owner().Started, finished)
	}
	l.Release()
	// Without Since, a finished login is not reused.
	l, r, _ = s.BeginLogin(ctx, "github.com", LoginWaitOptions{})
	if l == nil || r != nil {
		t.Fatalf("no since: %v %+v", l, r)
	}
	l.Release()
}

// The wait checks the lock at growing intervals on the injected clock:
// 25 ms, doubling, at most 500 ms.
func TestLoginInFlightPacing(t *testing.T) {
	s := newStore(t, nil)
	lease, _, _ := s.BeginLogin(ctx, "github.com", LoginWaitOptions{})
	clk := clock.NewFake(time.Date(2025, 6, 1, 3, 0, 0, 0, time.UTC))
	var n int
	clk.OnSleep = func(time.Duration) {
		if n++; n == 7 {
			lease.Publish(LoginResult{OK: true, Login: "octocat"})
			lease.Release()
		}
	}
	_, r, err := s.BeginLogin(ctx, "github.com", LoginWaitOptions{Clock: clk})
	if err != nil || r == nil || !r.OK {
		t.Fatalf("%+v %v", r, err)
	}
	ms := time.Millisecond
	if got, want := clk.Sleeps(), []time.Duration{25 * ms, 50 * ms, 100 * ms, 200 * ms, 400 * ms, 500 * ms, 500 * ms}; !reflect.DeepEqual(got, want) {
		t.Errorf("sleeps %v, want %v", got, want)
	}
}

// A stale owner record (its process is gone) is not announced.
func TestLoginInFlightStaleOwnerNotAnnounced(t *testing.T) {
	s := newStore(t, nil)
	lease, _, _ := s.BeginLogin(ctx, "github.com", LoginWaitOptions{})
	p := s.loginPaths("github.com")
	// A record naming a process that does not exist.
	dead, _ := json.Marshal(LoginOwner{PID: deadPID(t), Host: "github.com", Flight: "dead", Command: "ghlogin login"})
	os.WriteFile(p.owner, dead, 0o600)
	tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	var told []LoginOwner
	_, _, err := s.BeginLogin(tctx, "github.com", LoginWaitOptions{OnWait: func(o LoginOwner) { told = append(told, o) }})
	var we *LoginWaitError
	if !errors.As(err, &we) || we.Owner.PID != 0 || len(told) != 0 {
		t.Fatalf("err %v, told %+v", err, told)
	}
	if !strings.Contains(err.Error(), "that another process is running") {
		t.Errorf("message %q", err)
	}
	lease.Release()
}

// deadPID is the PID of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// flightReport is what the login-flight helper prints.
type flightReport struct {
	Role   string       `json:"role"` // "lead" or "wait"
	Result *LoginResult `json:"result"`
	Told   []int        `json:"told"` // PIDs OnWait named
	Err    string       `json:"err"`
}

// helperLoginFlight is one of the concurrent processes: it begins a login;
// as the leader it "runs the flow" (a POST to H_URL, then H_HOLD of
// waiting) and publishes H_OUTCOME; as a waiter it reports what it got.
func helperLoginFlight(dir string) error {
	since := time.Now()
	s, err := Open(Options{Dir: dir, Keyring: storetest.NewMemKeyring()})
	if err != nil {
		return err
	}
	var rep flightReport
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lease, res, err := s.BeginLogin(ctx, os.Getenv("H_HOST"), LoginWaitOptions{
		Since:  since,
		OnWait: func(o LoginOwner) { rep.Told = append(rep.Told, o.PID) },
	})
	switch {
	case err != nil:
		rep.Err = err.Error()
	case lease != nil:
		rep.Role = "lead"
		resp, err := http.Post(os.Getenv("H_URL")+"/login/device/code", "application/x-www-form-urlencoded", nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		hold, _ := time.ParseDuration(os.Getenv("H_HOLD"))
		time.Sleep(hold)
		r := LoginResult{OK: true, Login: "octocat", Store: BackendKernel}
		if os.Getenv("H_OUTCOME") == "denied" {
			r = LoginResult{ErrorCode: "access_denied", ErrorMessage: "the server answered access_denied", ExitCode: 1}
		}
		if err := lease.Publish(r); err != nil {
			return err
		}
		lease.Release()
		rep.Result, _ = readLoginResult(s.loginPaths(lease.Owner().Host).result, lease.Owner().Host)
	default:
		rep.Role, rep.Result = "wait", res
	}
	return json.NewEncoder(os.Stdout).Encode(rep)
}

// Eight processes need a login for the same host at once: exactly one runs
// the flow (one device code request), and all eight report its outcome.
func TestLoginInFlightEightProcesses(t *testing.T) {
	for _, outcome := range []string{"ok", "denied"} {
		t.Run(outcome, func(t *testing.T) {
			var codeRequests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/login/device/code" {
					codeRequests.Add(1)
				}
			}))
			defer srv.Close()
			dir := t.TempDir()
			const n = 8
			reports := make([]flightReport, n)
			pids := make([]int, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				cmd := helperCmd(t, "login-flight", "H_DIR="+dir, "H_HOST=github.com", "H_URL="+srv.URL, "H_HOLD=1500ms", "H_OUTCOME="+outcome)
				cmd.Stderr = os.Stderr
				out, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					if err := cmd.Start(); err != nil {
						t.Error(err)
						return
					}
					pids[i] = cmd.Process.Pid
					if err := json.NewDecoder(out).Decode(&reports[i]); err != nil {
						t.Errorf("process %d: %v", i, err)
					}
					cmd.Wait()
				}()
			}
			close(start)
			wg.Wait()
			if got := codeRequests.Load(); got != 1 {
				t.Fatalf("%d device code requests, want 1", got)
			}
			leader := -1
			for i, r := range reports {
				if r.Err != "" || r.Result == nil {
					t.Fatalf("process %d: %+v", i, r)
				}
				if r.Role == "lead" {
					if leader >= 0 {
						t.Fatalf("two leaders: %d and %d", leader, i)
					}
					leader = i
				}
			}
			if leader < 0 {
				t.Fatal("no leader")
			}
			want := *reports[leader].Result
			for i, r := range reports {
				if *r.Result != want {
					t.Errorf("process %d got %+v, want %+v", i, *r.Result, want)
				}
				if r.Role == "wait" && (len(r.Told) == 0 || r.Told[0] != pids[leader]) {
					t.Errorf("waiter %d was told %v, want the leader %d", i, r.Told, pids[leader])
				}
			}
			if outcome == "ok" && (!want.OK || want.Login != "octocat") || outcome == "denied" && (want.OK || want.ErrorCode != "access_denied" || want.ExitCode != 1) {
				t.Errorf("outcome %+v", want)
			}
		})
	}
}

// A login whose process is killed: the waiter is told its PID, then takes
// over and runs the login itself.
func TestLoginInFlightKilledOwner(t *testing.T) {
	s := newStore(t, nil)
	cmd := helperCmd(t, "login-hold", "H_DIR="+s.Dir(), "H_HOST=github.com")
	stdin, _ := cmd.StdinPipe()
	defer stdin.Close()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "leading ") {
		t.Fatalf("helper: %q %v", line, err)
	}
	announced := make(chan LoginOwner, 1)
	w := beginAsync(ctx, s, "github.com", announced)
	var o LoginOwner
	select {
	case o = <-announced:
	case <-time.After(10 * time.Second):
		t.Fatal("not told whose login it waits for")
	}
	if o.PID != cmd.Process.Pid || o.Flight != strings.TrimSpace(strings.TrimPrefix(line, "leading ")) || !strings.Contains(o.Command, os.Args[0]) {
		t.Fatalf("told %+v", o)
	}
	if processStart(o.PID) != 0 && o.ProcessStart != processStart(o.PID) {
		t.Errorf("process start %d, want %d", o.ProcessStart, processStart(o.PID))
	}
	cmd.Process.Kill()
	cmd.Wait()
	var b beginResult
	select {
	case b = <-w:
	case <-time.After(10 * time.Second):
		t.Fatal("the killed owner's lock was not taken over")
	}
	if b.err != nil || b.lease == nil || b.result != nil {
		t.Fatalf("after the kill: %+v", b)
	}
	if b.lease.Owner().Flight == o.Flight {
		t.Error("same flight")
	}
	b.lease.Release()
	if !processAlive(os.Getpid(), processStart(os.Getpid())) || processAlive(o.PID, o.ProcessStart) {
		t.Error("processAlive is wrong")
	}
	if processStart(os.Getpid()) != 0 && processAlive(os.Getpid(), processStart(os.Getpid())+1) {
		t.Error("a reused PID (another start time) counts as alive")
	}
}

// helperLoginHold takes the login lease and holds it until killed.
func helperLoginHold(dir string) error {
	s, err := Open(Options{Dir: dir, Keyring: storetest.NewMemKeyring()})
	if err != nil {
		return err
	}
	lease, _, err := s.BeginLogin(context.Background(), os.Getenv("H_HOST"), LoginWaitOptions{})
	if err != nil || lease == nil {
		return fmt.Errorf("no lease: %v", err)
	}
	fmt.Println("leading " + lease.Owner().Flight)
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	return nil
}

func TestLoginOwnerString(t *testing.T) {
	o := LoginOwner{PID: 42, Command: "ghlogin login --host github.com"}
	if o.String() != "process 42 (ghlogin login --host github.com)" {
		t.Errorf("%q", o.String())
	}
	if (LoginOwner{PID: 42}).String() != "process 42" {
		t.Error("without a command")
	}
}

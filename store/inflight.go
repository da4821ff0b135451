package store

// One login in flight per host: when several processes need a login for the
// same host at once (git runs a credential helper per remote operation, and
// `git submodule update --jobs 8` runs eight; two scripts each start
// `ghlogin login`), one runs the flow and the others wait for its outcome.
//
// The lock is an flock(2)-style advisory lock on locks/login-HOST.lock (as
// WithLock's), which the kernel releases when its owner exits in any way,
// so a crashed or killed login never blocks the next: the first waiter to
// get the lock finds no new result and runs the login itself. Beside it:
//
//	locks/login-HOST.owner   who holds the lock: PID, process start time,
//	                         command line, host, start, flight ID (JSON)
//	locks/login-HOST.result  the last login's outcome, never a token (JSON)
//
// Waiters read the owner record to say whose login they wait for; a record
// is believed only while its process is alive (and, on Linux, has the same
// start time, so a reused PID is not mistaken for it).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/safe"
)

// Waiting for a login in flight checks the lock first after loginPollMin,
// then at growing intervals up to loginPollMax.
const (
	loginPollMin = 25 * time.Millisecond
	loginPollMax = 500 * time.Millisecond
)

// maxResultMessage bounds the error message a result carries.
const maxResultMessage = 2000

// LoginOwner is the process running a login in flight.
type LoginOwner struct {
	// PID is the owner's process ID.
	PID int `json:"pid"`
	// ProcessStart tells the owner apart from a later process given the
	// same PID: on Linux the start time in clock ticks after boot
	// (/proc/PID/stat field 22); 0 elsewhere.
	ProcessStart uint64 `json:"process_start,omitempty"`
	// Command is the owner's command line, sanitised and cut short (ghlogin
	// never takes a secret as an argument).
	Command string `json:"command,omitempty"`
	// Host is the host the login is for.
	Host string `json:"host"`
	// Started is when the owner took the lock.
	Started time.Time `json:"started"`
	// Flight identifies this login; its LoginResult carries the same.
	Flight string `json:"flight"`
}

// LoginResult is the outcome a login publishes for the processes that
// waited for it, so that they report the same success or the same error.
// It never holds a token: a waiter that needs one reads the store.
type LoginResult struct {
	// Flight is the login's LoginOwner.Flight.
	Flight string `json:"flight"`
	// Host is the host the login was for.
	Host string `json:"host"`
	// OK is true when the login stored a token.
	OK bool `json:"ok"`
	// Login and Store say which account was stored, and where (on success).
	Login string `json:"login,omitempty"`
	Store string `json:"store,omitempty"`
	// ErrorCode is the failure's code as the JSON error event has it (an
	// OAuth error code, or timeout, network, cancelled, error).
	ErrorCode string `json:"error_code,omitempty"`
	// ErrorMessage is the failure's message as the login showed it.
	ErrorMessage string `json:"error_message,omitempty"`
	// ExitCode is the exit status the login ended with.
	ExitCode int `json:"exit_code,omitempty"`
	// Finished is when the result was published.
	Finished time.Time `json:"finished"`
}

// LoginWaitOptions configure BeginLogin.
type LoginWaitOptions struct {
	// OnWait, when set, is called when the caller starts waiting for
	// another process's login, with that process (and again if another
	// process takes over). It is called from BeginLogin's goroutine.
	OnWait func(LoginOwner)
	// Since, when set, makes a result published at or after Since count
	// even when the caller did not have to wait: a git helper that found
	// no token at Since and a login that finished just after then should
	// use that login, not start another. Zero means only results of
	// logins that finished while the caller waited.
	Since time.Time
	// Clock paces the checks of the lock and dates owners and results;
	// nil means the store's clock.
	Clock Clock
}

// LoginWaitError is a wait for another process's login that ended before
// that login did: ctx was cancelled or its deadline passed.
type LoginWaitError struct {
	Host string
	// Owner is the process whose login was awaited (zero PID when it was
	// not known yet).
	Owner LoginOwner
	// Err is ctx's error.
	Err error
}

// Error says whose login was awaited.
func (e *LoginWaitError) Error() string {
	who := "another process"
	if e.Owner.PID != 0 {
		who = describeOwner(e.Owner)
	}
	what := "stopped waiting"
	if errors.Is(e.Err, context.DeadlineExceeded) {
		what = "gave up waiting"
	}
	return fmt.Sprintf("%s for the login to %s that %s is running", what, e.Host, who)
}

// Unwrap returns ctx's error.
func (e *LoginWaitError) Unwrap() error { return e.Err }

// describeOwner is "process 1234 (ghlogin login)".
func describeOwner(o LoginOwner) string {
	s := fmt.Sprintf("process %d", o.PID)
	if o.Command != "" {
		s += " (" + o.Command + ")"
	}
	return s
}

// String is "process 1234 (ghlogin login --host github.com)".
func (o LoginOwner) String() string { return describeOwner(o) }

// LoginLease is held by the one process running the login for a host.
// Publish the outcome, then Release.
type LoginLease struct {
	owner LoginOwner
	paths loginPaths
	clk   clock.Clock

	mu       sync.Mutex
	fl       *flock.Flock
	released bool
}

// Owner returns the lease's owner record (this process).
func (l *LoginLease) Owner() LoginOwner { return l.owner }

// Publish records the outcome for the processes waiting for this login
// (Flight, Host and Finished are filled in). Call it before Release: a lease
// released without a result lets the next waiter run the login itself. r
// must not hold a token.
func (l *LoginLease) Publish(r LoginResult) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return errors.New("the login lease was already released")
	}
	r.Flight, r.Host = l.owner.Flight, l.owner.Host
	r.Finished = l.clk.Now().UTC()
	r.ErrorMessage = safe.Short(r.ErrorMessage, maxResultMessage)
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return config.WriteFileAtomic(l.paths.result, append(data, '\n'))
}

// Release removes the owner record and releases the lock, so the waiters
// read the result. It may be called more than once.
func (l *LoginLease) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return
	}
	l.released = true
	_ = os.Remove(l.paths.owner)
	_ = l.fl.Unlock()
}

// loginPaths are the files of one host's login lock.
type loginPaths struct {
	lock, owner, result string
}

func (s *Store) loginPaths(h string) loginPaths {
	lock := s.LockPath("login-" + h)
	base := strings.TrimSuffix(lock, ".lock")
	return loginPaths{lock: lock, owner: base + ".owner", result: base + ".result"}
}

// BeginLogin makes the caller the one process running a login for host, or
// waits for the process that is running one. It returns either a lease —
// the caller runs the login, then calls Publish and Release — or the result
// of the login the caller waited for (or, with Since, one that finished
// since then); never both. Waiting is bounded by ctx: when ctx ends first,
// the error is a *LoginWaitError. opts.OnWait hears whose login is awaited.
//
// A lease from a process that died, or was released without a result, is
// taken over: the next caller to get the lock runs the login. A locks
// directory, lock file, owner record or result that another user owns or
// could write is refused with a *UntrustedError naming the fix.
func (s *Store) BeginLogin(ctx context.Context, host string, opts LoginWaitOptions) (*LoginLease, *LoginResult, error) {
	h, err := hostName(host)
	if err != nil {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, &LoginWaitError{Host: h, Err: err}
	}
	clk := opts.Clock
	if clk == nil {
		clk = s.opts.Clock
	}
	p := s.loginPaths(h)
	if err := s.ensureLockDir(); err != nil {
		return nil, nil, err
	}
	if err := checkLock(p.lock); err != nil {
		return nil, nil, err
	}
	prev, err := readLoginResult(p.result, h)
	if err != nil {
		return nil, nil, err
	}
	recent := func(r *LoginResult) bool {
		return r != nil && !opts.Since.IsZero() && !r.Finished.Before(opts.Since)
	}
	if recent(prev) {
		return nil, prev, nil
	}
	fl := flock.New(p.lock, flock.SetPermissions(0o600))
	var owner LoginOwner // the owner announced to OnWait
	waited := false
	delay := loginPollMin
	for {
		ok, err := fl.TryLock()
		if err != nil {
			return nil, nil, &LockError{Path: p.lock, Err: err}
		}
		if ok {
			r, err := readLoginResult(p.result, h)
			if err != nil {
				_ = fl.Unlock()
				return nil, nil, err
			}
			if r != nil && (recent(r) || waited && (prev == nil || r.Flight != prev.Flight)) {
				// A login finished while we waited: its outcome is ours.
				_ = fl.Unlock()
				return nil, r, nil
			}
			lease, err := s.lead(fl, p, h, clk)
			if err != nil {
				_ = fl.Unlock()
				return nil, nil, err
			}
			return lease, nil, nil
		}
		waited = true
		o, ok, err := readLoginOwner(p.owner, h)
		if err != nil {
			return nil, nil, err
		}
		if ok && o.Flight != owner.Flight && (prev == nil || o.Flight != prev.Flight) && processAlive(o.PID, o.ProcessStart) {
			owner = o
			if opts.OnWait != nil {
				opts.OnWait(o)
			}
		}
		if err := clk.Sleep(ctx, delay); err != nil {
			return nil, nil, &LoginWaitError{Host: h, Owner: owner, Err: err}
		}
		delay = min(delay*2, loginPollMax)
	}
}

// lead writes the owner record of a new login; the caller holds the lock.
func (s *Store) lead(fl *flock.Flock, p loginPaths, h string, clk clock.Clock) (*LoginLease, error) {
	id := make([]byte, 12)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	o := LoginOwner{
		PID:          os.Getpid(),
		ProcessStart: processStart(os.Getpid()),
		Command:      safe.Short(strings.Join(os.Args, " "), 200),
		Host:         h,
		Started:      clk.Now().UTC(),
		Flight:       hex.EncodeToString(id),
	}
	data, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	if err := config.WriteFileAtomic(p.owner, append(data, '\n')); err != nil {
		return nil, &LockError{Path: p.owner, Err: err}
	}
	return &LoginLease{owner: o, paths: p, clk: clk, fl: fl}, nil
}

// maxRecordBytes bounds an owner or result file.
const maxRecordBytes = 64 << 10

// readLoginOwner reads an owner record; ok is false when there is none
// usable (missing, being replaced, or for another host). A record another
// user owns or could write is refused (*UntrustedError): it could
// name any process as the one to wait for.
func readLoginOwner(path, h string) (LoginOwner, bool, error) {
	var o LoginOwner
	data, err := config.ReadInside(path, false, maxRecordBytes)
	var ue *UntrustedError
	if errors.As(err, &ue) {
		return LoginOwner{}, false, err
	}
	if err != nil || json.Unmarshal(data, &o) != nil || o.PID <= 0 || o.Flight == "" || o.Host != h {
		return LoginOwner{}, false, nil
	}
	o.Command = safe.Short(o.Command, 200)
	return o, true, nil
}

// readLoginResult reads the last result for h; nil when there is none. A
// result another user owns or could write is refused
// (*UntrustedError): it could make the caller report a login that
// never happened.
func readLoginResult(path, h string) (*LoginResult, error) {
	data, err := config.ReadInside(path, false, maxRecordBytes)
	var ue *UntrustedError
	if errors.As(err, &ue) {
		return nil, err
	}
	if err != nil {
		return nil, nil
	}
	var r LoginResult
	if json.Unmarshal(data, &r) != nil || r.Flight == "" || r.Host != h {
		return nil, nil
	}
	return &r, nil
}

package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/store"
)

// Exit statuses.
const (
	ExitOK        = 0
	ExitFailure   = 1
	ExitUsage     = 2
	ExitAuth      = 4
	ExitCancelled = 130
)

// usageError is a mistake in the command line (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// reportedError carries an exit status for an error already shown to the
// person (for example by the UI's error screen or a JSON error event).
type reportedError struct {
	code int
	err  error
}

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }

// exitStatus maps an error to ghlogin's exit statuses. It is the one place
// that decides them: Main uses it, and so does login when the UI has already
// shown the error.
func exitStatus(err error) int {
	var (
		ue  *usageError
		ie  *session.InputError
		nc  *session.NoClientIDError
		nl  *store.NotLoggedInError
		re  *reportedError
		nle *refresh.NeedsLoginError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &nle):
		return ExitAuth
	case errors.As(err, &re):
		return re.code
	case errors.As(err, &ue), errors.As(err, &ie), errors.As(err, &nc):
		return ExitUsage
	case errors.Is(err, context.Canceled):
		return ExitCancelled
	case errors.As(err, &nl):
		return ExitAuth
	}
	return ExitFailure
}

// hinted is an error with a sentence for the person, naming what to run or
// set; the original stays reachable with errors.As.
type hinted struct {
	msg string
	err error
}

func (e *hinted) Error() string { return e.msg }
func (e *hinted) Unwrap() error { return e.err }

// explain adds to the application layer's errors the sentences that name
// ghlogin's flags, commands and variables. Other errors pass unchanged.
func explain(err error) error {
	var (
		h  *hinted
		nc *session.NoClientIDError
		se *session.SettingError
	)
	switch {
	case err == nil, errors.As(err, &h):
		return err
	case errors.As(err, &nc):
		return &hinted{fmt.Sprintf("no OAuth client ID for %s: register an OAuth app (or GitHub App) with Device Flow enabled, then run\n"+
			"  ghlogin config set --host %s client_id YOUR_CLIENT_ID\n"+
			"or pass --client-id, or set GHLOGIN_CLIENT_ID. To try ghlogin without one, run: ghlogin demo", nc.Host, nc.Host), err}
	case errors.As(err, &se) && se.Key == "client_auth":
		return &hinted{fmt.Sprintf("%v (fix it with ghlogin config set --host %s client_auth body)", err, se.Host), err}
	}
	return err
}

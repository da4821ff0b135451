package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/hint"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/internal/session/pick"
	"github.com/ghlogin/ghlogin/store"
)

// Exit statuses, as the root command's help (docs/reference/ghlogin.md) lists them.
const (
	ExitOK        = 0
	ExitFailure   = 1
	ExitUsage     = 2
	ExitAuth      = 4
	ExitCancelled = 130
)

// usageError is a mistake in the command line (exit 2). When syntax is set
// the mistake is in the command line's shape (an unknown command or flag, a
// missing or extra argument, flags that exclude each other), and the message
// is followed by a pointer to the command's help; a value that cannot be used
// (a malformed URL, a negative duration) is explained by its own sentence.
type usageError struct {
	err    error
	syntax bool
}

// Error returns the mistake.
func (e *usageError) Error() string { return e.err.Error() }

// Unwrap returns the mistake.
func (e *usageError) Unwrap() error { return e.err }

// usagef is a value on the command line that cannot be used (exit 2).
func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// syntaxf is a mistake in the command line's shape (exit 2, and a pointer
// to the command's help).
func syntaxf(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...), syntax: true}
}

// syntaxError marks err (cobra's own: an unknown command or flag, a flag
// value that does not parse) as a mistake in the command line's shape.
func syntaxError(err error) error {
	var ue *usageError
	if errors.As(err, &ue) {
		ue.syntax = true
		return err
	}
	return &usageError{err: err, syntax: true}
}

// reportedError carries an exit status for an error already shown to the
// person (for example by the UI's error screen or a JSON error event).
type reportedError struct {
	code int
	err  error
}

// Error returns the error shown.
func (e *reportedError) Error() string { return e.err.Error() }

// Unwrap returns the error shown.
func (e *reportedError) Unwrap() error { return e.err }

// exitStatus maps an error to ghlogin's exit statuses. It is the one place
// that decides them: Main uses it, and so does login when the UI has already
// shown the error.
func exitStatus(err error) int {
	var (
		ue  *usageError
		ie  *session.InputError
		uk  *config.UnknownKeyError
		iv  *config.InvalidValueError
		pe  *config.ParseError
		nc  *session.NoClientIDError
		ns  *session.NoClientSecretError
		nl  *store.NotLoggedInError
		re  *reportedError
		nle *refresh.NeedsLoginError
		et  *session.EndedTogetherError
		rf  *agent.RefusedError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &nle), errors.As(err, &et):
		return ExitAuth
	case errors.As(err, &rf):
		// A forwarded agent with no (usable) account for the host is
		// "not logged in"; any other refusal is a failure.
		if rf.Code == agent.CodeNotLoggedIn || rf.Code == agent.CodeNeedsLogin {
			return ExitAuth
		}
		return ExitFailure
	case errors.As(err, &re):
		return re.code
	case errors.As(err, &pe):
		// The file, not the command line, is wrong.
		return ExitFailure
	case errors.As(err, &ns):
		// Missing configuration, not a mistake in the command line: a
		// client secret is never taken as a flag's value, so no command
		// line could have given it. (A client ID can be: --client-id.)
		return ExitFailure
	case errors.As(err, &ue), errors.As(err, &ie), errors.As(err, &nc), errors.As(err, &uk), errors.As(err, &iv):
		return ExitUsage
	case errors.Is(err, context.Canceled):
		return ExitCancelled
	case errors.As(err, &nl):
		return ExitAuth
	}
	return ExitFailure
}

// explain returns the message a person reads for err, for the command at
// hand (Env.hints; see explainIn).
func (e *Env) explain(err error) string {
	msg := explainIn(err, e.hints)
	// An enterprise token in the environment is never handed to a host
	// reached over plain http (pick.EnvToken); say so where its absence
	// would otherwise puzzle: "not logged in" with the variable set.
	var nl *store.NotLoggedInError
	if errors.As(err, &nl) && nl.Login == "" && nl.Invalid == "" {
		msg += e.ignoredEnvNote(nl.Host)
		// No host named, and several have accounts: the default fell back
		// to github.com (SPEC's rule); name the hosts that have accounts.
		if e.otherHosts != nil && nl.Host == hosts.GitHub {
			if others := e.otherHosts(); len(others) > 1 {
				msg += " (accounts exist on " + strings.Join(others, " and ") + ": name one with --host)"
			}
		}
	}
	return msg
}

// ignoredEnvNote says, after "not logged in to host", that an enterprise
// token variable is set but not used for host because it is reached over
// plain http; "" otherwise.
func (e *Env) ignoredEnvNote(host string) string {
	if !strings.HasPrefix(e.hints.HostValue(host), "http://") {
		return ""
	}
	for _, v := range pick.EnterpriseTokenVars {
		if strings.TrimSpace(e.getenv(v)) != "" {
			return " (" + v + " is set, but it is never sent to a host reached over plain http)"
		}
	}
	return ""
}

// explainIn returns the message a person reads for err: internal/hint's
// next steps for the library packages' errors, and here the steps for the
// application layer's own (session imports refresh, whose tests use hint,
// so hint cannot import session). Each step follows its error's own text,
// wherever a wrapper quoted it, and names only flags the command at hand
// (c) has, and hosts by their --host values. The message is one line.
func explainIn(err error, c hint.Context) string {
	if err == nil {
		return ""
	}
	var su *session.StoreUnavailableError
	if errors.As(err, &su) {
		return storeUnavailable(su, c)
	}
	msg := hint.ExplainIn(err, c)
	var (
		nc *session.NoClientIDError
		se *session.SettingError
		ie *session.InputError
	)
	if errors.As(err, &ie) {
		// Name the flag or variable the value came from.
		if name := inputName(ie.Field); name != "" && !strings.HasPrefix(ie.Error(), name) {
			msg = strings.Replace(msg, ie.Error(), name+": "+ie.Error(), 1)
		}
	}
	if errors.As(err, &nc) {
		give := "GHLOGIN_CLIENT_ID or ghlogin config set --host " + c.HostValue(nc.Host) + " client_id ID"
		if c.Has("client-id") {
			give = "--client-id, " + give
		}
		msg = strings.Replace(msg, nc.Error(), fmt.Sprintf("no OAuth client ID for %s: register an OAuth app (or GitHub App) with Device Flow enabled and give its client ID with %s (to try ghlogin without one: ghlogin demo)", nc.Host, give), 1)
	}
	var he *hosts.Error
	if errors.As(err, &he) && he.Path && c.Has("issuer") {
		msg = strings.Replace(msg, he.Error(), he.Error()+"; for an OpenID Connect issuer with a path, give it with --issuer "+he.Input, 1)
	}
	var et *session.EndedTogetherError
	if errors.As(err, &et) {
		msg = strings.Replace(msg, et.Error(), et.Error()+"; log in again: "+c.Login(et.Host), 1)
	}
	var ns *session.NoClientSecretError
	if errors.As(err, &ns) {
		device := "ghlogin login --device"
		if c.Has("device") {
			device = "--device"
		}
		msg = strings.Replace(msg, ns.Error(), fmt.Sprintf("no OAuth client secret for %s: GitHub's web flow needs the OAuth app's client secret; set it with ghlogin config set --host %s client_secret - (which reads it from standard input and does not show it) or with GHLOGIN_CLIENT_SECRET, or use the device flow, which needs none (%s)",
			ns.Host, hosts.Arg(ns.Host, ns.Scheme), device), 1)
	}
	if errors.As(err, &se) && se.Key == "client_auth" {
		msg = strings.Replace(msg, se.Error(), se.Error()+" (fix it with ghlogin config set --host "+c.HostValue(se.Host)+" client_auth body)", 1)
	}
	var (
		be *session.BindingError
		nb *session.NoBindingError
	)
	if errors.As(err, &be) {
		b := be.Binding
		login := "ghlogin login"
		if b.Host != hosts.GitHub {
			login = c.Login(b.Host)
		}
		msg = strings.Replace(msg, be.Error(), fmt.Sprintf("%s; log in as %s (%s) or remove the binding (ghlogin bind --remove %s)",
			be.Error(), b.Login, login, removeArgs(b, c)), 1)
	}
	if errors.As(err, &nb) {
		msg = strings.Replace(msg, nb.Error(), nb.Error()+"; see ghlogin bind --list", 1)
	}
	return msg
}

// inputName is the flag (or environment variable) a session.InputError's
// Field names: the flags are the setting keys with dashes ("--client-auth"),
// and a variable is named as it is.
func inputName(field string) string {
	switch {
	case field == "":
		return ""
	case strings.ToUpper(field) == field:
		return field
	}
	return "--" + strings.ReplaceAll(field, "_", "-")
}

// wrap returns err with its message explained, for the UI to show (its
// error screen, plain line or JSON event), marked so that the UI's own
// explaining (hint.Explain) does not add the steps again, and with the
// code of its JSON error event (eventCode). wrap(nil) is nil; wrapping
// twice changes nothing.
func (e *Env) wrap(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*codedError); ok {
		return err
	}
	code := eventCode(err)
	if !hint.IsExplained(err) {
		err = hint.WithMessage(err, e.explain(err))
	}
	return &codedError{err: err, code: code}
}

// storeUnavailable is the message for a login whose store cannot be used,
// with nobody to ask for another, on one line: why the other stores that
// cannot be used are not offered, then the stores that can be used
// instead, each with the --store value (or GHLOGIN_STORE, for a command
// without --store) that chooses it and what it protects against, and how
// to choose one for good.
func storeUnavailable(e *session.StoreUnavailableError, c hint.Context) string {
	var b strings.Builder
	fmt.Fprintf(&b, "cannot keep the token for %s in %s: %s", e.Host, e.Unavailable.Place, e.Err)
	// A store that cannot be used either says why it is not offered.
	for _, o := range e.NotOffered {
		fmt.Fprintf(&b, "; %s", o.Err)
	}
	if len(e.Offers) == 0 {
		b.WriteString("; no other store can be used here either")
		return safe.Text(b.String())
	}
	b.WriteString("; there is no terminal to ask where to keep it instead, and ghlogin never picks another store by itself: choose ")
	for i, o := range e.Offers {
		switch {
		case i == 0:
		case i == len(e.Offers)-1:
			b.WriteString(", or ")
		default:
			b.WriteString(", ")
		}
		if c.Has("store") {
			fmt.Fprintf(&b, "--store %s (or GHLOGIN_STORE=%s)", o.Name, o.Name)
		} else {
			fmt.Fprintf(&b, "GHLOGIN_STORE=%s", o.Name)
		}
		fmt.Fprintf(&b, " for %s [%s; kept %s]", o.Place, o.Protection, o.Lifetime)
	}
	fmt.Fprintf(&b, "; to use one for %s from now on: ghlogin config set --host %s store %s", e.Host, c.HostValue(e.Host), e.Offers[0].Name)
	return safe.Text(b.String())
}

// safeLines applies safe.Text to each line of s.
func safeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = safe.Text(l)
	}
	return strings.Join(lines, "\n")
}

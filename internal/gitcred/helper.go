// Package gitcred is ghlogin's git credential helper: it answers get,
// store, erase and capability from the token store (`git help credential`).
// The reading of git's request, the host rule and the answer that needs no
// network live in package fast, which the lean git-credential-ghlogin
// binary shares; this package adds what needs more: refreshing a token,
// an interactive login on /dev/tty, erase's check with the API, and the
// sentences that explain a refusal.
//
// The helper hands a token only to a host that has an account, only over
// https (or http to a loopback host registered with an http URL, such as the
// emulator), never for a request missing its protocol or host
// (CVE-2020-11008), and never prints a value holding CR, LF or NUL. Malformed
// input gets no answer at all.
package gitcred

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/gitcred/fast"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/hint"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/internal/session/pick"
	"github.com/ghlogin/ghlogin/store"
)

// EnvTokenUser is the username sent with a token taken from the environment
// (GH_TOKEN and friends), as the GitHub CLI does; GitHub accepts any username
// with a token.
const EnvTokenUser = pick.EnvTokenUser

// The protocol's limits (see package fast).
const (
	MaxLineBytes  = fast.MaxLineBytes
	MaxInputBytes = fast.MaxInputBytes
)

// Request is one credential description read from git (fast.Request).
type Request = fast.Request

// ParseError is input that breaks the protocol (fast.ParseError).
type ParseError = fast.ParseError

// Parse reads a credential description strictly (fast.Parse).
func Parse(r io.Reader) (Request, error) { return fast.Parse(r) }

// Credential is what get answers (fast.Credential).
type Credential = fast.Credential

// SourceAgent is Credential.Source for a token a forwarded agent lent.
const SourceAgent = fast.SourceAgent

// CheckTimeout bounds the API call erase makes to confirm a token is invalid.
const CheckTimeout = 15 * time.Second

// Store is the part of *store.Store the helper uses. The configuration is
// read once per request (Config) and handed to ResolveIn and SecretIn, so a
// get parses the config file once.
type Store interface {
	Config() (*config.File, error)
	ResolveIn(cfg *config.File, host, login string) (store.Account, error)
	SecretIn(ctx context.Context, cfg *config.File, a store.Account) (*store.Secret, error)
	// Invalidate removes a rejected token but keeps the account, marked
	// with the reason, so that status shows it as invalid.
	Invalidate(ctx context.Context, host, login, reason string) error
}

// RefreshFunc returns the account's secret, refreshed first when it expires
// soon (see refresh.Token); sec is the secret just read. It returns
// *refresh.NeedsLoginError when only a new login can help. session.Session's
// Refresh method is one.
type RefreshFunc func(ctx context.Context, a store.Account, sec *store.Secret) (*store.Secret, error)

// PromptFunc runs an interactive login for host on the terminal (/dev/tty)
// and returns the login of the account it stored.
type PromptFunc func(ctx context.Context, host string) (login string, err error)

// CheckFunc asks host's API whether token still works. It returns a
// *githubapi.UnauthorizedError (HTTP 401, or 403 with invalid_token) when the
// token is not valid, nil
// when it is, and any other error when it could not tell. session.Session's
// CheckToken method is one.
type CheckFunc func(ctx context.Context, host, token string) error

// Helper answers git's credential requests from the token store.
//
// Tokens from the environment follow session.EnvToken, as the GitHub CLI
// reads them: for github.com, GH_TOKEN then GITHUB_TOKEN; for another host
// that ghlogin knows (it is in the config file) over https,
// GH_ENTERPRISE_TOKEN then GITHUB_ENTERPRISE_TOKEN. As with `ghlogin token`
// (without --user), they take precedence over the stored accounts when git
// names no account (or names x-access-token). They are sent with the
// username x-access-token and never handed to a host ghlogin does not know.
//
// The stored account is the one session.Resolve chooses: a username in the
// URL (https://alice@github.com/...) names it; else an owner binding
// matches the owner in the path git sends (with credential.useHttpPath,
// which setup-git sets) or in url=; else a directory binding holds the
// helper's working directory (git runs it where the command runs); else
// the host's active account.
type Helper struct {
	// Store holds the accounts; required.
	Store Store
	// Refresh refreshes expiring tokens; nil serves stored tokens as they are
	// (an expired one is treated as missing).
	Refresh RefreshFunc
	// Prompt runs an interactive login; nil means none is available.
	Prompt PromptFunc
	// Check confirms with the API that a token git wants erased is invalid;
	// nil means tokens are never erased.
	Check CheckFunc
	// RefreshRejected gets a new pair for an account whose token the API
	// has just refused, when it has a refresh token (erase then keeps the
	// account, and git's next request gets the new token); nil means such
	// a token is removed like any other.
	RefreshRejected RefreshFunc
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Stderr receives short explanations for the person running git; nil
	// discards them. Tokens never go there.
	Stderr io.Writer
	// Clock tells the time; nil means clock.Real.
	Clock clock.Clock
	// TerminalAvailable reports whether a terminal can be used for a
	// login; nil means "/dev/tty can be opened".
	TerminalAvailable func() bool
	// Getwd returns the working directory, for directory bindings; nil
	// means os.Getwd.
	Getwd func() (string, error)
	// Explain turns an error into the sentence written on Stderr; nil
	// means hint.Explain.
	Explain func(error) string
}

// Run performs one helper action as git invokes it: it reads the request from
// in (except for capability) and writes the answer to out. Problems are
// explained on Stderr and answered with nothing, so Run returns an error only
// when writing the answer failed; git expects exit status 0 either way.
// Unknown actions are ignored, as git asks of helpers.
func (h *Helper) Run(ctx context.Context, action string, in io.Reader, out io.Writer) error {
	if action == "capability" {
		_, err := io.WriteString(out, fast.Capability)
		return err
	}
	if action != "get" && action != "store" && action != "erase" {
		return nil
	}
	req, err := Parse(in)
	if err != nil {
		h.say("%s", h.explain(err))
		return nil
	}
	switch action {
	case "get":
		c, err := h.Get(ctx, req)
		if err != nil {
			h.say("%s", h.explain(err))
			return nil
		}
		if c == nil {
			return nil
		}
		return fast.WriteCredential(out, c)
	case "erase":
		if err := h.Erase(ctx, req); err != nil {
			h.say("%s", h.explain(err))
		}
	}
	// store: ghlogin's tokens are already stored, and tokens from other
	// sources are never stored by this helper.
	return nil
}

// NotLoggedInError is a get for a host ghlogin knows but holds no usable
// token for, with no way to log in from here.
type NotLoggedInError struct {
	Host  string
	Login string // the account git asked for, if any
	// Login command to run.
	Command string
	// Why replaces the default "no token for ..." when there is more to
	// say (for example a login that was for another account).
	Why string
}

func (e *NotLoggedInError) Error() string {
	who := e.Host
	if e.Login != "" {
		who = e.Login + "@" + e.Host
	}
	msg := "no token for " + who
	if e.Why != "" {
		msg = e.Why
	}
	return fmt.Sprintf("%s; to log in, run: %s", msg, e.Command)
}

// checkTarget is fast.CheckTarget on the helper's store.
func (h *Helper) checkTarget(req Request) (fast.Target, *config.File, bool, error) {
	return fast.CheckTarget(h.Store, req)
}

// Get answers a get request: the credential, or nil when ghlogin has nothing
// to say for this request. An error explains why no credential could be
// given for a host ghlogin knows (it is meant for the person, on stderr).
//
// Where the token comes from is pick.Find's rule: a forwarded agent
// (ghlogin ssh) first, then the environment, then the store. What needs no
// network is fast.Get's; the rest (a token due for refresh, no token, a
// login) is done here from where it stopped. A token from the agent is
// written nowhere here.
func (h *Helper) Get(ctx context.Context, req Request) (*Credential, error) {
	r := fast.Get(ctx, fast.Env{Store: h.Store, Getenv: h.getenv, Getwd: h.Getwd, Now: h.now}, req)
	switch r.Outcome {
	case fast.Answered:
		return r.Credential, nil
	case fast.Nothing:
		return nil, nil
	case fast.Failed:
		return nil, r.Err
	}
	t := r.Target
	switch r.Stage {
	case fast.StageTarget:
		return nil, r.Err
	case fast.StageResolve:
		var nl *store.NotLoggedInError
		var be *pick.BindingError
		switch {
		case errors.As(r.Err, &be):
			// The binding's account is gone: say so rather than hand
			// this repository another account's token.
			return nil, r.Err
		case !errors.As(r.Err, &nl):
			return nil, fmt.Errorf("reading the accounts for %s: %w", t.Name, r.Err)
		}
		return h.login(ctx, t, req.Username, nil)
	}
	expect := req.Username
	if r.Choice.Reason != pick.ReasonActive {
		// A login run below must be for the account a binding chose.
		expect = r.Choice.Login
	}
	err := r.Err
	switch {
	case r.Stage == fast.StageDue:
		c, serr := h.serve(ctx, r.Choice.Account, r.Secret)
		if c != nil || serr == nil {
			return c, serr
		}
		err = serr
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("reading the token for %s@%s: %w", r.Choice.Login, r.Choice.Host, err)
	}
	var cause error
	var nl *refresh.NeedsLoginError
	if errors.As(err, &nl) {
		if nl.LoginHost == "" {
			nl.LoginHost = t.URL
		}
		cause = err
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	// A login kept in memory (the kernel keyring) that is gone: say so.
	var gone *store.NotLoggedInError
	if errors.As(err, &gone) && gone.Gone {
		cause = err
	}
	if r.Refused != nil {
		// The agent was asked and does not lend this host: no login
		// starts here, and its refusal says what to do.
		_, err := pick.Settle(nil, cause, r.Refused)
		return nil, err
	}
	return h.login(ctx, t, expect, cause)
}

// stored reads the account's secret and serves it (see serve).
func (h *Helper) stored(ctx context.Context, file *config.File, a store.Account) (*Credential, error) {
	sec, err := h.Store.SecretIn(ctx, file, a)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("reading the token for %s@%s: %w", a.Login, a.Host, err)
	}
	if sec == nil || sec.Token == "" {
		return nil, store.ErrNotFound
	}
	return h.serve(ctx, a, sec)
}

// serve returns the account's token sec, refreshed when due. A nil
// credential with a nil error cannot happen; a token that is expired and
// cannot be refreshed is a *refresh.NeedsLoginError.
func (h *Helper) serve(ctx context.Context, a store.Account, sec *store.Secret) (*Credential, error) {
	now := h.now()
	if h.Refresh != nil {
		fresh, err := h.Refresh(ctx, a, sec)
		switch {
		case err == nil && fresh != nil && fresh.Token != "":
			sec = fresh
		case err == nil:
		default:
			var nl *refresh.NeedsLoginError
			if errors.As(err, &nl) || !stillValid(sec, now) {
				return nil, err
			}
			// A transient failure with a token that still works for a
			// few minutes: use it, and say why it was not refreshed.
			h.say("could not refresh the token for %s@%s (%s); using the current one", a.Login, a.Host, h.explain(err))
		}
	}
	if !stillValid(sec, now) {
		return nil, &refresh.NeedsLoginError{Host: a.Host, Login: a.Login, Reason: "the token has expired"}
	}
	return &Credential{Username: a.Login, Password: sec.Token, Expiry: sec.ExpiresAt, Source: "store"}, nil
}

func stillValid(sec *store.Secret, now time.Time) bool {
	return sec.ExpiresAt.IsZero() || now.Before(sec.ExpiresAt)
}

// login runs the interactive login when allowed, or explains how to log in
// (with cause, the reason there is no usable token, when there is one).
func (h *Helper) login(ctx context.Context, t fast.Target, username string, cause error) (*Credential, error) {
	cmd := "ghlogin login --host " + t.URL
	if h.canPrompt(t) {
		login, err := h.Prompt(ctx, t.Name)
		if err != nil {
			return nil, fmt.Errorf("logging in to %s: %w", t.Name, err)
		}
		if username != "" && login != username {
			return nil, &NotLoggedInError{Host: t.Name, Login: username, Command: cmd,
				Why: fmt.Sprintf("this repository needs the account %q but the login was for %q", username, login)}
		}
		file, err := h.Store.Config()
		if err != nil {
			return nil, err
		}
		choice, err := pick.Resolve(h.Store, file, t.Name, pick.Query{User: login})
		if err != nil {
			return nil, err
		}
		c, err := h.stored(ctx, file, choice.Account)
		if err != nil {
			return nil, err
		}
		c.Source = "login"
		return c, nil
	}
	if cause != nil {
		return nil, cause
	}
	return nil, &NotLoggedInError{Host: t.Name, Login: username, Command: cmd}
}

func (h *Helper) canPrompt(t fast.Target) bool {
	if h.Prompt == nil || h.getenv("GIT_TERMINAL_PROMPT") == "0" {
		return false
	}
	if t.Host != nil && t.Host.GitPrompt != nil && !*t.Host.GitPrompt {
		return false
	}
	if h.TerminalAvailable != nil {
		return h.TerminalAvailable()
	}
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// Erase handles git's erase: the stored token is removed only when it is the
// one git sent and the host's API confirms it is no longer valid (HTTP 401,
// or 403 with error="invalid_token": githubapi.IsUnauthorized). A 403 asking
// for SAML single sign-on is not a dead token.
// A token that still works is kept, since git also erases after a 403 or 404
// on a repository the account cannot see; when the API cannot be reached the
// token is kept too. Tokens ghlogin does not hold are ignored.
func (h *Helper) Erase(ctx context.Context, req Request) error {
	if req.Password == "" {
		return nil
	}
	t, file, ok, err := h.checkTarget(req)
	if err != nil || !ok || t.Host == nil {
		return err
	}
	choice, err := pick.Resolve(h.Store, file, t.Name, fast.QueryFor(req, t, h.Getwd))
	if err != nil {
		return nil // no such account: nothing of ours to erase
	}
	acct := choice.Account
	sec, err := h.Store.SecretIn(ctx, file, acct)
	if err != nil || sec == nil || sec.Token == "" {
		return nil
	}
	if subtle.ConstantTimeCompare([]byte(sec.Token), []byte(req.Password)) != 1 {
		return nil // not our current token (perhaps one already refreshed)
	}
	now := h.now()
	if refresh.CanRefresh(sec, now) && refresh.Due(sec, now, refresh.DefaultSkew) {
		// An expiring token with a usable refresh token: the next get
		// refreshes it, so keep the account.
		return nil
	}
	if h.Check == nil {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	err = h.Check(cctx, t.Name, sec.Token)
	switch {
	case err == nil:
		return nil // the token works: git was refused for another reason
	case githubapi.IsUnauthorized(err):
		// The reason says what the server answered (401, or 403 with
		// invalid_token).
		var ue *githubapi.UnauthorizedError
		errors.As(err, &ue)
		if sec.RefreshToken != "" && h.RefreshRejected != nil {
			fresh, rerr := h.RefreshRejected(ctx, acct, sec)
			var nl *refresh.NeedsLoginError
			switch {
			case rerr == nil && fresh != nil && fresh.Token != sec.Token:
				h.say("the token for %s@%s was refused by %s and has been refreshed; run the git command again", acct.Login, acct.Host, t.Name)
				return nil
			case rerr != nil && !errors.As(rerr, &nl):
				return fmt.Errorf("the token for %s@%s was refused by %s and refreshing it failed (%s); the token was kept", acct.Login, acct.Host, t.Name, h.explain(rerr))
			}
		}
		if err := h.Store.Invalidate(ctx, acct.Host, acct.Login, ue.Error()); err != nil {
			return fmt.Errorf("the token for %s@%s was rejected by %s, but removing it failed: %w", acct.Login, acct.Host, t.Name, err)
		}
		h.say("the token for %s@%s was revoked or has expired and has been removed; to log in again, run: ghlogin login --host %s", acct.Login, acct.Host, t.URL)
		return nil
	default:
		return fmt.Errorf("git reported the token for %s@%s as rejected, but checking it failed (%s); the token was kept", acct.Login, acct.Host, h.explain(err))
	}
}

// explain is Explain, or hint.Explain.
func (h *Helper) explain(err error) string {
	if h.Explain != nil {
		return h.Explain(err)
	}
	return hint.Explain(err)
}

func (h *Helper) say(format string, args ...any) {
	if h.Stderr == nil {
		return
	}
	fmt.Fprintf(h.Stderr, "ghlogin: "+format+"\n", args...)
}

func (h *Helper) getenv(k string) string {
	if h.Getenv == nil {
		return os.Getenv(k)
	}
	return h.Getenv(k)
}

func (h *Helper) now() time.Time { return clock.Or(h.Clock).Now() }

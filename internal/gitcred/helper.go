package gitcred

import (
	"bufio"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/gitrepo"
	"github.com/ghlogin/ghlogin/internal/hint"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/store"
)

// EnvTokenUser is the username sent with a token taken from the environment
// (GH_TOKEN and friends), as the GitHub CLI does; GitHub accepts any username
// with a token.
const EnvTokenUser = session.EnvTokenUser

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

// Credential is what get answers.
type Credential struct {
	Username string
	// Password is the token. Never log it.
	Password string
	// Expiry is when the token expires; zero when it does not.
	Expiry time.Time
	// Source is "store", "login" (a login run by the helper just now) or
	// the name of the environment variable the token came from.
	Source string
}

// String never shows the token.
func (c *Credential) String() string {
	if c == nil {
		return "<nil credential>"
	}
	return fmt.Sprintf("gitcred.Credential{username=%q source=%s expiry=%s}", c.Username, c.Source, c.Expiry.Format(time.RFC3339))
}

// GoString hides the token from %#v too.
func (c *Credential) GoString() string { return c.String() }

// Run performs one helper action as git invokes it: it reads the request from
// in (except for capability) and writes the answer to out. Problems are
// explained on Stderr and answered with nothing, so Run returns an error only
// when writing the answer failed; git expects exit status 0 either way.
// Unknown actions are ignored, as git asks of helpers.
func (h *Helper) Run(ctx context.Context, action string, in io.Reader, out io.Writer) error {
	if action == "capability" {
		// ghlogin supports none of the optional capabilities (authtype,
		// state); announcing the protocol version tells git so.
		_, err := io.WriteString(out, "version 0\n")
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
		return writeCredential(out, c)
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

// target is a request that passed the protocol and host checks.
type target struct {
	name string       // normalized host
	url  string       // host as --host takes it (http:// prefix for http)
	cfg  *config.Host // nil when the host is not in the config
}

// checkTarget validates protocol and host. It returns ok=false (answer
// nothing, say nothing) for anything ghlogin must not answer.
func (h *Helper) checkTarget(req Request) (t target, file *config.File, ok bool, err error) {
	if req.Protocol == "" || req.Host == "" {
		return t, nil, false, nil // never a wildcard (CVE-2020-11008)
	}
	proto := req.Protocol
	if proto != "https" && proto != "http" {
		return t, nil, false, nil
	}
	name := hosts.Normalize(req.Host, proto)
	if name == "" {
		return t, nil, false, nil
	}
	file, err = h.Store.Config()
	if err != nil {
		return t, nil, false, fmt.Errorf("reading the configuration: %w", err)
	}
	t = target{name: name, url: name}
	if file != nil {
		t.cfg = file.Hosts[name]
	}
	if proto == "http" {
		if t.cfg == nil || !hosts.IsLoopback(name) || !strings.EqualFold(t.cfg.Protocol, "http") {
			return t, file, false, nil
		}
		t.url = "http://" + name
	}
	return t, file, true, nil
}

// Get answers a get request: the credential, or nil when ghlogin has nothing
// to say for this request. An error explains why no credential could be
// given for a host ghlogin knows (it is meant for the person, on stderr).
//
// Where the token comes from is session.Find's rule: a forwarded agent
// (ghlogin ssh) first, then the environment, then the store. A token from
// the agent is written nowhere here.
func (h *Helper) Get(ctx context.Context, req Request) (*Credential, error) {
	t, file, ok, err := h.checkTarget(req)
	if err != nil || !ok {
		return nil, err
	}
	user := req.Username
	if user == EnvTokenUser {
		user = ""
	}
	scheme := "https"
	if strings.HasPrefix(t.url, "http://") {
		scheme = "http"
	}
	q := h.query(req, t)
	l := session.Lookup{Host: hosts.Host{Name: t.name, Scheme: scheme}, Origin: session.OriginGit, Known: t.cfg != nil, Owner: q.Owner, User: user, Purpose: agent.PurposeGit}
	var fromStore *Credential
	tok, err := session.Find(ctx, h.getenv, l, func(ctx context.Context, refused error) (*session.Token, error) {
		c, err := h.fromStore(ctx, t, file, req, q, refused)
		if c == nil {
			return nil, err
		}
		fromStore = c
		return &session.Token{Secret: &store.Secret{Token: c.Password, ExpiresAt: c.Expiry}}, nil
	})
	switch {
	case err != nil || tok == nil:
		return nil, err
	case fromStore != nil:
		return fromStore, nil
	case tok.Env != "":
		return &Credential{Username: EnvTokenUser, Password: tok.Secret.Token, Source: tok.Env}, nil
	}
	return &Credential{Username: tok.Account.Login, Password: tok.Secret.Token, Expiry: tok.Secret.ExpiresAt, Source: SourceAgent}, nil
}

// SourceAgent is Credential.Source for a token a forwarded agent lent.
const SourceAgent = "agent"

// fromStore is Get's store step: the chosen account's token, refreshed
// when due, or an interactive login when there is none (not after the
// agent refused the host: then refused is the answer).
func (h *Helper) fromStore(ctx context.Context, t target, file *config.File, req Request, q session.Query, refused error) (*Credential, error) {
	if t.cfg == nil && t.name != hosts.GitHub {
		return nil, refused // a host ghlogin has never seen
	}
	var cause error
	choice, err := session.Resolve(h.Store, file, t.name, q)
	expect := req.Username
	if err == nil && choice.Reason != session.ReasonActive {
		// A login run below must be for the account a binding chose.
		expect = choice.Login
	}
	if err == nil {
		c, err := h.stored(ctx, file, choice.Account)
		if c != nil || err == nil {
			return c, err
		}
		var nl *refresh.NeedsLoginError
		if !errors.As(err, &nl) && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if errors.As(err, &nl) {
			if nl.LoginHost == "" {
				nl.LoginHost = t.url
			}
			cause = err
		}
		// A login kept in memory (the kernel keyring) that is gone: say so.
		var gone *store.NotLoggedInError
		if errors.As(err, &gone) && gone.Gone {
			cause = err
		}
	} else {
		var nl *store.NotLoggedInError
		var be *session.BindingError
		switch {
		case errors.As(err, &be):
			// The binding's account is gone: say so rather than hand
			// this repository another account's token.
			return nil, err
		case !errors.As(err, &nl):
			return nil, fmt.Errorf("reading the accounts for %s: %w", t.name, err)
		}
	}
	if refused != nil {
		// The agent was asked and does not lend this host: no login
		// starts here, and its refusal says what to do.
		if cause != nil {
			return nil, cause
		}
		return nil, refused
	}
	return h.login(ctx, t, expect, cause)
}

// query is what a request tells the resolver: the username git sends
// (x-access-token names nobody), the owner in the path (present when
// credential.useHttpPath is set, or with url=), and the working directory.
func (h *Helper) query(req Request, t target) session.Query {
	q := session.Query{Owner: gitrepo.OwnerOfPath(req.Path)}
	if req.Username != "" && req.Username != EnvTokenUser {
		q.User, q.UserFrom = req.Username, session.UserFromGit
	}
	if t.cfg != nil && len(t.cfg.DirBindings) > 0 {
		// Only a host with directory bindings pays for reading the
		// working directory.
		getwd := h.Getwd
		if getwd == nil {
			getwd = os.Getwd
		}
		if d, err := getwd(); err == nil {
			q.Dir = d
		}
	}
	return q
}

// stored returns the account's token, refreshed when due. A nil credential
// with a nil error cannot happen; a token that is expired and cannot be
// refreshed is a *refresh.NeedsLoginError.
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
func (h *Helper) login(ctx context.Context, t target, username string, cause error) (*Credential, error) {
	cmd := "ghlogin login --host " + t.url
	if h.canPrompt(t) {
		login, err := h.Prompt(ctx, t.name)
		if err != nil {
			return nil, fmt.Errorf("logging in to %s: %w", t.name, err)
		}
		if username != "" && login != username {
			return nil, &NotLoggedInError{Host: t.name, Login: username, Command: cmd,
				Why: fmt.Sprintf("this repository needs the account %q but the login was for %q", username, login)}
		}
		file, err := h.Store.Config()
		if err != nil {
			return nil, err
		}
		choice, err := session.Resolve(h.Store, file, t.name, session.Query{User: login})
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
	return nil, &NotLoggedInError{Host: t.name, Login: username, Command: cmd}
}

func (h *Helper) canPrompt(t target) bool {
	if h.Prompt == nil || h.getenv("GIT_TERMINAL_PROMPT") == "0" {
		return false
	}
	if t.cfg != nil && t.cfg.GitPrompt != nil && !*t.cfg.GitPrompt {
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
	if err != nil || !ok || t.cfg == nil {
		return err
	}
	choice, err := session.Resolve(h.Store, file, t.name, h.query(req, t))
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
	err = h.Check(cctx, t.name, sec.Token)
	switch {
	case err == nil:
		return nil // the token works: git was refused for another reason
	case githubapi.IsUnauthorized(err):
		// The reason says what the server answered (401, or 403 with
		// invalid_token).
		var ue *githubapi.UnauthorizedError
		errors.As(err, &ue)
		if err := h.Store.Invalidate(ctx, acct.Host, acct.Login, ue.Error()); err != nil {
			return fmt.Errorf("the token for %s@%s was rejected by %s, but removing it failed: %w", acct.Login, acct.Host, t.name, err)
		}
		h.say("the token for %s@%s was revoked or has expired and has been removed; to log in again, run: ghlogin login --host %s", acct.Login, acct.Host, t.url)
		return nil
	default:
		return fmt.Errorf("git reported the token for %s@%s as rejected, but checking it failed (%s); the token was kept", acct.Login, acct.Host, h.explain(err))
	}
}

// writeCredential prints c as git expects, refusing any value that could
// inject another attribute.
func writeCredential(out io.Writer, c *Credential) error {
	if !safeValue(c.Username) || !safeValue(c.Password) {
		return nil
	}
	w := bufio.NewWriter(out)
	w.WriteString("username=" + c.Username + "\n")
	w.WriteString("password=" + c.Password + "\n")
	if !c.Expiry.IsZero() {
		w.WriteString("password_expiry_utc=" + strconv.FormatInt(c.Expiry.Unix(), 10) + "\n")
	}
	return w.Flush()
}

// safeValue reports whether v can be written as one attribute value.
func safeValue(v string) bool {
	return v != "" && len(v) < MaxLineBytes-64 && !strings.ContainsAny(v, "\r\n\x00")
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

func (h *Helper) now() time.Time {
	if h.Clock == nil {
		return time.Now()
	}
	return h.Clock.Now()
}

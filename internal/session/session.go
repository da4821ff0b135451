// Package session is ghlogin's application layer: the rules every command and
// the git helper share, each written once.
//
//   - Which host a command acts on, and what it knows about it (ResolveHost):
//     a --host value, an --issuer's host or the default host, merged with
//     the configuration (endpoints, OAuth client, scopes, store) and the
//     environment; an OpenID Connect host's endpoints, default scopes and
//     PKCE methods from its issuer's discovery document (cached; Discover
//     reads it from the server).
//   - Which token from the environment applies to a host (EnvToken).
//   - Which stored account a request uses (Resolve): the named account, an
//     owner binding, a directory binding, or the active account; and what
//     a command knows about where it runs (Here). Bindings are kept and
//     listed here too (Bind, Unbind, Bindings).
//   - The token a command hands out, or the ID token, refreshed when due
//     (Session.Token, Session.TokenWith, Session.Refresh).
//   - Where a login keeps its token when the store in force is unavailable
//     here: ask on a terminal, remember the answer per host, fail without
//     one (Session.CheckStore).
//   - One login in flight per host across processes, and what a login
//     that waited for another reports (Session.BeginLogin).
//   - A login's identify-and-save, as one store transaction
//     (Session.SaveLogin, Session.SaveToken; on an OpenID Connect host the
//     verified ID token names the account).
//   - A new login for an existing account with other scopes
//     (Session.PlanRescope, Session.SaveRescope).
//   - Logging out: the token revoked on its server where it allows it,
//     then removed (Session.Logout).
//   - Every host and account, classified (Session.Status): a 401, or a 403
//     with invalid_token, is a dead token; GitHub's SAML 403 is not.
//
// A Session holds the dependencies those rules need (environment, HTTP
// client, clock, the token store); the command line
// (internal/cli) and the git helper (internal/gitcred) build one and call it.
// The package never prints and never imports a user interface: its errors are
// typed values that the command line turns into sentences naming flags.
package session

import (
	"context"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/store/oskeyring"
)

// Timeouts of the API calls a session makes.
const (
	// IdentifyTimeout bounds the call that asks who a new token belongs to.
	IdentifyTimeout = 15 * time.Second
	// CheckTimeout bounds the call status makes to ask whether a stored
	// token still works.
	CheckTimeout = 10 * time.Second
	// EraseCheckTimeout bounds the same call when git reports a token as
	// rejected (CheckToken): a wrong answer there removes a token.
	EraseCheckTimeout = 15 * time.Second
)

// Session holds what the rules depend on. The zero value works on the
// process's environment and the real clock; set the fields to inject others.
// A Session is safe for concurrent use once its fields are set.
type Session struct {
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// HTTPClient makes every network call; nil means the oauth and
	// githubapi packages' defaults (each call has its own timeout).
	HTTPClient *http.Client
	// Clock tells the time; nil means clock.Real.
	Clock clock.Clock
	// UserAgent is sent with every request ("ghlogin/VERSION").
	UserAgent string
	// Keyring is the OS keyring the store uses; nil means oskeyring.Keyring.
	Keyring store.Keyring
	// Backends are added to the token store's own, replacing those of the
	// same name (store.Options.Backends): tests act out a kernel keyring
	// that works or that the kernel refuses.
	Backends []store.Backend
	// OpenStore opens the token store; nil opens it in ConfigDir with
	// Keyring and Backends. It is called once, on first use.
	OpenStore func() (*store.Store, error)
	// Describe turns an error into the sentence a person reads, where the
	// session reports errors as text (a status report); nil means
	// err.Error(). The command line passes hint.Explain.
	Describe func(error) string
	// Getwd returns the working directory, where directory bindings and
	// the origin remote are looked up; nil means os.Getwd.
	Getwd func() (string, error)
	// GitOrigin returns the URL of the origin remote of the work tree
	// holding dir, or "" (no git, no work tree, no origin); nil runs git
	// once (gitrepo.Origin).
	GitOrigin func(ctx context.Context, dir string) string

	mu sync.Mutex
	st *store.Store
	// lists are forwarded agents' answers to a list request, by socket
	// (agentList).
	lists map[string]agentListing
}

// Store returns the token store, opening it on first use.
func (s *Session) Store() (*store.Store, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st != nil {
		return s.st, nil
	}
	open := s.OpenStore
	if open == nil {
		open = func() (*store.Store, error) {
			dir, err := s.ConfigDir()
			if err != nil {
				return nil, err
			}
			kr := s.Keyring
			if kr == nil {
				kr = oskeyring.Keyring{}
			}
			return store.Open(store.Options{Dir: dir, Keyring: kr, Clock: s.Clock, Backends: s.Backends})
		}
	}
	st, err := open()
	if err != nil {
		return nil, err
	}
	s.st = st
	return st, nil
}

// Config opens the store (Store) and reads the configuration file through
// it, for callers that need both.
func (s *Session) Config() (*store.Store, *config.File, error) {
	st, err := s.Store()
	if err != nil {
		return nil, nil, err
	}
	cfg, err := st.Config()
	if err != nil {
		return nil, nil, err
	}
	return st, cfg, nil
}

// ConfigDir returns the config directory: GHLOGIN_CONFIG_DIR read through
// Getenv, else the OS default (config.Dir).
func (s *Session) ConfigDir() (string, error) {
	return config.DirFrom(s.getenv)
}

// Now returns the clock's time.
func (s *Session) Now() time.Time { return s.clock().Now() }

func (s *Session) clock() clock.Clock { return clock.Or(s.Clock) }

// describe is Describe, or err.Error().
func (s *Session) describe(err error) string {
	if s.Describe == nil {
		return err.Error()
	}
	return s.Describe(err)
}

func (s *Session) getenv(k string) string {
	if s.Getenv == nil {
		return os.Getenv(k)
	}
	return s.Getenv(k)
}

// oauthClient is the client for OAuth endpoints.
func (s *Session) oauthClient() *oauth.Client {
	return &oauth.Client{HTTPClient: s.HTTPClient, UserAgent: s.UserAgent}
}

// apiClient is the client for API calls, each bounded by timeout.
func (s *Session) apiClient(timeout time.Duration) *githubapi.Client {
	return &githubapi.Client{HTTPClient: s.HTTPClient, Timeout: timeout, UserAgent: s.UserAgent}
}

package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/oidcdisc"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
)

// Token states in a status report (AccountStatus.State).
const (
	// StateValid: the API accepted the token.
	StateValid = "valid"
	// StateInvalid: the API rejected the token (HTTP 401, or 403 with
	// error="invalid_token"), or it expired and cannot be refreshed, or its
	// secret is missing or unreadable.
	StateInvalid = "invalid"
	// StateSSORequired: the token works, but GitHub wants it authorized for
	// an organisation's SAML single sign-on before it may be used there
	// (HTTP 403 with X-GitHub-SSO).
	StateSSORequired = "sso_required"
	// StateUnreachable: the API or the keyring could not be asked.
	StateUnreachable = "unreachable"
	// StateRefused: the API answered but refused the request for a reason
	// that does not say the token is dead (HTTP 403 without invalid_token
	// or single sign-on, or another 4xx): the token is kept.
	StateRefused = "refused"
	// StateUnreadable: the store that holds the token cannot be used as
	// it is (credentials.json open to other users, or damaged); the token
	// itself may be fine. The report's Problems say why, once.
	StateUnreadable = "unreadable"
	// StateExpired: the token expired and will be refreshed when next used.
	StateExpired = "expired"
	// StateUnchecked: not checked (offline, or the host has no endpoint to
	// check with).
	StateUnchecked = "unchecked"
)

// StatusReport is every host and account, as `status --json` prints it.
type StatusReport struct {
	Hosts []*HostStatus `json:"hosts"`
	// Problems are what is wrong with a store that holds several accounts'
	// tokens (each said once, not per account).
	Problems []string `json:"problems,omitempty"`
	// Agent is the forwarded agent (ghlogin ssh) this process asks first;
	// absent when there is none.
	Agent *AgentStatus `json:"agent,omitempty"`
	// Filter is the host the report was limited to ("" for all).
	Filter string `json:"-"`
}

// HostStatus is one host in a status report.
type HostStatus struct {
	Host string `json:"host"`
	// Kind is the kind of server: "github", "oidc" or "oauth".
	Kind string `json:"kind"`
	// Endpoints are the host's endpoints and where each came from (flag
	// is never one here): setting, discovery or default.
	Endpoints []oidcdisc.Endpoint `json:"endpoints"`
	// EnvToken names the environment variable whose token is used instead
	// of the stored ones, or is null.
	EnvToken *string         `json:"env_token"`
	Accounts []AccountStatus `json:"accounts"`
	// Bindings are the host's owner and directory bindings.
	Bindings []BindingInfo `json:"bindings"`
	// Here is the account a command run in the current directory uses
	// on the host (null when the report was not asked for it).
	Here *HereStatus `json:"here"`
	// Forwarded are the accounts a forwarded agent lends for the host,
	// used before the environment's token and the ones stored here.
	Forwarded []ForwardedAccount `json:"forwarded,omitempty"`
}

// HereStatus is the account a command run in the current directory uses
// on a host, and why.
type HereStatus struct {
	Host string `json:"host"`
	// Dir is the working directory.
	Dir string `json:"dir"`
	// Owner is the repository owner known here (--repo or the origin
	// remote), or "".
	Owner string `json:"owner"`
	// Login is the account used ("" when none: see EnvToken and Error).
	Login string `json:"login"`
	// Reason is a Reason constant, "env" when a token from the
	// environment is used, or "" when no account applies.
	Reason string `json:"reason"`
	// Why says it in a sentence ("owner my-org is bound to alice-work").
	Why string `json:"why"`
	// Short says it in a few words ("owner my-org").
	Short string `json:"-"`
	// EnvToken names the environment variable whose token is used.
	EnvToken string `json:"env_token,omitempty"`
	// Error says why no account applies.
	Error string `json:"error,omitempty"`
}

// ReasonEnv is HereStatus.Reason when a token from the environment is used.
const ReasonEnv = "env"

// AccountStatus is one account in a status report. It never holds a token.
type AccountStatus struct {
	Login string `json:"login"`
	// DisplayName is the owner's name when it is not the login (server
	// text, sanitised when stored).
	DisplayName string `json:"display_name,omitempty"`
	Active      bool   `json:"active"`
	Store       string `json:"store"`
	// PlaintextAtRest is true when the store writes the token to disk
	// unencrypted (the file store).
	PlaintextAtRest bool `json:"plaintext_at_rest"`
	// KeptUntil says how long the store keeps the token, when it forgets
	// it on its own (the kernel keyring: "until the machine restarts, or
	// after 3 days unused"); "" otherwise.
	KeptUntil string `json:"kept_until,omitempty"`
	// Place is where the token is kept, for people: the kernel keyring,
	// the credentials file's path (store.StoreInfo.Place).
	Place  string   `json:"-"`
	Scopes []string `json:"scopes"`
	// RequestedScopes are the scopes the login asked for, when the server
	// granted others (absent when they are the same).
	RequestedScopes []string   `json:"requested_scopes,omitempty"`
	TokenType       string     `json:"token_type,omitempty"`
	ExpiresAt       *time.Time `json:"expires_at"`
	// State is one of the State constants.
	State string `json:"state"`
	// Error says why the state is not valid.
	Error string `json:"error,omitempty"`
}

// AnyInvalid reports whether an account's token is invalid, or a store
// cannot be used.
func (r *StatusReport) AnyInvalid() bool {
	return len(r.Problems) > 0 || r.NeedsLogin()
}

// NeedsLogin reports whether an account needs a new login: its token is
// invalid, or its secret is gone (a kernel keyring login after a restart).
func (r *StatusReport) NeedsLogin() bool {
	for _, h := range r.Hosts {
		for _, a := range h.Accounts {
			if a.State == StateInvalid {
				return true
			}
		}
	}
	return false
}

// MissingBindings lists the bindings whose account the host does not have.
func (r *StatusReport) MissingBindings() []BindingInfo {
	var out []BindingInfo
	for _, h := range r.Hosts {
		for _, b := range h.Bindings {
			if b.Missing {
				out = append(out, b)
			}
		}
	}
	return out
}

// AddHere fills each host's Here in rep: the account a command run at p
// uses there.
func (s *Session) AddHere(rep *StatusReport, p Place) error {
	_, cfg, err := s.Config()
	if err != nil {
		return err
	}
	for _, hs := range rep.Hosts {
		t, err := s.storedTarget(cfg, hs.Host)
		if err != nil {
			return err
		}
		if hs.Here, err = s.HereStatus(t, p.Query(hs.Host, "")); err != nil {
			return err
		}
		if len(hs.Forwarded) > 0 {
			hs.Here = forwardedHere(rep.Agent, hs, hs.Here)
		}
	}
	return nil
}

// HereStatus says which account t's commands use for q (see Here) and why,
// without reading any secret: a token from the environment, a binding (one
// naming a missing account is reported in Error), or the active account.
func (s *Session) HereStatus(t *Target, q Query) (*HereStatus, error) {
	st, cfg, err := s.Config()
	if err != nil {
		return nil, err
	}
	hs := &HereStatus{Host: t.Host.Name, Dir: q.Dir, Owner: q.Owner}
	if q.User == "" {
		if _, v := s.EnvToken(t); v != "" {
			hs.Reason, hs.EnvToken = ReasonEnv, v
			hs.Why = v + " is set: its token is used instead of any stored one"
			hs.Short = v
			return hs, nil
		}
	}
	c, err := Resolve(st, cfg, t.Host.Name, q)
	if err != nil {
		hs.Error = s.describe(err)
		return hs, nil
	}
	hs.Login, hs.Reason, hs.Why, hs.Short = c.Login, c.Reason, c.Why(), c.Short()
	return hs, nil
}

// Status reports every host with an account or an environment token (or
// only host, a --host value, when it is not ""), and every account with its
// token's state. Unless offline, each token is checked with its host's API,
// all at once; offline, a secret kept in memory (the kernel keyring) is
// only looked up, so a login gone after a restart is still said.
func (s *Session) Status(ctx context.Context, host string, offline bool) (*StatusReport, error) {
	st, cfg, err := s.Config()
	if err != nil {
		return nil, err
	}
	filter := ""
	filterOrigin := OriginDefault
	var filterHost hosts.Host
	if host != "" {
		h, origin, err := s.ParseHost(host, cfg)
		if err != nil {
			return nil, err
		}
		filter, filterOrigin, filterHost = h.Name, origin, h
	}
	accts, err := st.Accounts(filter)
	if err != nil {
		return nil, err
	}
	rep := &StatusReport{Hosts: []*HostStatus{}, Filter: filter}
	byHost := map[string]*HostStatus{}
	addHost := func(name string) *HostStatus {
		if hs, ok := byHost[name]; ok {
			return hs
		}
		hs := &HostStatus{Host: name, Accounts: []AccountStatus{}, Bindings: bindingInfos(cfg, name)}
		byHost[name] = hs
		rep.Hosts = append(rep.Hosts, hs)
		return hs
	}
	for _, ac := range accts {
		addHost(ac.Host)
	}
	// A host whose accounts are gone still shows its bindings: they now
	// name missing accounts.
	for _, name := range cfg.HostNames() {
		if (filter == "" || filter == name) && cfg.Hosts[name].HasBindings() {
			addHost(name)
		}
	}
	// Environment tokens are reported even for hosts with no stored
	// account: github.com's and the default host's, or the named host's.
	envFor := func(h hosts.Host, origin Origin) *string {
		if _, v := EnvToken(s.getenv, h, origin, cfg.Host(h.Name) != nil); v != "" {
			return &v
		}
		return nil
	}
	// A configured host's scheme is the one its protocol setting chooses.
	known := func(name string) hosts.Host {
		h, _, _, err := cfg.Lookup(name)
		if err != nil {
			return hosts.Host{Name: name, Scheme: "https"}
		}
		return h
	}
	envHosts := []hosts.Host{filterHost}
	if filter == "" {
		envHosts = []hosts.Host{known(hosts.GitHub)}
		if h, _, err := s.ParseHost("", cfg); err == nil && h.Name != hosts.GitHub {
			envHosts = append(envHosts, h)
		}
	}
	for _, h := range envHosts {
		if v := envFor(h, filterOrigin); v != nil {
			addHost(h.Name).EnvToken = v
		}
	}
	var forwarded map[string][]ForwardedAccount
	rep.Agent, forwarded = s.forwardedStatus(ctx, filter)
	for name, accts := range forwarded {
		addHost(name).Forwarded = accts
	}
	for _, hs := range rep.Hosts {
		if hs.EnvToken == nil {
			hs.EnvToken = envFor(known(hs.Host), OriginConfig)
		}
	}
	sort.Slice(rep.Hosts, func(i, j int) bool { return rep.Hosts[i].Host < rep.Hosts[j].Host })
	for _, hs := range rep.Hosts {
		hs.Kind, hs.Endpoints = config.KindGitHub.String(), []oidcdisc.Endpoint{}
		if t, err := s.storedTarget(cfg, hs.Host); err == nil {
			hs.Kind, hs.Endpoints = t.Kind().String(), t.Endpoints.List
		}
	}

	results := make([]AccountStatus, len(accts))
	problems := make([]string, len(accts))
	var wg sync.WaitGroup
	for i, ac := range accts {
		info := st.Describe(ac.Store)
		results[i] = AccountStatus{Login: ac.Login, DisplayName: ac.DisplayName, Active: ac.Active, Store: ac.Store, PlaintextAtRest: info.PlaintextAtRest, Place: info.Place,
			Scopes: scopeTokens(ac.Scopes), TokenType: ac.TokenType, State: StateUnchecked}
		if info.Volatile {
			results[i].KeptUntil = info.Lifetime
		}
		if len(ac.RequestedScopes) > 0 {
			results[i].RequestedScopes = scopeTokens(ac.RequestedScopes)
		}
		if !ac.ExpiresAt.IsZero() {
			t := ac.ExpiresAt
			results[i].ExpiresAt = &t
		}
		if offline {
			if info.Volatile || ac.Store == store.BackendFile {
				// Whether the secret is still there, and whether the file
				// store may be trusted and read, are local facts, not API
				// checks: a kernel keyring login gone after a restart and
				// a credentials.json open to other users are said offline
				// too. The OS keyring is not read (it may ask to be
				// unlocked).
				wg.Add(1)
				go func(i int, ac store.Account) {
					defer wg.Done()
					results[i].State, results[i].Error, problems[i] = s.checkLocal(ctx, st, cfg, ac)
				}(i, ac)
			}
			continue
		}
		wg.Add(1)
		go func(i int, ac store.Account) {
			defer wg.Done()
			results[i].State, results[i].Error, problems[i] = s.checkAccount(ctx, st, cfg, ac)
		}(i, ac)
	}
	wg.Wait()
	for _, p := range problems {
		if p != "" && !slices.Contains(rep.Problems, p) {
			rep.Problems = append(rep.Problems, p)
		}
	}
	for i, ac := range accts {
		byHost[ac.Host].Accounts = append(byHost[ac.Host].Accounts, results[i])
	}
	return rep, nil
}

// checkAccount classifies an account's token. problem is set when the
// store holding it cannot be used, which concerns every account kept there.
func (s *Session) checkAccount(ctx context.Context, st *store.Store, cfg *config.File, ac store.Account) (state, msg, problem string) {
	sec, err := st.SecretIn(ctx, cfg, ac)
	if err != nil {
		return s.secretError(err)
	}
	now := s.Now()
	if !sec.ExpiresAt.IsZero() && now.After(sec.ExpiresAt) {
		if sec.RefreshToken != "" && (sec.RefreshTokenExpiresAt.IsZero() || now.Before(sec.RefreshTokenExpiresAt)) {
			return StateExpired, "the token expired; it will be refreshed when next used", ""
		}
		return StateInvalid, fmt.Sprintf("the token expired and cannot be refreshed; run: ghlogin login --host %s", s.HostArg(ac.Host, "")), ""
	}
	// The server knows the refresh and ID tokens too: whatever it echoes
	// of them stays out of the error.
	err = s.checkIn(oauth.WithSecrets(ctx, sec.RefreshToken, sec.IDToken), cfg, ac.Host, sec.Token, CheckTimeout)
	var (
		ue *githubapi.UnauthorizedError
		nc *NoCheckError
	)
	switch {
	case err == nil:
		return StateValid, "", ""
	case errors.As(err, &ue):
		// Say what the server said: 401, or 403 with invalid_token. A dead
		// token is dead everywhere: it is taken out of the store (as git's
		// erase does), so token, exec and git stop handing it out and say
		// why. One with a refresh token is left to the next use, which
		// may still refresh it.
		msg := fmt.Sprintf("%s; run: ghlogin login --host %s", ue.Error(), s.HostArg(ac.Host, ""))
		if sec.RefreshToken != "" {
			// A refresh token may still get a new pair: try it now, so
			// that nothing hands out the refused token meanwhile.
			fresh, rerr := s.RefreshRejected(ctx, ac, sec)
			var nl *refresh.NeedsLoginError
			switch {
			case rerr == nil && fresh.Token != sec.Token:
				if s.checkIn(oauth.WithSecrets(ctx, fresh.RefreshToken, fresh.IDToken), cfg, ac.Host, fresh.Token, CheckTimeout) == nil {
					return StateValid, "", ""
				}
				return StateInvalid, fmt.Sprintf("%s; a refreshed token was refused too; run: ghlogin login --host %s", ue.Error(), s.HostArg(ac.Host, "")), ""
			case !errors.As(rerr, &nl):
				// The refresh could not be tried (network, 5xx): keep it.
				return StateInvalid, fmt.Sprintf("%s; refreshing it failed (%s), so it was kept; run: ghlogin login --host %s", ue.Error(), s.describe(rerr), s.HostArg(ac.Host, "")), ""
			}
		}
		if ierr := st.Invalidate(ctx, ac.Host, ac.Login, ue.Error()); ierr == nil {
			msg = fmt.Sprintf("%s; it was removed from the store; run: ghlogin login --host %s", ue.Error(), s.HostArg(ac.Host, ""))
		}
		return StateInvalid, msg, ""
	case githubapi.IsSSORequired(err):
		return StateSSORequired, s.describe(err), ""
	case errors.As(err, &nc):
		return StateUnchecked, nc.Error(), ""
	}
	var he *oauth.HTTPError
	if errors.As(err, &he) && he.StatusCode >= 400 && he.StatusCode < 500 && he.StatusCode != 408 && he.StatusCode != 429 {
		return StateRefused, s.describe(err), ""
	}
	return StateUnreachable, s.describe(err), ""
}

// secretError classifies an error reading an account's secret, as
// checkAccount does. problem is set when the store holding it cannot be
// used, which concerns every account kept there.
func (s *Session) secretError(err error) (state, msg, problem string) {
	var (
		ku *store.KeyringUnavailableError
		fi *store.InsecureFileError
		fc *store.CorruptFileError
	)
	switch {
	case errors.As(err, &ku):
		// The keyring could not be asked: nothing is known about the token.
		return StateUnreachable, s.describe(err), ""
	case errors.As(err, &fi):
		return StateUnreadable, "not read: the file store is open to other users (see above)", s.describe(err)
	case errors.As(err, &fc):
		return StateUnreadable, "not read: the file store is damaged (see above)", s.describe(err)
	}
	return StateInvalid, s.describe(err), ""
}

// checkLocal is checkAccount without the network, for status --offline:
// it reads the account's secret from a local store (the kernel keyring,
// the file store) and says whether it is gone or its store cannot be used,
// with the same problem checkAccount reports.
func (s *Session) checkLocal(ctx context.Context, st *store.Store, cfg *config.File, ac store.Account) (state, msg, problem string) {
	_, err := st.SecretIn(ctx, cfg, ac)
	var nl *store.NotLoggedInError
	switch {
	case err == nil:
		return StateUnchecked, "", ""
	case errors.As(err, &nl):
		return StateInvalid, s.describe(err), ""
	}
	state, msg, problem = s.secretError(err)
	if state == StateInvalid {
		// Not a verdict on the token: it could not be read.
		state = StateUnreachable
	}
	return state, msg, problem
}

// scopeTokens keeps the scopes that are scope-tokens (RFC 6749 §3.3), never
// nil: the index was written from server replies and may have been edited
// by hand since.
func scopeTokens(scopes []string) []string {
	out := []string{}
	for _, sc := range scopes {
		if oauth.IsScopeToken(sc) {
			out = append(out, sc)
		}
	}
	return out
}

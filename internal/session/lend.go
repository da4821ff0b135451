package session

import (
	"context"
	"errors"
	"sort"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/store"
)

// AgentSource is the token source of this machine's agent (ghlogin agent,
// ghlogin ssh): the accounts in this machine's store, chosen as every
// command chooses them (Resolve: the account the request names, an owner
// binding for the request's owner, the host's active account), refreshed with refresh.Token under the account's
// cross-process lock, so that the agent, the git helper and every other
// ghlogin process refresh a token once between them.
//
// It never asks a forwarded agent (an agent lending what it borrowed would
// stretch the consent given for one session to machines further on, and
// could ask itself), and it never lends a token from the environment
// (GH_TOKEN and the like): such a token is not a login made with ghlogin
// but a secret set for the tools of one shell — a CI secret, a personal
// access token — with no account to name when asking consent, no expiry
// and no refresh, and ssh carrying a shell variable to another machine is
// not what anyone expects.
type AgentSource struct {
	Session *Session
	// User is the account lent to requests that name none (ghlogin ssh
	// --user); "" means the host's active account.
	User string
}

// Token returns the token of the account q asks for, refreshed first when
// due. A token that expired and cannot be refreshed is agent.NeedsLogin.
func (a *AgentSource) Token(ctx context.Context, q agent.Query) (*agent.Grant, error) {
	s := a.Session
	st, cfg, err := s.Config()
	if err != nil {
		return nil, err
	}
	// The remote's owner may match an owner binding here; its working
	// directory means nothing here, so directory bindings do not apply.
	rq := Query{User: q.User, Owner: q.Owner}
	if rq.User == "" && a.User != "" {
		rq.User, rq.UserFrom = a.User, UserFromFlag
	}
	c, err := Resolve(st, cfg, q.Host, rq)
	if err != nil {
		return nil, err
	}
	t, err := s.storedTarget(cfg, c.Host)
	if err != nil {
		return nil, err
	}
	sec, err := refresh.Token(ctx, st, c.Account, s.RefreshOptions(t))
	var nl *refresh.NeedsLoginError
	switch {
	case errors.As(err, &nl):
		return nil, agent.NeedsLogin(q.Host, c.Login, nl.Reason)
	case err != nil:
		return nil, err
	case sec == nil || sec.Token == "":
		return nil, &store.NotLoggedInError{Host: c.Host, Login: c.Login, Store: c.Store}
	case !sec.ExpiresAt.IsZero() && !s.Now().Before(sec.ExpiresAt):
		return nil, agent.NeedsLogin(q.Host, c.Login, "the token has expired")
	}
	return &agent.Grant{Host: q.Host, Login: c.Login, Token: sec.Token, ExpiresAt: sec.ExpiresAt}, nil
}

// Accounts lists host's stored accounts, without tokens. The one requests
// that name no account get is marked active.
func (a *AgentSource) Accounts(ctx context.Context, host string) ([]agent.Account, error) {
	st, err := a.Session.Store()
	if err != nil {
		return nil, err
	}
	accts, err := st.Accounts(host)
	if err != nil {
		return nil, err
	}
	out := make([]agent.Account, 0, len(accts))
	for _, ac := range accts {
		active := ac.Active
		if a.User != "" {
			active = ac.Login == a.User
		}
		out = append(out, agent.Account{Login: ac.Login, Active: active, ExpiresAt: ac.ExpiresAt})
	}
	return out, nil
}

// Lent is what an agent lends for one host, for the line that asks
// consent ("Lending your github.com login (octocat) to build-1").
type Lent struct {
	// Host is the host as git names it.
	Host string
	// Login is the account lent to requests that name none.
	Login string
	// Others are the host's other accounts, lent when a request names one.
	Others []string
}

// Lending resolves what an agent lends: the hosts in allow (--allow
// values; none means the default host, DefaultHost) and, on each, the
// account user names (--user) or else the active one (owner bindings may
// choose another account for a request about a bound owner). Errors: an
// *InputError for a value that is not a host (Field "allow"), a *store.NotLoggedInError
// for a host without that account: an agent that would lend nothing there
// is a mistake to say before connecting.
func (s *Session) Lending(allow []string, user string) ([]Lent, error) {
	st, cfg, err := s.Config()
	if err != nil {
		return nil, err
	}
	if len(allow) == 0 {
		allow = []string{""}
	}
	var out []Lent
	seen := map[string]bool{}
	for _, v := range allow {
		h, _, err := s.ParseHost(v, cfg)
		if err != nil {
			// A value given is an --allow value, not a --host one.
			var ie *InputError
			if v != "" && errors.As(err, &ie) && ie.Field == "host" {
				err = &InputError{Field: "allow", Err: ie.Err}
			}
			return nil, err
		}
		if seen[h.Name] {
			continue
		}
		seen[h.Name] = true
		q := Query{}
		if user != "" {
			q = Query{User: user, UserFrom: UserFromFlag}
		}
		c, err := Resolve(st, cfg, h.Name, q)
		if err != nil {
			return nil, err
		}
		l := Lent{Host: h.Name, Login: c.Login}
		if hc := cfg.Host(h.Name); hc != nil {
			for _, login := range hc.Logins() {
				if login != c.Login {
					l.Others = append(l.Others, login)
				}
			}
		}
		sort.Strings(l.Others)
		out = append(out, l)
	}
	return out, nil
}

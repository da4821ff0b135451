package session

import (
	"context"
	"errors"
	"time"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/store"
)

// ReasonForwarded: a forwarded agent (ghlogin ssh) lent the account; the
// machine that lent it chose it (Choice.Reason).
const ReasonForwarded = "forwarded"

// Agent returns the forwarded agent this process asks first, and whether
// there is one: a ghlogin ssh session's, found through GHLOGIN_AGENT_SOCK
// or the well-known per-user path (agent.FromEnv, read through Getenv).
func (s *Session) Agent() (*agent.Client, bool) {
	return agent.FromEnv(s.getenv)
}

// Lookup is a request for a token, as Find takes it.
type Lookup struct {
	// Host is the host the token is for.
	Host hosts.Host
	// Origin says how the request came to Host; with Known (the
	// configuration has an entry for Host) it decides whether a token from
	// the environment may go there (EnvToken).
	Origin Origin
	Known  bool
	// Owner is the repository's owner, when known.
	Owner string
	// User names the account; "" lets the agent or the store choose.
	User string
	// Purpose tells the agent what the token is for (agent.PurposeGit,
	// PurposeToken, PurposeExec); it counts uses per purpose.
	Purpose agent.Purpose
}

// StoredFunc is Find's last step: the token from this machine's store for
// the request. refused is the agent's refusal when the agent was asked and
// does not lend this host (nil otherwise): a step that could start an
// interactive login should not start one then, and should return refused
// when it has no token, since the refusal says what to do.
type StoredFunc func(ctx context.Context, refused error) (*Token, error)

// Find is the one rule for where a request's token comes from. Every
// command that hands a token out (token, exec) and the git helper follow
// it:
//
//  1. A forwarded agent (Agent), when this process has one: the token of
//     the machine that ran ghlogin ssh. Nothing is written here. When the
//     agent does not serve the host (not_allowed) or has no account for it
//     (not_logged_in), the next steps may answer; when they have nothing
//     either, the agent's refusal is the error, since it says what to do.
//     Any other failure is the error (the agent is gone, timed out, or its
//     token needs a new login over there): a process given an agent never
//     quietly uses another login instead — except when the agent was only
//     found at the well-known path (no GHLOGIN_AGENT_SOCK) and nothing
//     answers there, which is a link left by a session that was killed.
//  2. The environment's token (EnvToken), unless the request names an
//     account.
//  3. This machine's store: stored.
//
// getenv reads the environment (GHLOGIN_AGENT_SOCK, the token variables).
func Find(ctx context.Context, getenv func(string) string, l Lookup, stored StoredFunc) (*Token, error) {
	var refused error
	if c, ok := agent.FromEnv(getenv); ok {
		tok, err := forwardedToken(ctx, c, l)
		if err == nil {
			return tok, nil
		}
		if !passesOn(err, getenv(agent.EnvSock) == "") {
			return nil, err
		}
		refused = err
	}
	if l.User == "" {
		if v, name := EnvToken(getenv, l.Host, l.Origin, l.Known); v != "" {
			return &Token{Secret: &store.Secret{Token: v}, Env: name}, nil
		}
	}
	tok, err := stored(ctx, refused)
	if refused != nil && (tok == nil && err == nil || isNotLoggedIn(err)) {
		return nil, refused
	}
	return tok, err
}

// passesOn reports whether an agent's failure lets the environment and the
// store answer: a refusal of the host (not served, or no account there),
// or, for an agent found only at the well-known path, nobody answering.
func passesOn(err error, wellKnownOnly bool) bool {
	var (
		rf   *agent.RefusedError
		gone *agent.GoneError
		none *agent.NoAgentError
	)
	switch {
	case errors.As(err, &rf):
		return rf.Host != "" && (rf.Code == agent.CodeNotAllowed || rf.Code == agent.CodeNotLoggedIn)
	case errors.As(err, &gone), errors.As(err, &none):
		return wellKnownOnly
	}
	return false
}

// isNotLoggedIn reports whether err means the store has no account.
func isNotLoggedIn(err error) bool {
	var nl *store.NotLoggedInError
	return errors.As(err, &nl) || errors.Is(err, store.ErrNotFound)
}

// forwardedToken asks the agent for l's token.
func forwardedToken(ctx context.Context, c *agent.Client, l Lookup) (*Token, error) {
	g, err := c.Token(ctx, agent.Query{Host: l.Host.Name, Owner: l.Owner, User: l.User, Purpose: l.Purpose})
	if err != nil {
		return nil, err
	}
	return &Token{
		Secret:    &store.Secret{Token: g.Token, ExpiresAt: g.ExpiresAt},
		Forwarded: true,
		Agent:     g.Agent,
		Account: Choice{
			Account: store.Account{Host: g.Host, Login: g.Login, ExpiresAt: g.ExpiresAt},
			Reason:  ReasonForwarded,
		},
	}, nil
}

// AgentStatus is the forwarded agent in a status report.
type AgentStatus struct {
	// Agent names the machine that lends the accounts, as it calls itself
	// ("" when it could not be asked).
	Agent string `json:"agent"`
	// Socket is the socket ghlogin asks it on.
	Socket string `json:"socket"`
	// Error says why it could not be asked.
	Error string `json:"error,omitempty"`
}

// ForwardedAccount is an account a forwarded agent lends. It never holds
// a token.
type ForwardedAccount struct {
	Login string `json:"login"`
	// Active marks the account the agent lends to requests that name none.
	Active    bool       `json:"active"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// forwardedStatus asks the forwarded agent, if any, which accounts it lends
// (of host only, a host name, when it is not ""): the agent's entry for the
// report, and the accounts by host.
func (s *Session) forwardedStatus(ctx context.Context, host string) (*AgentStatus, map[string][]ForwardedAccount) {
	c, ok := s.Agent()
	if !ok {
		return nil, nil
	}
	st := &AgentStatus{Socket: c.Path}
	l, err := c.List(ctx)
	if err != nil {
		st.Error = s.describe(err)
		return st, nil
	}
	st.Agent = l.Agent
	out := map[string][]ForwardedAccount{}
	for _, h := range l.Hosts {
		name := hosts.Normalize(h.Host, "https")
		if name == "" || host != "" && name != host {
			continue
		}
		accts := []ForwardedAccount{}
		for _, a := range h.Accounts {
			fa := ForwardedAccount{Login: a.Login, Active: a.Active}
			if !a.ExpiresAt.IsZero() {
				t := a.ExpiresAt
				fa.ExpiresAt = &t
			}
			accts = append(accts, fa)
		}
		if len(accts) > 0 {
			out[name] = accts
		}
	}
	return st, out
}

// forwardedHere is the account a command uses on a host a forwarded agent
// lends: the agent's choice, which is the account the request names, else
// the one the agent lends to requests that name none (an owner binding on
// the agent's machine may choose another for a bound owner).
func forwardedHere(ag *AgentStatus, hs *HostStatus, local *HereStatus) *HereStatus {
	from := "the agent's machine"
	if ag != nil && ag.Agent != "" {
		from = ag.Agent
	}
	h := &HereStatus{Host: hs.Host, Reason: ReasonForwarded}
	if local != nil {
		h.Dir, h.Owner = local.Dir, local.Owner
	}
	for _, fa := range hs.Forwarded {
		if fa.Active {
			h.Login = fa.Login
		}
	}
	if h.Login == "" {
		h.Error = "the agent on " + from + " lends an account only when it is named (--user)"
		return h
	}
	h.Why = "the agent on " + from + " lends " + h.Login + " (ghlogin ssh)"
	h.Short = "forwarded from " + from
	return h
}

// Lends reports whether a forwarded agent lends host (a host name): the
// machine it runs on and the account it lends to requests that name none.
func (s *Session) Lends(ctx context.Context, host string) (from, login string, ok bool) {
	ag, accts := s.forwardedStatus(ctx, host)
	if ag == nil || len(accts[host]) == 0 {
		return "", "", false
	}
	from = ag.Agent
	if from == "" {
		from = "the agent's machine"
	}
	for _, a := range accts[host] {
		if a.Active {
			login = a.Login
		}
	}
	if login == "" {
		login = accts[host][0].Login
	}
	return from, login, true
}

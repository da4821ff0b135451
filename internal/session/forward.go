package session

import (
	"context"
	"time"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/session/pick"
)

// ReasonForwarded: a forwarded agent (ghlogin ssh) lent the account; the
// machine that lent it chose it (Choice.Reason).
const ReasonForwarded = pick.ReasonForwarded

// Agent returns the forwarded agent this process asks first, and whether
// there is one: a ghlogin ssh session's, found through GHLOGIN_AGENT_SOCK
// or the well-known per-user path (agent.FromEnv, read through Getenv).
func (s *Session) Agent() (*agent.Client, bool) {
	return agent.FromEnv(s.getenv)
}

// Lookup is a request for a token, as Find takes it (pick.Lookup).
type Lookup = pick.Lookup

// StoredFunc is Find's last step (pick.StoredFunc).
type StoredFunc = pick.StoredFunc

// Find is the one rule for where a request's token comes from: a forwarded
// agent, then the environment, then the store (pick.Find, which says it in
// full).
func Find(ctx context.Context, getenv func(string) string, l Lookup, stored StoredFunc) (*Token, error) {
	return pick.Find(ctx, getenv, l, stored)
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
	l, err := s.agentList(ctx, c)
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
	h.Why = "the ghlogin agent on " + from + " lends " + h.Login
	h.Short = "lent by the ghlogin agent on " + from
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

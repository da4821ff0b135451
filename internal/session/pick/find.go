package pick

import (
	"context"
	"errors"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/store"
)

// ReasonForwarded: a forwarded agent (ghlogin ssh) lent the account; the
// machine that lent it chose it (Choice.Reason).
const ReasonForwarded = "forwarded"

// Token is the token a command uses. Never log it.
type Token struct {
	// Secret holds the token in Secret.Token (and, for a stored account,
	// what the store keeps with it).
	Secret *store.Secret
	// Env names the environment variable the token came from; "" for a
	// stored token.
	Env string
	// Account is the stored account the token belongs to (zero for a
	// token from the environment); for a forwarded token, the account the
	// agent lent (Reason ReasonForwarded).
	Account Choice
	// Forwarded is set for a token a forwarded agent lent (ghlogin ssh);
	// Agent names the machine it came from, as the agent calls itself.
	Forwarded bool
	Agent     string
}

// String never shows the token.
func (t *Token) String() string {
	if t == nil {
		return "<nil token>"
	}
	if t.Env != "" {
		return "session.Token{env=" + t.Env + "}"
	}
	if t.Forwarded {
		return "session.Token{forwarded=" + t.Account.Login + "@" + t.Account.Host + " from " + t.Agent + "}"
	}
	return "session.Token{account=" + t.Account.Login + "@" + t.Account.Host + "}"
}

// GoString hides the token from %#v too.
func (t *Token) GoString() string { return t.String() }

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
// command that hands a token out (token, exec), the git helper and the
// lean git-credential-ghlogin follow it:
//
//  1. A forwarded agent (agent.FromEnv), when this process has one: the
//     token of the machine that ran ghlogin ssh. Nothing is written here.
//     When the agent does not serve the host (not_allowed) or has no
//     account for it (not_logged_in), the next steps may answer; when they
//     have nothing either, the agent's refusal is the error, since it says
//     what to do. Any other failure is the error (the agent is gone, timed
//     out, or its token needs a new login over there): a process given an
//     agent never quietly uses another login instead — except when the
//     agent was only found at the well-known path (no GHLOGIN_AGENT_SOCK)
//     and nothing answers there, which is a link left by a session that
//     was killed. (Ask.)
//  2. The environment's token (EnvToken), unless the request names an
//     account. (FromEnv.)
//  3. This machine's store: stored. (Settle puts the refusal of step 1
//     in the place of "no account here".)
//
// getenv reads the environment (GHLOGIN_AGENT_SOCK, the token variables).
// A caller that cannot hand its store step over as a function (the git
// helper's hot path, which stops where the store step needs the network)
// calls Ask, FromEnv and Settle itself, in that order.
func Find(ctx context.Context, getenv func(string) string, l Lookup, stored StoredFunc) (*Token, error) {
	tok, refused, err := Ask(ctx, getenv, l)
	if tok != nil || err != nil {
		return tok, err
	}
	if tok := FromEnv(getenv, l); tok != nil {
		return tok, nil
	}
	tok, err = stored(ctx, refused)
	return Settle(tok, err, refused)
}

// Ask is Find's first step: the forwarded agent's token for l (tok), when
// this process has an agent. refused is a refusal the next steps may answer
// past; err is a failure that is the request's answer. All three are nil
// when there is no agent.
func Ask(ctx context.Context, getenv func(string) string, l Lookup) (tok *Token, refused, err error) {
	c, ok := agent.FromEnv(getenv)
	if !ok {
		return nil, nil, nil
	}
	tok, err = forwardedToken(ctx, c, l)
	switch {
	case err == nil:
		return tok, nil, nil
	case passesOn(err, getenv(agent.EnvSock) == ""):
		return nil, err, nil
	}
	return nil, nil, err
}

// FromEnv is Find's second step: the environment's token for l (EnvToken),
// or nil when l names an account or the environment has none for the host.
func FromEnv(getenv func(string) string, l Lookup) *Token {
	if l.User != "" {
		return nil
	}
	if v, name := EnvToken(getenv, l.Host, l.Origin, l.Known); v != "" {
		return &Token{Secret: &store.Secret{Token: v}, Env: name}
	}
	return nil
}

// Settle is Find's last word on the store step's answer (tok, err): when
// the agent refused the host (refused) and the store has nothing either
// (no token, or no account), the refusal is the answer.
func Settle(tok *Token, err, refused error) (*Token, error) {
	if refused != nil && (tok == nil && err == nil || IsNotLoggedIn(err)) {
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

// IsNotLoggedIn reports whether err means the store has no account or no
// token for the request.
func IsNotLoggedIn(err error) bool {
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

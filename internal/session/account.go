package session

import (
	"context"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/store"
)

// Reasons an account was chosen (Choice.Reason).
const (
	// ReasonNamed: the request named the account (--user, or git's
	// username= in a credential request).
	ReasonNamed = "named"
	// ReasonActive: the host's active account.
	ReasonActive = "active"
)

// Choice is the account a request uses and why.
type Choice struct {
	store.Account
	// Reason is ReasonNamed or ReasonActive.
	Reason string
}

// AccountIndex is the part of the store that account resolution reads
// (*store.Store has it).
type AccountIndex interface {
	// ResolveIn finds host's account login, or the active one when login
	// is "", in cfg (*store.NotLoggedInError when there is none).
	ResolveIn(cfg *config.File, host, login string) (store.Account, error)
}

// ChooseAccount picks the account a request about host uses: the account
// user names when it names one, else the host's active account. It returns
// *store.NotLoggedInError when there is no such account. Commands and the
// git helper both choose here.
func ChooseAccount(idx AccountIndex, cfg *config.File, host, user string) (Choice, error) {
	a, err := idx.ResolveIn(cfg, host, user)
	if err != nil {
		return Choice{}, err
	}
	reason := ReasonActive
	if user != "" {
		reason = ReasonNamed
	}
	return Choice{Account: a, Reason: reason}, nil
}

// Account chooses host's account for user (see ChooseAccount), reading the
// configuration fresh. host is a host name (hosts.Host.Name).
func (s *Session) Account(host, user string) (Choice, error) {
	st, cfg, err := s.Config()
	if err != nil {
		return Choice{}, err
	}
	return ChooseAccount(st, cfg, host, user)
}

// Logout removes t's account named user (the active one when user is "")
// and its secret. It returns the account removed and the host's active
// account afterwards ("" when none is left).
func (s *Session) Logout(ctx context.Context, t *Target, user string) (removed Choice, nowActive string, err error) {
	c, err := s.Account(t.Host.Name, user)
	if err != nil {
		return Choice{}, "", err
	}
	st, err := s.Store()
	if err != nil {
		return Choice{}, "", err
	}
	next, err := st.Remove(ctx, c.Host, c.Login)
	if err != nil {
		return Choice{}, "", err
	}
	return c, next, nil
}

// Switch makes t's account named user the active one; with user "" the
// next account in login order (store.Store.Switch).
func (s *Session) Switch(t *Target, user string) (store.Account, error) {
	st, err := s.Store()
	if err != nil {
		return store.Account{}, err
	}
	return st.Switch(t.Host.Name, user)
}

package session

import (
	"context"

	"github.com/ghlogin/ghlogin/store"
)

// Account chooses host's account for q (Resolve), reading the
// configuration fresh. host is a host name (hosts.Host.Name).
func (s *Session) Account(host string, q Query) (Choice, error) {
	st, cfg, err := s.Config()
	if err != nil {
		return Choice{}, err
	}
	return Resolve(st, cfg, host, q)
}

// Logout removes t's account named user (the active one when user is "")
// and its secret. Bindings do not choose the account a logout removes:
// logging out is about the account, not the directory. It returns the
// account removed and the host's active account afterwards ("" when none is
// left).
func (s *Session) Logout(ctx context.Context, t *Target, user string) (removed Choice, nowActive string, err error) {
	c, err := s.Account(t.Host.Name, Query{User: user, UserFrom: UserFromFlag})
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

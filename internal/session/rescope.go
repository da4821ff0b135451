package session

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/identity"
	"github.com/ghlogin/ghlogin/internal/revoke"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
)

// ScopeChange says how `ghlogin refresh` changes an account's scopes, as
// gh's `auth refresh` does: Set replaces them, Add adds to them, Remove
// takes some away. At most one is set; none keeps the scopes the account
// has.
type ScopeChange struct {
	Set, Add, Remove []string
}

// Rescope is a new login planned for an existing account, to change its
// scopes (`ghlogin refresh`): the login must belong to the same person,
// and its token replaces the account's. It never holds a token besides the
// old secret, which it keeps to revoke it.
type Rescope struct {
	// Account is the account the new login is for.
	Account Choice
	// From are the scopes the account has: those granted, or when none
	// were recorded those requested.
	From []string
	// To are the scopes the new login requests (also the Target's Scopes).
	To []string

	// old is the account's secret (nil when it has none left: its token was
	// found dead and removed, or a kernel keyring forgot it).
	old *store.Secret
	// subject is the old ID token's sub claim ("" when unknown).
	subject string
}

// PlanRescope chooses t's account named user (the active one when user is
// "") and works out the scopes of its new login from ch, setting t.Scopes
// to them. The account's host settings are not changed by a rescope. An
// account whose token was removed (marked invalid) or forgotten can be
// rescoped: that is logging in again with its scopes. Errors:
// *store.NotLoggedInError (no such account), or the store's when the
// secret cannot be read.
func (s *Session) PlanRescope(ctx context.Context, t *Target, user string, ch ScopeChange) (*Rescope, error) {
	st, cfg, err := s.Config()
	if err != nil {
		return nil, err
	}
	// As for logout, bindings do not choose: refresh is about an account.
	c, err := Resolve(st, cfg, t.Host.Name, Query{User: user, UserFrom: UserFromFlag})
	if err != nil {
		return nil, err
	}
	r := &Rescope{Account: c}
	sec, err := st.SecretIn(ctx, cfg, c.Account)
	var nl *store.NotLoggedInError
	switch {
	case errors.As(err, &nl) && nl.Login != "":
		// The token is gone; the account is still listed.
	case err != nil:
		return nil, err
	default:
		r.old = sec
		r.subject = identity.StoredSubject(sec.IDToken)
	}
	r.From = scopeTokens(c.Scopes)
	if len(r.From) == 0 {
		r.From = scopeTokens(c.RequestedScopes)
		if len(r.From) == 0 && r.old != nil {
			r.From = scopeTokens(r.old.RequestedScopes)
		}
	}
	switch {
	case len(ch.Set) > 0:
		r.To = union(nil, ch.Set)
	case len(ch.Add) > 0:
		r.To = union(r.From, ch.Add)
	case len(ch.Remove) > 0:
		r.To = slices.DeleteFunc(slices.Clone(r.From), func(sc string) bool { return slices.Contains(ch.Remove, sc) })
	default:
		r.To = slices.Clone(r.From)
	}
	if len(r.To) == 0 && len(ch.Remove) == 0 && len(ch.Set) == 0 {
		// Nothing recorded and nothing asked: what a first login asks.
		r.To = slices.Clone(t.Scopes)
	}
	t.Scopes, t.defaultScopes = r.To, false
	return r, nil
}

// union is a with the scopes of b it lacks appended, each once.
func union(a, b []string) []string {
	out := []string{}
	for _, sc := range append(slices.Clone(a), b...) {
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// WrongAccountError means the new login of a rescope belongs to someone
// else than the account it was for: the account keeps its token.
type WrongAccountError struct {
	Host string
	// Want is the account's login; Got the new login's.
	Want, Got string
}

// Error names both.
func (e *WrongAccountError) Error() string {
	return fmt.Sprintf("the new login on %s is for %s, not %s: the token for %s was kept; approve the login as %s", e.Host, e.Got, e.Want, e.Want, e.Want)
}

// EndedTogetherError means revoking the old token also ended the new one:
// the server ties both to one grant (RFC 7009 §2.1 lets it end every token
// of a grant with its refresh token). The account is left with a dead
// token; only a new login helps.
type EndedTogetherError struct{ Host, Login string }

// Error says what happened.
func (e *EndedTogetherError) Error() string {
	return fmt.Sprintf("%s ended the new token for %s together with the old one it revoked (both belong to one grant)", e.Host, e.Login)
}

// Rescoped is what SaveRescope did. It never holds a token.
type Rescoped struct {
	Login *Login
	// Revocation says what happened to the old token on the server
	// (Skipped when the account had none left).
	Revocation Revocation
}

// SaveRescope finishes the rescope r whose flow returned tok. It says who
// the new token belongs to as a login does (SaveLogin): unless that is
// r's account (its login, and its sub when both ID tokens have one), the
// new token is revoked (best effort) and nothing changes: a
// *WrongAccountError. Otherwise the new secret replaces the old one in the
// same store (store.Store.Replace: the account stays where it is, active
// or not, with its host's settings), and then the old token is revoked
// where the server allows it (see Logout); a failure to revoke is reported
// in the result, not as an error. When revoking the old token ended the new
// one, the error is an *EndedTogetherError.
func (s *Session) SaveRescope(ctx context.Context, t *Target, r *Rescope, tok *oauth.Token) (*Rescoped, error) {
	w, err := s.identifyLogin(ctx, t, tok, t.nonce)
	if err != nil {
		return nil, fmt.Errorf("checking the new token with %s: %w", t.Host.Name, err)
	}
	a := r.Account
	if w.Login != a.Login || (r.subject != "" && w.Subject != "" && w.Subject != r.subject) {
		got := w.Login
		if w.Login == a.Login {
			got = w.Login + " (another subject)"
		}
		_ = s.revokeSecret(context.WithoutCancel(ctx), t, &store.Secret{Token: tok.AccessToken, RefreshToken: tok.RefreshToken})
		return nil, &WrongAccountError{Host: a.Host, Want: a.Login, Got: got}
	}
	sec := s.newSecret(t, tok, w)
	st, err := s.Store()
	if err != nil {
		return nil, err
	}
	if err := st.Replace(ctx, a.Host, a.Login, sec); err != nil {
		return nil, fmt.Errorf("storing the token: %w", err)
	}
	out := &Rescoped{
		Login:      &Login{Host: a.Host, Login: a.Login, DisplayName: sec.DisplayName, Store: a.Store, Scopes: sec.Scopes, RequestedScopes: sec.RequestedScopes},
		Revocation: Revocation{Skipped: true},
	}
	if r.old == nil {
		return out, nil
	}
	// Never revoke what the new login handed out again.
	old := *r.old
	if old.Token == sec.Token {
		old.Token = ""
	}
	if old.RefreshToken == sec.RefreshToken {
		old.RefreshToken = ""
	}
	out.Revocation = s.revokeSecret(ctx, t, &old)
	if res := out.Revocation.Result; res != nil && slices.Contains(res.Revoked, oauth.HintRefreshToken) {
		// Revoking a refresh token may end every token of its grant (RFC
		// 7009 §2.1), and a server may have issued the new token under the
		// same grant: make sure it still works.
		if err := s.check(oauth.WithSecrets(ctx, sec.RefreshToken, sec.IDToken), t, sec.Token, CheckTimeout); githubapi.IsUnauthorized(err) {
			return out, &EndedTogetherError{Host: a.Host, Login: a.Login}
		}
	}
	return out, nil
}

// Revoked reports whether the server ended every token it was sent (or
// GitHub no longer knew it).
func (r Revocation) Revoked() bool {
	return r.Err == nil && r.Result != nil && (len(r.Result.Revoked) > 0 || r.Result.AlreadyGone)
}

// CannotRevoke returns the *revoke.CannotRevokeError when nothing could be
// sent (no client secret, no endpoint).
func (r Revocation) CannotRevoke() (*revoke.CannotRevokeError, bool) {
	var ce *revoke.CannotRevokeError
	ok := errors.As(r.Err, &ce)
	return ce, ok
}

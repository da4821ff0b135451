package session

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/identity"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
)

// Login is a login just saved. It never holds a token.
type Login struct {
	Host  string
	Login string
	// DisplayName is the owner's name when it is not the login (sanitised
	// server text; "" when none).
	DisplayName string
	// Store is the backend that keeps the token.
	Store string
	// Scopes are the scopes granted; RequestedScopes those the login asked
	// for (nil for a token given with --with-token).
	Scopes, RequestedScopes []string
	// Kept says where the token is and how long it stays there
	// (store.Describe of Store), for the line that ends a login.
	Kept store.StoreInfo
	// ExpiresAt is when the token expires (zero: it does not), and
	// RefreshExpiresAt when its refresh token does (zero: none, or it
	// does not expire): an expiring token is refreshed until then.
	ExpiresAt, RefreshExpiresAt time.Time
	// Refreshable reports that the server handed out a refresh token, so
	// the token is refreshed when it is due; without one an expiring token
	// needs a new login once it expires.
	Refreshable bool
}

// Identify asks t's API (its user info endpoint) who token belongs to.
func (s *Session) Identify(ctx context.Context, t *Target, token string) (*githubapi.User, error) {
	return s.apiClient(IdentifyTimeout).GetUser(ctx, t.Endpoints.UserInfoURL, t.Endpoints.LoginField, token)
}

// WebParams returns the parameters a web login to t adds to its
// authorization request: on an OpenID Connect host a fresh nonce (OpenID
// Connect Core 1.0 §3.1.2.1), which SaveLogin then requires in the ID
// token; nil elsewhere. Call it once per login, before the flow starts.
func (s *Session) WebParams(t *Target) (url.Values, error) {
	if t.Kind() != config.KindOIDC {
		return nil, nil
	}
	n, err := identity.NewNonce()
	if err != nil {
		return nil, err
	}
	t.nonce = n
	return url.Values{"nonce": {n}}, nil
}

// who is who a new token belongs to, as a login records it.
type who struct {
	// Login is the account key; DisplayName the owner's name when it is
	// not the login (sanitised).
	Login, DisplayName string
	// Subject is the OpenID Connect sub claim ("" elsewhere).
	Subject string
	// Scopes are the scopes the API confirmed (GitHub's X-OAuth-Scopes),
	// when ScopesKnown.
	Scopes      []string
	ScopesKnown bool
	// IDToken reports that the reply's ID token was verified: only then
	// is it kept.
	IDToken bool
}

// identifyLogin says who tok, a token endpoint's reply, belongs to. On an
// OpenID Connect host the ID token is verified (signature, issuer,
// audience, expiry, and nonce when one was sent: identity.Verifier) and the
// login comes from its claims, with userinfo's where they lack one
// (identity.Identifier); elsewhere the user info endpoint says.
func (s *Session) identifyLogin(ctx context.Context, t *Target, tok *oauth.Token, nonce string) (*who, error) {
	// The server just issued the refresh and ID tokens: whatever its user
	// info endpoint echoes of them stays out of the error.
	ctx = oauth.WithSecrets(ctx, tok.RefreshToken, tok.IDToken)
	if t.Kind() != config.KindOIDC {
		u, err := s.Identify(ctx, t, tok.AccessToken)
		if err != nil {
			return nil, err
		}
		return &who{Login: u.Login, DisplayName: u.Name, Scopes: u.Scopes, ScopesKnown: u.ScopesKnown}, nil
	}
	ident := &identity.Identifier{
		UserInfo:    s.apiClient(IdentifyTimeout),
		UserInfoURL: t.Endpoints.UserInfoURL,
		LoginField:  t.Endpoints.LoginField,
	}
	if d := t.Endpoints.Document; d != nil {
		ident.Verifier = &identity.Verifier{Document: d, ClientID: t.Credentials.ClientID, HTTPClient: s.HTTPClient, Clock: s.clock()}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*IdentifyTimeout)
	defer cancel()
	id, err := ident.Identify(ctx, tok, nonce)
	if err != nil {
		return nil, err
	}
	return &who{Login: id.Login, DisplayName: id.DisplayName, Subject: id.Subject, IDToken: id.IDToken != nil}, nil
}

// newSecret builds the secret a login to t keeps for tok: the scopes
// granted (those the API confirmed, else the reply's scope field, else —
// when the reply left it out — the scopes requested, RFC 6749 §5.1), the
// scopes requested, the owner's display name, and the ID token only when
// it was verified.
func (s *Session) newSecret(t *Target, tok *oauth.Token, w *who) *store.Secret {
	granted := tok.GrantedScopes(t.Scopes)
	if w.ScopesKnown {
		granted = w.Scopes
	}
	reply := *tok
	if !w.IDToken {
		reply.IDToken = ""
	}
	sec := refresh.NewSecret(&reply, granted, nil, s.Now())
	sec.RequestedScopes = append([]string(nil), t.Scopes...)
	sec.DisplayName = w.DisplayName
	return sec
}

// SaveLogin finishes a login whose flow returned tok: it says who the token
// belongs to (identifyLogin: on an OpenID Connect host from the verified
// ID token, with the nonce WebParams sent), builds the secret (newSecret),
// and saves the account, its secret and the host's remembered settings
// (Remember) in one store transaction, in t.Store. When any part fails
// nothing is stored.
func (s *Session) SaveLogin(ctx context.Context, t *Target, tok *oauth.Token) (*Login, error) {
	w, err := s.identifyLogin(ctx, t, tok, t.nonce)
	if err != nil {
		return nil, fmt.Errorf("checking the new token with %s: %w", t.Host.Name, err)
	}
	return s.save(ctx, t, w.Login, s.newSecret(t, tok, w))
}

// SaveToken is SaveLogin for a token the person gave (login --with-token):
// a bearer token with the scopes the API reports.
func (s *Session) SaveToken(ctx context.Context, t *Target, token string) (*Login, error) {
	tok := &oauth.Token{AccessToken: token, TokenType: "bearer"}
	w, err := s.identifyLogin(ctx, t, tok, "")
	if err != nil {
		return nil, fmt.Errorf("checking the token with %s: %w", t.Host.Name, err)
	}
	sec := refresh.NewSecret(tok, w.Scopes, nil, s.Now())
	sec.DisplayName = w.DisplayName
	return s.save(ctx, t, w.Login, sec)
}

func (s *Session) save(ctx context.Context, t *Target, login string, sec *store.Secret) (*Login, error) {
	st, err := s.Store()
	if err != nil {
		return nil, err
	}
	if err := st.SaveWith(ctx, t.Host.Name, login, t.Store, sec, t.Remember); err != nil {
		return nil, fmt.Errorf("storing the token: %w", err)
	}
	return &Login{Host: t.Host.Name, Login: login, DisplayName: sec.DisplayName, Store: t.Store, Scopes: sec.Scopes, RequestedScopes: sec.RequestedScopes,
		Kept: st.Describe(t.Store), ExpiresAt: sec.ExpiresAt, RefreshExpiresAt: sec.RefreshTokenExpiresAt, Refreshable: sec.RefreshToken != ""}, nil
}

// Remember updates hc, the host's settings, with what a login to t relied
// on, so later commands (token refresh, the git helper) find it: the store
// the person chose when the one in force was unavailable (CheckStore), the
// http scheme of a loopback host, the client ID (unless one is set), and the
// endpoint settings given as flags, the issuer included. store.SaveWith applies it in the same
// write as the account.
func (t *Target) Remember(hc *config.Host) error {
	if t.storeChosen {
		hc.Store = t.Store
	}
	if t.Host.Scheme == "http" {
		hc.Protocol = "http"
	}
	if hc.ClientID == "" {
		hc.ClientID = t.Credentials.ClientID
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	o := t.Overrides
	set(&hc.DeviceCodeURL, o.DeviceCodeURL)
	set(&hc.AuthorizeURL, o.AuthorizeURL)
	set(&hc.TokenURL, o.TokenURL)
	set(&hc.APIURL, o.APIURL)
	set(&hc.UserInfoURL, o.UserInfoURL)
	set(&hc.RevocationURL, o.RevocationURL)
	set(&hc.Issuer, o.Issuer)
	set(&hc.LoginField, o.LoginField)
	set(&hc.ClientAuth, o.ClientAuth)
	return nil
}

package refresh

import (
	"time"

	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
)

// NewSecret turns a token endpoint reply into what the store keeps; login
// and refresh both build their secrets here. scopes, when not nil, are the
// scopes the server confirmed (GitHub's X-OAuth-Scopes) and win over the
// reply's scope field. prev, when not nil, is the secret being replaced (a
// refresh): what the reply leaves out — the token type, the scopes and the
// refresh token with its expiry — is carried over from it, and a new
// refresh token replaces the old one with its own lifetime (rotation).
// Likewise the ID token, the requested scopes and the display name are
// carried over unless the reply brings a new ID token (OpenID Connect Core
// 1.0 §12.2). Expiries are counted from now and kept to the second; an
// expiring token records now as IssuedAt, so its lifetime is known. A login
// sets RequestedScopes and DisplayName on the result itself.
func NewSecret(tok *oauth.Token, scopes []string, prev *store.Secret, now time.Time) *store.Secret {
	s := &store.Secret{
		Token:     tok.AccessToken,
		TokenType: tok.TokenType,
		Scopes:    scopes,
	}
	if s.Scopes == nil {
		s.Scopes = tok.Scopes()
	}
	if prev != nil {
		if s.TokenType == "" {
			s.TokenType = prev.TokenType
		}
		if s.Scopes == nil {
			s.Scopes = prev.Scopes
		}
		s.RefreshToken, s.RefreshTokenExpiresAt = prev.RefreshToken, prev.RefreshTokenExpiresAt
		s.IDToken, s.IDTokenExpiresAt = prev.IDToken, prev.IDTokenExpiresAt
		s.RequestedScopes = prev.RequestedScopes
		s.DisplayName = prev.DisplayName
	}
	if tok.IDToken != "" {
		s.IDToken = tok.IDToken
		_, s.IDTokenExpiresAt = oauth.IDTokenTimes(tok.IDToken)
	}
	if tok.ExpiresIn > 0 {
		s.IssuedAt = now.UTC().Truncate(time.Second)
		s.ExpiresAt = now.Add(tok.ExpiresIn.Duration()).UTC().Truncate(time.Second)
	}
	if tok.RefreshToken != "" {
		s.RefreshToken = tok.RefreshToken
		s.RefreshTokenExpiresAt = time.Time{}
		if tok.RefreshTokenExpiresIn > 0 {
			s.RefreshTokenExpiresAt = now.Add(tok.RefreshTokenExpiresIn.Duration()).UTC().Truncate(time.Second)
		}
	}
	return s
}

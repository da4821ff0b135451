package store

import (
	"time"

	"github.com/ghlogin/ghlogin/oauth"
)

// NewSecret turns a token endpoint reply into what the store keeps; login
// and refresh both build their secrets here. scopes, when not nil, are the
// scopes the server confirmed (GitHub's X-OAuth-Scopes) and win over the
// reply's scope field. prev, when not nil, is the secret being replaced (a
// refresh): what the reply leaves out — the token type, the scopes and the
// refresh token with its expiry — is carried over from it, and a new
// refresh token replaces the old one with its own lifetime (rotation).
// Expiries are counted from now and kept to the second.
func NewSecret(tok *oauth.Token, scopes []string, prev *Secret, now time.Time) *Secret {
	s := &Secret{
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
	}
	if tok.ExpiresIn > 0 {
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

package store

import (
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/oauth"
)

// Secret is what a backend keeps for one account. Never log it.
type Secret struct {
	Token                 string    `json:"token"`
	TokenType             string    `json:"token_type,omitempty"`
	Scopes                []string  `json:"scopes,omitempty"`
	ExpiresAt             time.Time `json:"expires_at,omitzero"`
	RefreshToken          string    `json:"refresh_token,omitempty"`
	RefreshTokenExpiresAt time.Time `json:"refresh_token_expires_at,omitzero"`
}

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

func checkLogin(login string) error {
	if login == "" || strings.TrimSpace(login) != login || len(login) > 255 {
		return &InvalidInputError{"the login is empty, too long or has surrounding spaces"}
	}
	for _, r := range login {
		if r < ' ' || r == 0x7f {
			return &InvalidInputError{"the login holds control characters"}
		}
	}
	return nil
}

func checkSecret(sec *Secret) error {
	if sec == nil || sec.Token == "" {
		return &InvalidInputError{"the token is empty"}
	}
	for _, t := range []string{sec.Token, sec.RefreshToken} {
		for _, r := range t {
			if r <= ' ' || r == 0x7f {
				return &InvalidInputError{"the token holds spaces or control characters"}
			}
		}
	}
	return nil
}

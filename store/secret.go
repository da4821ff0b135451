package store

import (
	"strings"
	"time"
)

// Secret is what a backend keeps for one account. Never log it.
type Secret struct {
	Token                 string    `json:"token"`
	TokenType             string    `json:"token_type,omitempty"`
	Scopes                []string  `json:"scopes,omitempty"`
	ExpiresAt             time.Time `json:"expires_at,omitzero"`
	RefreshToken          string    `json:"refresh_token,omitempty"`
	RefreshTokenExpiresAt time.Time `json:"refresh_token_expires_at,omitzero"`
	// IssuedAt is when the access token was issued (set with ExpiresAt):
	// ExpiresAt - IssuedAt is its whole lifetime, which decides when it is
	// refreshed. Zero for secrets written before it was recorded.
	IssuedAt time.Time `json:"issued_at,omitzero"`
	// IDToken is the OpenID Connect ID token that came with the access
	// token (OpenID Connect Core 1.0 §3.1.3.3), kept with the same secrecy
	// and never copied to the index.
	IDToken string `json:"id_token,omitempty"`
	// IDTokenExpiresAt is the ID token's exp claim (zero when unknown).
	IDTokenExpiresAt time.Time `json:"id_token_expires_at,omitzero"`
	// RequestedScopes are the scopes the login asked for; Scopes are those
	// granted. The index keeps them too, so that status can show both
	// where they differ.
	RequestedScopes []string `json:"requested_scopes,omitempty"`
	// DisplayName is how the account's owner is shown when the login (the
	// account key) is not their name: server text, already sanitised
	// (control characters stripped) by whoever sets it. The index keeps it too.
	DisplayName string `json:"display_name,omitempty"`
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
	for _, t := range []string{sec.Token, sec.RefreshToken, sec.IDToken} {
		for _, r := range t {
			if r <= ' ' || r == 0x7f {
				return &InvalidInputError{"the token holds spaces or control characters"}
			}
		}
	}
	return nil
}

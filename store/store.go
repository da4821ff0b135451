// Package store keeps tokens: each account's secret in the OS keyring (or, where
// the user chose it, in a 0600 credentials.json), and the non-secret index in
// the config file. Every change happens under one cross-process lock, so the
// many ghlogin processes git starts never corrupt either side or lose an account.
package store

import (
	"time"
)

// Backend names.
const (
	BackendKeyring = "keyring"
	BackendFile    = "file"
)

// CredentialsFile is the file store's name inside the config directory.
const CredentialsFile = "credentials.json"

// Secret is what a backend keeps for one account. Never log it.
type Secret struct {
	Token                 string    `json:"token"`
	TokenType             string    `json:"token_type,omitempty"`
	Scopes                []string  `json:"scopes,omitempty"`
	ExpiresAt             time.Time `json:"expires_at,omitzero"`
	RefreshToken          string    `json:"refresh_token,omitempty"`
	RefreshTokenExpiresAt time.Time `json:"refresh_token_expires_at,omitzero"`
}

// Account is one stored account as the index describes it (no secret).
type Account struct {
	Host      string    `json:"host"`
	Login     string    `json:"login"`
	Active    bool      `json:"active"`
	Store     string    `json:"store"`
	Scopes    []string  `json:"scopes"`
	TokenType string    `json:"token_type,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// RefreshExpiresAt is when the refresh token expires (zero: none or never).
	RefreshExpiresAt time.Time `json:"refresh_expires_at,omitzero"`
}

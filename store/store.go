// Package store keeps tokens: each account's secret in the OS keyring (or, where
// the user chose it, in a 0600 credentials.json), and the non-secret index in
// the config file. Every change happens under one cross-process lock, so the
// many ghlogin processes git starts never corrupt either side or lose an account.
//
// Layout of the config directory (0700 when ghlogin creates it):
//
//	config.toml       settings and the account index (no secrets), 0600
//	credentials.json  the file store: host → login → Secret, 0600
//	ghlogin.lock      the lock every mutation takes
//	locks/NAME.lock   named locks (WithLock), e.g. one per token refresh
//
// Both files are replaced atomically (temporary file, fsync, rename, fsync of
// the directory), so a crash leaves the old version or the new one, whole.
// A credentials.json that other users can access (group/other mode bits) is
// refused with *InsecureFileError until the user runs chmod 600, as ssh does
// with private keys: its tokens may have been exposed, which the user should
// know rather than have ghlogin quietly repair.
//
// Every keyring call is bounded (3 s by default): a call that does not return
// in time yields *KeyringUnavailableError{Timeout: true} at once and is left
// to finish in the background, since D-Bus and Keychain calls cannot be
// interrupted.
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
	// Invalid, when set, says why the token was removed (see Store.Invalidate).
	Invalid string `json:"invalid,omitempty"`
}

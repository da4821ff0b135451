package session

import (
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/session/pick"
)

// Reasons an account was chosen (Choice.Reason); see package pick.
const (
	ReasonNamed  = pick.ReasonNamed
	ReasonOwner  = pick.ReasonOwner
	ReasonDir    = pick.ReasonDir
	ReasonActive = pick.ReasonActive
)

// Where a named user came from (Query.UserFrom); see package pick.
const (
	UserFromFlag   = pick.UserFromFlag
	UserFromGit    = pick.UserFromGit
	UserFromOrigin = pick.UserFromOrigin
)

// Query is what a request about a host knows about the work at hand
// (pick.Query).
type Query = pick.Query

// Choice is the account a request uses and why (pick.Choice).
type Choice = pick.Choice

// BindingError is a binding that chose an account its host does not have
// (pick.BindingError).
type BindingError = pick.BindingError

// AccountIndex is the part of the store that account resolution reads
// (pick.AccountIndex).
type AccountIndex = pick.AccountIndex

// Resolve is the one rule that picks the stored account a request about
// host uses: pick.Resolve.
func Resolve(idx AccountIndex, cfg *config.File, host string, q Query) (Choice, error) {
	return pick.Resolve(idx, cfg, host, q)
}

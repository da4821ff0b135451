package session

import (
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/session/pick"
)

// The environment variables that hold tokens, in the order they are read
// (pick.GitHubTokenVars, pick.EnterpriseTokenVars).
var (
	GitHubTokenVars     = pick.GitHubTokenVars
	EnterpriseTokenVars = pick.EnterpriseTokenVars
)

// EnvToken returns the token the environment holds for host and the
// variable it came from: pick.EnvToken, the one rule.
func EnvToken(getenv func(string) string, host hosts.Host, origin Origin, known bool) (token, variable string) {
	return pick.EnvToken(getenv, host, origin, known)
}

// EnvToken is the package's EnvToken for t, read through s.Getenv.
func (s *Session) EnvToken(t *Target) (token, variable string) {
	return EnvToken(s.getenv, t.Host, t.Origin, t.Known())
}

package pick

import (
	"strings"

	"github.com/ghlogin/ghlogin/internal/hosts"
)

// Origin says how a command came to act on a host. It decides, among other
// things, whether an enterprise token from the environment may go there
// (see EnvToken).
type Origin int

const (
	// OriginDefault: nothing named a host; the default rule chose it
	// (DefaultHost).
	OriginDefault Origin = iota
	// OriginFlag: the person named the host (--host).
	OriginFlag
	// OriginGit: git named the host, from a remote's URL (a credential
	// request); nobody chose it on purpose.
	OriginGit
	// OriginConfig: the host comes from the configuration file (an
	// account's host, listed by status, refreshed by the git helper).
	OriginConfig
)

// EnvTokenUser is the user name sent with a token from the environment
// (GH_TOKEN and friends), as the GitHub CLI does; GitHub accepts any user
// name with a token, so it names no account.
const EnvTokenUser = "x-access-token"

// The environment variables that hold tokens, in the order they are read,
// as the GitHub CLI reads them.
var (
	GitHubTokenVars     = []string{"GH_TOKEN", "GITHUB_TOKEN"}
	EnterpriseTokenVars = []string{"GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"}
)

// EnvToken returns the token the environment holds for host and the
// variable it came from; both are "" when none applies. A token from the
// environment is used instead of a stored one when no account is named.
//
// The rule, the one every command and the git helper follow:
//   - github.com: GH_TOKEN, then GITHUB_TOKEN.
//   - any other host: GH_ENTERPRISE_TOKEN, then GITHUB_ENTERPRISE_TOKEN —
//     but only over https: a host reached over plain http (a loopback
//     address) gets nothing, since once the real server stops any local
//     user can bind its port and collect the token. And only for a host
//     the person chose (named with --host, or picked by the default-host
//     rule, origin OriginFlag or OriginDefault) or one ghlogin knows
//     (known: the configuration file has an entry for it). A host named
//     only by a git remote (OriginGit) that ghlogin does not know gets
//     nothing: cloning from an unknown server must not hand it the
//     enterprise token.
//
// Values are trimmed of surrounding white space; an empty value does not count.
func EnvToken(getenv func(string) string, host hosts.Host, origin Origin, known bool) (token, variable string) {
	names := GitHubTokenVars
	if !host.IsGitHub() {
		if host.Scheme != "https" || (origin == OriginGit && !known) {
			return "", ""
		}
		names = EnterpriseTokenVars
	}
	for _, n := range names {
		if v := strings.TrimSpace(getenv(n)); v != "" {
			return v, n
		}
	}
	return "", ""
}

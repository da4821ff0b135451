package session

import (
	"runtime"
	"strings"

	"github.com/ghlogin/ghlogin/internal/hosts"
)

// EnvHost is the variable that tells the GitHub CLI which host to use.
const EnvHost = "GH_HOST"

// ExecEnv returns environ (KEY=VALUE entries) for a program run with
// host's token, the way the GitHub CLI and most tools read one: GH_TOKEN
// and GITHUB_TOKEN hold token; for any other host than github.com,
// GH_ENTERPRISE_TOKEN and GITHUB_ENTERPRISE_TOKEN hold it too and GH_HOST
// names the host. Those variables replace any the environment already
// has; for github.com, a GH_HOST naming another host is dropped, since the
// token is not for it. The token goes nowhere else.
func ExecEnv(environ []string, host, token string) []string {
	set := map[string]string{}
	for _, n := range GitHubTokenVars {
		set[n] = token
	}
	drop := map[string]bool{}
	if host == hosts.GitHub {
		drop[EnvHost] = true
		for _, kv := range environ {
			if k, v, ok := strings.Cut(kv, "="); ok && sameVar(k, EnvHost) && strings.EqualFold(strings.TrimSpace(v), hosts.GitHub) {
				drop[EnvHost] = false
			}
		}
	} else {
		for _, n := range EnterpriseTokenVars {
			set[n] = token
		}
		set[EnvHost] = host
	}
	out := make([]string, 0, len(environ)+len(set))
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if replaced(k, set) || (drop[EnvHost] && sameVar(k, EnvHost)) {
			continue
		}
		out = append(out, kv)
	}
	for _, n := range execVarOrder {
		if v, ok := set[n]; ok {
			out = append(out, n+"="+v)
		}
	}
	return out
}

// execVarOrder is the order ExecEnv appends its variables in.
var execVarOrder = []string{"GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN", EnvHost}

func replaced(k string, set map[string]string) bool {
	for n := range set {
		if sameVar(k, n) {
			return true
		}
	}
	return false
}

// sameVar compares variable names as the OS does: ignoring case on
// Windows.
func sameVar(a, b string) bool {
	if runtime.GOOS == "windows" {
		return strings.EqualFold(a, b)
	}
	return a == b
}

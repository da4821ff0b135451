package grammar

import "testing"

func TestIsErrorCode(t *testing.T) {
	for _, ok := range []string{"invalid_grant", "authorization_pending", "a b", "x!#$%&'()*+,-./:;<=>?@[]^_`{|}~"} {
		if !IsErrorCode(ok) {
			t.Errorf("IsErrorCode(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "a\"b", "a\\b", "\x1b[31mred", "bell\a", "tab\t", "caf\u00e9", "c1\u009b", "bidi\u202e", string(make([]byte, 101))} {
		if IsErrorCode(bad) {
			t.Errorf("IsErrorCode(%q) = true", bad)
		}
	}
}

func TestIsScopeToken(t *testing.T) {
	for _, ok := range []string{"repo", "read:org", "https://www.googleapis.com/auth/cloud-platform", "admin:repo_hook"} {
		if !IsScopeToken(ok) {
			t.Errorf("IsScopeToken(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "a b", "\"q\"", "back\\slash", "\x1b]52;c;QQ==\x07", "\u202erepo", "r\u00e9po", "\u009b31m"} {
		if IsScopeToken(bad) {
			t.Errorf("IsScopeToken(%q) = true", bad)
		}
	}
}

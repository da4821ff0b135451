package pick

import (
	"testing"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/store"
)

// index finds accounts in the configuration by their exact login, as
// *store.Store does.
type index struct{}

func (index) ResolveIn(cfg *config.File, host, login string) (store.Account, error) {
	hc := cfg.Host(host)
	if login == "" && hc != nil {
		login = hc.Active
	}
	if hc == nil || hc.Accounts[login] == nil {
		return store.Account{}, &store.NotLoggedInError{Host: host, Login: login}
	}
	return store.Account{Host: host, Login: login}, nil
}

func caseConfig() *config.File {
	f := config.New()
	acct := func() *config.Account { return &config.Account{Store: "file"} }
	f.Hosts["github.com"] = &config.Host{Active: "hubot", Accounts: map[string]*config.Account{"octocat": acct(), "hubot": acct()},
		OwnerBindings: map[string]string{"my-org": "OctoCat"}}
	f.Hosts["ghe.example.com"] = &config.Host{Accounts: map[string]*config.Account{"Mona": acct()}}
	f.Hosts["sso.example.com"] = &config.Host{Issuer: "https://sso.example.com", Accounts: map[string]*config.Account{"Alice": acct()}}
	f.Hosts["auth.example.com"] = &config.Host{TokenURL: "https://auth.example.com/token", Accounts: map[string]*config.Account{"Bob": acct()}}
	f.Hosts["twins.example.com"] = &config.Host{Accounts: map[string]*config.Account{"Twin": acct(), "twin": acct()}}
	return f
}

// TestLoginCase: GitHub logins match in any case and keep the stored
// spelling; OpenID Connect and other OAuth servers' logins match exactly.
func TestLoginCase(t *testing.T) {
	f := caseConfig()
	for _, c := range []struct{ host, asked, want string }{
		{"github.com", "OCTOCAT", "octocat"},
		{"github.com", "OctoCat", "octocat"},
		{"github.com", "octocat", "octocat"},
		{"github.com", "nobody", "nobody"},
		{"ghe.example.com", "mona", "Mona"},
		{"sso.example.com", "alice", "alice"},
		{"sso.example.com", "Alice", "Alice"},
		{"auth.example.com", "bob", "bob"},
		{"twins.example.com", "TWIN", "TWIN"},
		{"twins.example.com", "twin", "twin"},
		{"unknown.example.com", "x", "x"},
	} {
		if got := Login(f, c.host, c.asked); got != c.want {
			t.Errorf("Login(%s, %q) = %q, want %q", c.host, c.asked, got, c.want)
		}
	}
}

func TestResolveIgnoresCaseOnGitHubHosts(t *testing.T) {
	f := caseConfig()
	for _, c := range []struct {
		host string
		q    Query
		want string
		ok   bool
	}{
		{"github.com", Query{User: "OCTOCAT"}, "octocat", true},
		{"github.com", Query{User: "OctoCat", UserFrom: UserFromGit}, "octocat", true},
		// A binding written in another case finds the account too.
		{"github.com", Query{Owner: "MY-ORG"}, "octocat", true},
		{"github.com", Query{}, "hubot", true},
		{"ghe.example.com", Query{User: "MONA"}, "Mona", true},
		{"sso.example.com", Query{User: "alice"}, "", false},
		{"sso.example.com", Query{User: "Alice"}, "Alice", true},
		{"auth.example.com", Query{User: "BOB"}, "", false},
	} {
		got, err := Resolve(index{}, f, c.host, c.q)
		if c.ok != (err == nil) || got.Login != c.want {
			t.Errorf("Resolve(%s, %+v) = %q, %v; want %q (found: %v)", c.host, c.q, got.Login, err, c.want, c.ok)
		}
	}
}

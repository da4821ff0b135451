package session

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/store"
)

// resolveTree is a directory tree for directory bindings:
//
//	base/home/work            bound to hubot
//	base/home/work/oss        bound to octocat (nested, longer: wins below it)
//	base/home/work/oss/tool   (no binding of its own)
//	base/home/personal        (no binding)
//	base/links/w    -> base/home/work       (a symbolic link into the bound tree)
//	base/links/deep -> base/home/work/oss/tool
type resolveTree struct {
	base, work, oss, tool, personal, linkWork, linkDeep string
}

func newResolveTree(t *testing.T) resolveTree {
	t.Helper()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := resolveTree{
		base:     base,
		work:     filepath.Join(base, "home", "work"),
		oss:      filepath.Join(base, "home", "work", "oss"),
		tool:     filepath.Join(base, "home", "work", "oss", "tool"),
		personal: filepath.Join(base, "home", "personal"),
		linkWork: filepath.Join(base, "links", "w"),
		linkDeep: filepath.Join(base, "links", "deep"),
	}
	for _, d := range []string{r.tool, r.personal, filepath.Join(base, "links")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(r.work, r.linkWork); err != nil {
		t.Skipf("symbolic links are not available here: %v", err)
	}
	if err := os.Symlink(r.tool, r.linkDeep); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestResolve is the resolver's table: (host, owner, dir, username,
// bindings, active) → account and reason, or the error reported.
func TestResolve(t *testing.T) {
	f := newFixture(t)
	tree := newResolveTree(t)
	ctx := context.Background()
	// github.com: hubot and octocat, octocat active (saved last).
	for _, login := range []string{"hubot", "octocat"} {
		if err := f.st.Save(ctx, "github.com", login, store.BackendFile, &store.Secret{Token: "gho_" + login}); err != nil {
			t.Fatal(err)
		}
	}
	// ghe.example.com: only alice, with no bindings.
	if err := f.st.Save(ctx, "ghe.example.com", "alice", store.BackendFile, &store.Secret{Token: "gho_alice"}); err != nil {
		t.Fatal(err)
	}
	f.configure(func(c *config.File) {
		h := c.Hosts["github.com"]
		h.OwnerBindings = map[string]string{
			"my-org":    "hubot",
			"my-*":      "octocat", // a glob: the literal my-org wins over it
			"acme-*":    "hubot",
			"acme-labs": "octocat",
			"gone-org":  "retired", // no such account
		}
		h.DirBindings = map[string]string{
			tree.work: "hubot",
			tree.oss:  "octocat",
			filepath.Join(tree.base, "home", "legacy"): "retired",
		}
	})
	if err := os.MkdirAll(filepath.Join(tree.base, "home", "legacy", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := f.cfg()

	type want struct {
		login, reason, pattern, why string
	}
	for _, tc := range []struct {
		name                   string
		host, owner, dir, user string
		want                   want
	}{
		{"nothing known: the active account", "github.com", "", "", "", want{"octocat", ReasonActive, "", "octocat is the active account"}},
		{"owner bound", "github.com", "my-org", "", "", want{"hubot", ReasonOwner, "my-org", "owner my-org is bound to hubot"}},
		{"owner in another case", "github.com", "My-ORG", "", "", want{"hubot", ReasonOwner, "my-org", "owner my-org is bound to hubot"}},
		{"owner by glob", "github.com", "my-other", "", "", want{"octocat", ReasonOwner, "my-*", "owner my-other (my-*) is bound to octocat"}},
		{"literal beats glob", "github.com", "acme-labs", "", "", want{"octocat", ReasonOwner, "acme-labs", "owner acme-labs is bound to octocat"}},
		{"glob, other case", "github.com", "ACME-Corp", "", "", want{"hubot", ReasonOwner, "acme-*", "owner ACME-Corp (acme-*) is bound to hubot"}},
		{"unbound owner: the active account", "github.com", "octocat", "", "", want{"octocat", ReasonActive, "", ""}},
		{"username= wins over the owner", "github.com", "my-org", "", "octocat", want{"octocat", ReasonNamed, "", "the remote URL names octocat"}},
		{"username= wins over the directory", "github.com", "", tree.work, "octocat", want{"octocat", ReasonNamed, "", ""}},
		{"directory bound", "github.com", "", tree.work, "", want{"hubot", ReasonDir, tree.work, "directory " + tree.work + " is bound to hubot"}},
		{"below a bound directory", "github.com", "", filepath.Join(tree.work, "."), "", want{"hubot", ReasonDir, tree.work, ""}},
		{"nested: the longest directory", "github.com", "", tree.oss, "", want{"octocat", ReasonDir, tree.oss, ""}},
		{"below the nested one", "github.com", "", tree.tool, "", want{"octocat", ReasonDir, tree.oss, ""}},
		{"through a symbolic link", "github.com", "", tree.linkWork, "", want{"hubot", ReasonDir, tree.work, ""}},
		{"through a link into the nested one", "github.com", "", tree.linkDeep, "", want{"octocat", ReasonDir, tree.oss, ""}},
		{"link path below a link", "github.com", "", filepath.Join(tree.linkWork, "oss"), "", want{"octocat", ReasonDir, tree.oss, ""}},
		{"unbound directory: the active account", "github.com", "", tree.personal, "", want{"octocat", ReasonActive, "", ""}},
		{"a sibling with a common prefix is not below", "github.com", "", tree.work + "shop", "", want{"octocat", ReasonActive, "", ""}},
		{"owner beats directory", "github.com", "my-org", tree.oss, "", want{"hubot", ReasonOwner, "my-org", ""}},
		{"unbound owner falls to the directory", "github.com", "someone", tree.work, "", want{"hubot", ReasonDir, tree.work, ""}},
		{"other host: no bindings apply", "ghe.example.com", "my-org", tree.work, "", want{"alice", ReasonActive, "", ""}},
		{"host spelt as a URL", "https://GitHub.com", "my-org", "", "", want{"hubot", ReasonOwner, "my-org", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := Query{User: tc.user, Owner: tc.owner, Dir: tc.dir}
			if tc.user != "" {
				q.UserFrom = UserFromGit
			}
			c, err := Resolve(f.st, cfg, tc.host, q)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if c.Login != tc.want.login || c.Reason != tc.want.reason || c.Binding.Pattern != tc.want.pattern {
				t.Errorf("got %s (%s, pattern %q), want %s (%s, pattern %q)", c.Login, c.Reason, c.Binding.Pattern, tc.want.login, tc.want.reason, tc.want.pattern)
			}
			if tc.want.why != "" && c.Why() != tc.want.why {
				t.Errorf("Why() = %q, want %q", c.Why(), tc.want.why)
			}
		})
	}

	// Bindings to an account the host does not have are reported, never
	// skipped in favour of the active account.
	for _, tc := range []struct {
		name, owner, dir, pattern, msg string
	}{
		{"owner bound to a removed account", "gone-org", "", "gone-org", "owner gone-org is bound to retired, which has no account on github.com"},
		{"directory bound to a removed account", "", filepath.Join(tree.base, "home", "legacy", "x"), filepath.Join(tree.base, "home", "legacy"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Resolve(f.st, cfg, "github.com", Query{Owner: tc.owner, Dir: tc.dir})
			var be *BindingError
			if !errors.As(err, &be) {
				t.Fatalf("Resolve = %+v, %v; want a *BindingError", c, err)
			}
			if be.Binding.Login != "retired" || be.Binding.Pattern != tc.pattern || be.Binding.Host != "github.com" {
				t.Errorf("binding %+v", be.Binding)
			}
			var nl *store.NotLoggedInError
			if !errors.As(err, &nl) || nl.Login != "retired" {
				t.Errorf("the error does not unwrap to the missing account: %v", err)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Errorf("message %q, want %q", err.Error(), tc.msg)
			}
		})
	}

	// Named accounts that do not exist, and hosts without accounts.
	for _, tc := range []struct{ host, user string }{{"github.com", "nobody"}, {"ghe2.example.com", ""}} {
		_, err := Resolve(f.st, cfg, tc.host, Query{User: tc.user})
		var nl *store.NotLoggedInError
		if !errors.As(err, &nl) || nl.Host != tc.host || nl.Login != tc.user {
			t.Errorf("%s/%q: %T %v", tc.host, tc.user, err, err)
		}
	}
	// Session.Account reads the configuration fresh.
	if c, err := f.sess.Account("github.com", Query{Owner: "my-org"}); err != nil || c.Login != "hubot" {
		t.Fatalf("%+v %v", c, err)
	}
}

func TestChoiceWords(t *testing.T) {
	for _, tc := range []struct {
		c          Choice
		why, short string
	}{
		{Choice{Account: store.Account{Login: "a"}, Reason: ReasonNamed, UserFrom: UserFromFlag}, "--user names a", "--user"},
		{Choice{Account: store.Account{Login: "a"}, Reason: ReasonNamed, UserFrom: UserFromOrigin}, "the origin remote's URL names a", "named in the remote URL"},
		{Choice{Account: store.Account{Login: "a"}, Reason: ReasonNamed}, "a was asked for", "named"},
		{Choice{Account: store.Account{Login: "a"}, Reason: ReasonActive}, "a is the active account", "active account"},
		{Choice{Account: store.Account{Login: "a"}, Reason: ReasonOwner, Owner: "my-org", Binding: config.Binding{Kind: config.BindOwner, Pattern: "my-org"}}, "owner my-org is bound to a", "owner my-org"},
		{Choice{Account: store.Account{Login: "a"}, Reason: ReasonDir, Binding: config.Binding{Kind: config.BindDir, Pattern: "/w"}}, "directory /w is bound to a", "directory /w"},
	} {
		if got := tc.c.Why(); got != tc.why {
			t.Errorf("Why() = %q, want %q", got, tc.why)
		}
		if got := tc.c.Short(); got != tc.short {
			t.Errorf("Short() = %q, want %q", got, tc.short)
		}
	}
}

func TestLogoutAndSwitch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, login := range []string{"hubot", "octocat"} {
		if err := f.st.Save(ctx, "github.com", login, store.BackendKeyring, &store.Secret{Token: "gho_" + login}); err != nil {
			t.Fatal(err)
		}
	}
	tg, err := f.sess.ResolveHost(Request{})
	if err != nil {
		t.Fatal(err)
	}
	ac, err := f.sess.Switch(tg, "")
	if err != nil || ac.Login != "hubot" {
		t.Fatalf("switch: %+v %v", ac, err)
	}
	// --local: nothing is sent anywhere (github.com is not reachable).
	res, err := f.sess.Logout(ctx, tg, "", LogoutOptions{Local: true})
	if err != nil || res.Removed.Login != "hubot" || res.NowActive != "octocat" || !res.Revocation.Skipped {
		t.Fatalf("logout: %+v %v", res, err)
	}
	if got := f.kr.Services(); len(got) != 1 {
		t.Fatalf("keyring after logout: %v", got)
	}
	if _, err := f.sess.Logout(ctx, tg, "hubot", LogoutOptions{Local: true}); err == nil {
		t.Fatal("logged out twice")
	}
}

// Logout ignores bindings: it removes the named or the active account,
// whatever directory it runs in.
func TestLogoutIgnoresBindings(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, login := range []string{"hubot", "octocat"} {
		if err := f.st.Save(ctx, "github.com", login, store.BackendFile, &store.Secret{Token: "gho_" + login}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	f.sess.Getwd = func() (string, error) { return dir, nil }
	tg, err := f.sess.ResolveHost(Request{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.sess.Bind(tg, config.BindDir, dir, "hubot"); err != nil {
		t.Fatal(err)
	}
	res, err := f.sess.Logout(ctx, tg, "", LogoutOptions{Local: true})
	if err != nil || res.Removed.Login != "octocat" {
		t.Fatalf("logout removed %+v, %v; want the active octocat", res, err)
	}
	bs, err := f.sess.BindingsTo("github.com", "hubot")
	if err != nil || len(bs) != 1 || !strings.HasSuffix(bs[0].Pattern, filepath.Base(dir)) {
		t.Errorf("BindingsTo = %+v, %v", bs, err)
	}
}

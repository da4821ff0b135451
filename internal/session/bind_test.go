package session

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/store"
)

// twoAccounts stores hubot and octocat on github.com (octocat active).
func (f *fixture) twoAccounts() {
	f.t.Helper()
	for _, login := range []string{"hubot", "octocat"} {
		if err := f.st.Save(context.Background(), "github.com", login, store.BackendFile, &store.Secret{Token: "gho_" + login}); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) target(req Request) *Target {
	f.t.Helper()
	tg, err := f.sess.ResolveHost(req)
	if err != nil {
		f.t.Fatal(err)
	}
	return tg
}

func TestBindAndUnbind(t *testing.T) {
	f := newFixture(t)
	f.twoAccounts()
	tg := f.target(Request{})
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(base, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "w")
	if err := os.Symlink(work, link); err != nil {
		t.Skipf("symbolic links are not available here: %v", err)
	}

	b, prev, err := f.sess.Bind(tg, config.BindOwner, "My-Org", "hubot")
	if err != nil || prev != "" || b.Pattern != "my-org" || b.Login != "hubot" || b.Host != "github.com" {
		t.Fatalf("bind owner: %+v %q %v", b, prev, err)
	}
	// Binding a directory through a link keeps the real directory.
	b, _, err = f.sess.Bind(tg, config.BindDir, link, "hubot")
	if err != nil || b.Pattern != work {
		t.Fatalf("bind dir: %+v %v", b, err)
	}
	// Binding again to another account replaces it and says so.
	if _, prev, err = f.sess.Bind(tg, config.BindOwner, "my-org", "octocat"); err != nil || prev != "hubot" {
		t.Fatalf("rebind: %q %v", prev, err)
	}
	// A relative directory is taken from the working directory; "~/" is
	// the home directory.
	f.sess.Getwd = func() (string, error) { return base, nil }
	if b, _, err := f.sess.Bind(tg, config.BindDir, "work", "hubot"); err != nil || b.Pattern != work {
		t.Fatalf("bind a relative dir: %+v %v", b, err)
	}
	f.env["HOME"] = base
	if b, _, err := f.sess.Bind(tg, config.BindDir, "~/w", "hubot"); err != nil || b.Pattern != work {
		t.Fatalf("bind ~/w: %+v %v", b, err)
	}
	hc := f.cfg().Hosts["github.com"]
	if !reflect.DeepEqual(hc.OwnerBindings, map[string]string{"my-org": "octocat"}) || !reflect.DeepEqual(hc.DirBindings, map[string]string{work: "hubot"}) {
		t.Fatalf("config: %v %v", hc.OwnerBindings, hc.DirBindings)
	}

	// Refused: an account the host does not have, a bad glob, a missing directory.
	var nl *store.NotLoggedInError
	if _, _, err := f.sess.Bind(tg, config.BindOwner, "x", "nobody"); !errors.As(err, &nl) || nl.Login != "nobody" {
		t.Errorf("bind to a missing account: %v", err)
	}
	var ie *InputError
	if _, _, err := f.sess.Bind(tg, config.BindOwner, "a/b", "hubot"); !errors.As(err, &ie) || ie.Field != "owner" {
		t.Errorf("bind a bad owner: %v", err)
	}
	if _, _, err := f.sess.Bind(tg, config.BindDir, filepath.Join(base, "missing"), "hubot"); !errors.As(err, &ie) || ie.Field != "dir" {
		t.Errorf("bind a missing directory: %v", err)
	}
	other := f.target(Request{Host: "ghe.example.com"})
	if _, _, err := f.sess.Bind(other, config.BindOwner, "x", "hubot"); !errors.As(err, &nl) || nl.Host != "ghe.example.com" {
		t.Errorf("bind on a host without the account: %v", err)
	}
	if _, ok := f.cfg().Hosts["ghe.example.com"]; ok {
		t.Error("a refused bind created a host entry")
	}

	// The list marks a binding whose account is gone.
	if _, err := f.sess.Logout(context.Background(), tg, "hubot", LogoutOptions{Local: true}); err != nil {
		t.Fatal(err)
	}
	list, err := f.sess.Bindings("")
	if err != nil {
		t.Fatal(err)
	}
	want := []BindingInfo{
		{Binding: config.Binding{Host: "github.com", Kind: config.BindOwner, Pattern: "my-org", Login: "octocat"}},
		{Binding: config.Binding{Host: "github.com", Kind: config.BindDir, Pattern: work, Login: "hubot"}, Missing: true},
	}
	if !reflect.DeepEqual(list, want) {
		t.Errorf("Bindings = %+v\nwant %+v", list, want)
	}
	if list, _ := f.sess.Bindings("ghe.example.com"); len(list) != 0 {
		t.Errorf("another host's bindings: %+v", list)
	}

	// Removing: by any spelling; a directory that is gone by its path.
	if b, err := f.sess.Unbind(tg, config.BindOwner, "MY-ORG"); err != nil || b.Login != "octocat" {
		t.Errorf("unbind owner: %+v %v", b, err)
	}
	var nb *NoBindingError
	if _, err := f.sess.Unbind(tg, config.BindOwner, "my-org"); !errors.As(err, &nb) || nb.Pattern != "my-org" {
		t.Errorf("unbind twice: %v", err)
	}
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(work); err != nil {
		t.Fatal(err)
	}
	if b, err := f.sess.Unbind(tg, config.BindDir, work); err != nil || b.Pattern != work {
		t.Errorf("unbind a removed directory: %+v %v", b, err)
	}
	if _, err := f.sess.Unbind(other, config.BindOwner, "x"); !errors.As(err, &nb) {
		t.Errorf("unbind on a host with nothing: %v", err)
	}
}

func TestHere(t *testing.T) {
	f := newFixture(t)
	f.twoAccounts()
	dir := t.TempDir()
	origin := ""
	calls := 0
	f.sess.Getwd = func() (string, error) { return dir, nil }
	f.sess.GitOrigin = func(_ context.Context, d string) string {
		calls++
		if d != dir {
			t.Errorf("origin asked for %s, want %s", d, dir)
		}
		return origin
	}
	gh := f.target(Request{})
	ctx := context.Background()
	for _, tc := range []struct {
		name, origin, user, repo string
		want                     Query
	}{
		{"no origin", "", "", "", Query{Dir: dir}},
		{"https origin", "https://github.com/My-Org/x.git", "", "", Query{Dir: dir, Owner: "My-Org"}},
		{"ssh origin", "git@github.com:my-org/x.git", "", "", Query{Dir: dir, Owner: "my-org"}},
		{"origin naming a user", "https://hubot@github.com/my-org/x", "", "", Query{Dir: dir, Owner: "my-org", User: "hubot", UserFrom: UserFromOrigin}},
		{"--user wins over the origin's user", "https://hubot@github.com/my-org/x", "octocat", "", Query{Dir: dir, Owner: "my-org", User: "octocat", UserFrom: UserFromFlag}},
		{"x-access-token names nobody", "https://x-access-token@github.com/my-org/x", "", "", Query{Dir: dir, Owner: "my-org"}},
		{"origin on another host", "https://ghe.example.com/my-org/x", "", "", Query{Dir: dir}},
		{"not a hosted remote", "/srv/git/x.git", "", "", Query{Dir: dir}},
		{"--repo wins over the origin", "https://github.com/my-org/x", "", "octocat/y", Query{Dir: dir, Owner: "octocat"}},
		{"--repo with this host", "", "", "github.com/octocat/y", Query{Dir: dir, Owner: "octocat"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			origin = tc.origin
			q, err := f.sess.Here(ctx, gh, tc.user, tc.repo)
			if err != nil || q != tc.want {
				t.Errorf("Here = %+v, %v; want %+v", q, err, tc.want)
			}
		})
	}
	// --repo costs no git call.
	calls = 0
	if _, err := f.sess.Here(ctx, gh, "", "a/b"); err != nil || calls != 0 {
		t.Errorf("--repo: %d git calls, %v", calls, err)
	}
	var ie *InputError
	for _, bad := range []string{"nonsense", "ghe.example.com/a/b"} {
		if _, err := f.sess.Here(ctx, gh, "", bad); !errors.As(err, &ie) || ie.Field != "repo" {
			t.Errorf("--repo %s: %v", bad, err)
		}
	}
	// A --repo naming a host picks that host when --host is not given.
	if tg := f.target(Request{Repo: "ghe.example.com/a/b"}); tg.Host.Name != "ghe.example.com" {
		t.Errorf("--repo HOST/OWNER/NAME acts on %s", tg.Host.Name)
	}
	// Without a working directory there is nothing to look up.
	f.sess.Getwd = func() (string, error) { return "", os.ErrNotExist }
	calls = 0
	if q, err := f.sess.Here(ctx, gh, "", ""); err != nil || q != (Query{}) || calls != 0 {
		t.Errorf("no working directory: %+v %v (%d calls)", q, err, calls)
	}
}

func TestHereStatusAndStatusBindings(t *testing.T) {
	f := newFixture(t)
	f.twoAccounts()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	gh := f.target(Request{})
	if _, _, err := f.sess.Bind(gh, config.BindOwner, "my-org", "hubot"); err != nil {
		t.Fatal(err)
	}
	hs, err := f.sess.HereStatus(gh, Query{Owner: "my-org", Dir: dir})
	if err != nil || hs.Login != "hubot" || hs.Reason != ReasonOwner || hs.Short != "owner my-org" || hs.Why != "owner my-org is bound to hubot" || hs.Owner != "my-org" || hs.Dir != dir {
		t.Fatalf("HereStatus = %+v, %v", hs, err)
	}
	// A token from the environment is what applies when nothing names an account.
	f.env["GH_TOKEN"] = "gho_env"
	if hs, _ := f.sess.HereStatus(gh, Query{Owner: "my-org"}); hs.Reason != ReasonEnv || hs.EnvToken != "GH_TOKEN" || hs.Login != "" || strings.Contains(hs.Why, "gho_env") {
		t.Errorf("with GH_TOKEN: %+v", hs)
	}
	delete(f.env, "GH_TOKEN")

	// After logout, the binding names a missing account: here says so,
	// and status lists the binding as missing.
	if _, err := f.sess.Logout(context.Background(), gh, "hubot", LogoutOptions{Local: true}); err != nil {
		t.Fatal(err)
	}
	hs, _ = f.sess.HereStatus(gh, Query{Owner: "my-org"})
	if hs.Login != "" || !strings.Contains(hs.Error, "owner my-org is bound to hubot, which has no account on github.com") {
		t.Errorf("here with a missing account: %+v", hs)
	}
	rep, err := f.sess.Status(context.Background(), "", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Hosts) != 1 || len(rep.Hosts[0].Bindings) != 1 || !rep.Hosts[0].Bindings[0].Missing {
		t.Fatalf("status bindings: %+v", rep.Hosts)
	}
	if m := rep.MissingBindings(); len(m) != 1 || m[0].Login != "hubot" {
		t.Errorf("MissingBindings = %+v", m)
	}
	// A host whose last account left still shows its bindings.
	if _, err := f.sess.Logout(context.Background(), gh, "octocat", LogoutOptions{Local: true}); err != nil {
		t.Fatal(err)
	}
	rep, _ = f.sess.Status(context.Background(), "", true)
	if len(rep.Hosts) != 1 || len(rep.Hosts[0].Accounts) != 0 || len(rep.Hosts[0].Bindings) != 1 {
		t.Errorf("status with bindings only: %+v", rep.Hosts)
	}
}

func TestExecEnv(t *testing.T) {
	base := []string{"PATH=/bin", "GH_TOKEN=old", "GITHUB_TOKEN=old", "HOME=/home/a", "GH_ENTERPRISE_TOKEN=ent-old", "GH_HOST=ghe.example.com"}
	got := ExecEnv(base, "github.com", "tok")
	want := []string{"PATH=/bin", "HOME=/home/a", "GH_ENTERPRISE_TOKEN=ent-old", "GH_TOKEN=tok", "GITHUB_TOKEN=tok"}
	if !slices.Equal(got, want) {
		t.Errorf("github.com:\n got %q\nwant %q", got, want)
	}
	// GH_HOST=github.com stays.
	if got := ExecEnv([]string{"GH_HOST=github.com"}, "github.com", "tok"); !slices.Contains(got, "GH_HOST=github.com") {
		t.Errorf("GH_HOST=github.com dropped: %q", got)
	}
	got = ExecEnv(base, "ghe.example.com", "tok")
	want = []string{"PATH=/bin", "HOME=/home/a", "GH_TOKEN=tok", "GITHUB_TOKEN=tok", "GH_ENTERPRISE_TOKEN=tok", "GITHUB_ENTERPRISE_TOKEN=tok", "GH_HOST=ghe.example.com"}
	if !slices.Equal(got, want) {
		t.Errorf("ghe.example.com:\n got %q\nwant %q", got, want)
	}
	// Each variable once.
	seen := map[string]int{}
	for _, kv := range got {
		k, _, _ := strings.Cut(kv, "=")
		seen[k]++
		if seen[k] > 1 {
			t.Errorf("%s appears twice", k)
		}
	}
}

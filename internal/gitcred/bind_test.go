package gitcred

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/config"
)

// TestGetFollowsBindings checks which account's token get answers with
// when bindings apply: the owner from path= (credential.useHttpPath) or
// url=, the directory the helper runs in, and git's username=, which wins.
func TestGetFollowsBindings(t *testing.T) {
	st := newFixtureStore(t, t.TempDir()) // github.com: octocat (active), hubot
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(base, "work")
	if err := os.MkdirAll(filepath.Join(work, "clone"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateConfig(func(f *config.File) error {
		f.Hosts["github.com"].OwnerBindings = map[string]string{"my-org": "hubot", "gone-org": "retired"}
		f.Hosts["github.com"].DirBindings = map[string]string{work: "hubot"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	h := newHelper(st, &stderr)
	cwd := base
	h.Getwd = func() (string, error) { return cwd, nil }

	for _, tc := range []struct {
		name, dir, in, user, tok string
	}{
		{"no path: active account", base, "protocol=https\nhost=github.com\n\n", "octocat", tokOctocat},
		{"path of a bound owner", base, "protocol=https\nhost=github.com\npath=my-org/x.git\n\n", "hubot", tokHubot},
		{"owner in another case", base, "protocol=https\nhost=github.com\npath=My-Org/x.git\n\n", "hubot", tokHubot},
		{"url= with a bound owner", base, "url=https://github.com/my-org/x.git\n\n", "hubot", tokHubot},
		{"path of an unbound owner", base, "protocol=https\nhost=github.com\npath=octocat/y.git\n\n", "octocat", tokOctocat},
		{"username= wins over the owner", base, "protocol=https\nhost=github.com\npath=my-org/x.git\nusername=octocat\n\n", "octocat", tokOctocat},
		{"x-access-token names nobody", base, "protocol=https\nhost=github.com\npath=my-org/x.git\nusername=x-access-token\n\n", "hubot", tokHubot},
		{"no path, in a bound directory", filepath.Join(work, "clone"), "protocol=https\nhost=github.com\n\n", "hubot", tokHubot},
		{"unbound owner, in a bound directory", work, "protocol=https\nhost=github.com\npath=octocat/y.git\n\n", "hubot", tokHubot},
		{"username= wins over the directory", work, "protocol=https\nhost=github.com\nusername=octocat\n\n", "octocat", tokOctocat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cwd = tc.dir
			out, errOut := run(t, h, "get", tc.in)
			want := "username=" + tc.user + "\npassword=" + tc.tok + "\n"
			if out != want {
				t.Errorf("get answered %q (stderr %q), want %s's token", out, errOut, tc.user)
			}
		})
	}

	// A binding to an account that is gone: no answer, and the reason.
	cwd = base
	out, errOut := run(t, h, "get", "protocol=https\nhost=github.com\npath=gone-org/x.git\n\n")
	if out != "" {
		t.Errorf("get answered %q for a binding to a missing account", out)
	}
	if !strings.Contains(errOut, "owner gone-org is bound to retired, which has no account on github.com") {
		t.Errorf("stderr %q does not report the binding", errOut)
	}
	// The helper's Explain words it.
	h.Explain = func(err error) string { return "explained: " + err.Error() }
	if _, errOut := run(t, h, "get", "protocol=https\nhost=github.com\npath=gone-org/x.git\n\n"); !strings.HasPrefix(errOut, "ghlogin: explained: owner gone-org") {
		t.Errorf("Explain not used: %q", errOut)
	}
}

// Erase resolves the account as get does: a rejected token of the bound
// account is checked, the active account's is left alone.
func TestEraseFollowsBindings(t *testing.T) {
	st := newFixtureStore(t, t.TempDir())
	if err := st.UpdateConfig(func(f *config.File) error {
		f.Hosts["github.com"].OwnerBindings = map[string]string{"my-org": "hubot"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var checked []string
	h := newHelper(st, &bytes.Buffer{})
	h.Check = func(_ context.Context, host, token string) error {
		checked = append(checked, token)
		return nil
	}
	run(t, h, "erase", "protocol=https\nhost=github.com\npath=my-org/x.git\npassword="+tokHubot+"\n\n")
	if len(checked) != 1 || checked[0] != tokHubot {
		t.Errorf("erase of the bound account's token checked %d tokens", len(checked))
	}
	checked = nil
	// The active account's token sent for my-org is not the one the
	// helper would give there: nothing to erase.
	run(t, h, "erase", "protocol=https\nhost=github.com\npath=my-org/x.git\npassword="+tokOctocat+"\n\n")
	if len(checked) != 0 {
		t.Error("erase checked a token that is not the bound account's")
	}
}

// Without directory bindings the helper never reads the working directory.
func TestGetReadsNoDirectoryWithoutDirBindings(t *testing.T) {
	st := newFixtureStore(t, t.TempDir())
	h := newHelper(st, &bytes.Buffer{})
	h.Getwd = func() (string, error) {
		t.Error("the working directory was read with no directory bindings")
		return "", os.ErrNotExist
	}
	if out, _ := run(t, h, "get", "protocol=https\nhost=github.com\npath=my-org/x.git\n\n"); !strings.Contains(out, tokOctocat) {
		t.Errorf("get = %q", out)
	}
}

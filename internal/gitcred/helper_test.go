package gitcred

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/gitcred/fast"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/store/storetest"
)

type credCase struct {
	name string
	in   string
	// want is the token expected; "" means no answer at all.
	want string
	// user is the username expected with it.
	user string
}

func hostileCases() []credCase {
	long := strings.Repeat("a", 70000)
	var big strings.Builder
	for big.Len() <= MaxInputBytes {
		big.WriteString("x-filler=" + strings.Repeat("b", 60000) + "\n")
	}
	return []credCase{
		// Newline, CR and NUL injection in every field.
		{name: "CR in protocol", in: "protocol=https\r\nhost=github.com\n\n"},
		{name: "CR in host", in: "protocol=https\nhost=github.com\r\n\n"},
		{name: "CRLF line endings", in: "protocol=https\r\nhost=github.com\r\n\r\n"},
		{name: "CR in username", in: "protocol=https\nhost=github.com\nusername=octocat\r\n\n"},
		{name: "CR in path", in: "protocol=https\nhost=github.com\npath=o/r\rhost=x\n\n"},
		{name: "NUL in host", in: "protocol=https\nhost=github.com\x00.evil.io\n\n"},
		{name: "NUL in protocol", in: "protocol=https\x00\nhost=github.com\n\n"},
		{name: "NUL in key", in: "proto\x00col=https\nhost=github.com\n\n"},
		{name: "NUL in path", in: "protocol=https\nhost=github.com\npath=a\x00b\n\n"},
		{name: "NUL in username", in: "protocol=https\nhost=github.com\nusername=octocat\x00\n\n"},
		{name: "CR in key", in: "protocol=https\nho\rst=github.com\nhost=github.com\n\n"},
		// URL-encoded tricks.
		{name: "url %0a host injection", in: "url=https://evil.io%0ahost=github.com\n\n"},
		{name: "url %0d in host", in: "url=https://github.com%0d.evil.io/\n\n"},
		{name: "url %00 in host", in: "url=https://github.com%00.evil.io/\n\n"},
		{name: "url %0a in path", in: "url=https://github.com/o/r%0aprotocol=https\n\n"},
		{name: "url %0a in username", in: "url=https://octocat%0a@github.com/o/r\n\n"},
		{name: "url %0d in password", in: "url=https://octocat:x%0d@github.com/o/r\n\n"},
		{name: "url %2f in host", in: "url=https://github.com%2fevil.io/\n\n"},
		{name: "url bad escape", in: "url=https://github.com%zz/\n\n"},
		// Missing or empty protocol or host (CVE-2020-11008).
		{name: "no protocol", in: "host=github.com\n\n"},
		{name: "no host", in: "protocol=https\n\n"},
		{name: "empty host", in: "protocol=https\nhost=\n\n"},
		{name: "empty protocol", in: "protocol=\nhost=github.com\n\n"},
		{name: "only a path", in: "path=github.com/o/r\n\n"},
		{name: "url without host", in: "url=https:///github.com/o/r\n\n"},
		{name: "url without scheme", in: "url=github.com/o/r\n\n"},
		{name: "url resets host", in: "protocol=https\nhost=github.com\nurl=cert:///etc/cert.pem\n\n"},
		{name: "blank line before host", in: "protocol=https\n\nhost=github.com\n\n"},
		{name: "empty input", in: ""},
		// Protocols.
		{name: "http for a non-loopback host", in: "protocol=http\nhost=github.com\n\n"},
		{name: "http for a loopback host registered https", in: "protocol=http\nhost=localhost\n\n"},
		{name: "http for an unknown loopback port", in: "protocol=http\nhost=127.0.0.1:8788\n\n"},
		{name: "ssh protocol", in: "protocol=ssh\nhost=github.com\n\n"},
		{name: "uppercase protocol", in: "protocol=HTTPS\nhost=github.com\n\n"},
		{name: "cert protocol", in: "protocol=cert\nhost=github.com\n\n"},
		// Other hosts, ports and look-alikes.
		{name: "another host", in: "protocol=https\nhost=gitlab.com\n\n"},
		{name: "another port", in: "protocol=https\nhost=github.com:8443\n\n"},
		{name: "emulator over https on another port", in: "protocol=https\nhost=127.0.0.1:8443\n\n"},
		{name: "suffix look-alike", in: "protocol=https\nhost=github.com.evil.io\n\n"},
		{name: "prefix look-alike", in: "protocol=https\nhost=evilgithub.com\n\n"},
		{name: "subdomain", in: "protocol=https\nhost=gist.github.com\n\n"},
		{name: "url path look-alike", in: "url=https://evil.io/github.com\n\n"},
		{name: "url userinfo look-alike", in: "url=https://github.com@evil.io/o/r\n\n"},
		{name: "url userinfo with port look-alike", in: "url=https://github.com:443@evil.io/\n\n"},
		{name: "url fragment trick", in: "url=https://evil.io#@github.com/\n\n"},
		{name: "url query trick", in: "url=https://evil.io?@github.com/\n\n"},
		{name: "host with @", in: "protocol=https\nhost=github.com@evil.io\n\n"},
		{name: "host with slash", in: "protocol=https\nhost=evil.io/github.com\n\n"},
		{name: "host with dot-dot path", in: "protocol=https\nhost=github.com/../evil.io\n\n"},
		{name: "host with backslash", in: "protocol=https\nhost=github.com\\evil.io\n\n"},
		{name: "host with space", in: "protocol=https\nhost=github.com evil.io\n\n"},
		{name: "host with hash", in: "protocol=https\nhost=github.com#evil.io\n\n"},
		{name: "unicode look-alike", in: "protocol=https\nhost=gіthub.com\n\n"},
		{name: "uppercase look-alike", in: "protocol=https\nhost=GITHUB.COM.EVIL.IO\n\n"},
		{name: "ipv6 loopback not registered", in: "protocol=http\nhost=[::1]:8787\n\n"},
		{name: "path names the host", in: "protocol=https\nhost=evil.io\npath=github.com/o/r.git\n\n"},
		// Accounts.
		{name: "username with no account", in: "protocol=https\nhost=github.com\nusername=mallory\n\n"},
		{name: "url username with no account", in: "url=https://mallory@github.com/o/r\n\n"},
		{name: "another host's account", in: "protocol=https\nhost=github.com\nusername=alice\n\n"},
		// Malformed input.
		{name: "oversized line", in: "protocol=https\nhost=github.com\npath=" + long + "\n\n"},
		{name: "oversized username", in: "protocol=https\nhost=github.com\nusername=" + long + "\n\n"},
		{name: "oversized input", in: "protocol=https\nhost=github.com\n" + big.String() + "\n"},
		{name: "line without =", in: "protocol=https\nhost=github.com\ngarbage\n\n"},
		{name: "empty key", in: "protocol=https\nhost=github.com\n=x\n\n"},
	}
}

func legitCases() []credCase {
	return []credCase{
		{name: "github.com", in: "protocol=https\nhost=github.com\n\n", want: tokOctocat, user: "octocat"},
		{name: "uppercase host", in: "protocol=https\nhost=GitHub.COM\n\n", want: tokOctocat, user: "octocat"},
		{name: "default port", in: "protocol=https\nhost=github.com:443\n\n", want: tokOctocat, user: "octocat"},
		{name: "with path", in: "protocol=https\nhost=github.com\npath=o/r.git\n\n", want: tokOctocat, user: "octocat"},
		{name: "no final blank line", in: "protocol=https\nhost=github.com\n", want: tokOctocat, user: "octocat"},
		{name: "no final newline", in: "protocol=https\nhost=github.com", want: tokOctocat, user: "octocat"},
		{name: "username picks account", in: "protocol=https\nhost=github.com\nusername=hubot\n\n", want: tokHubot, user: "hubot"},
		{name: "url username picks account", in: "url=https://hubot@github.com/o/r.git\n\n", want: tokHubot, user: "hubot"},
		{name: "url", in: "url=https://github.com/o/r\n\n", want: tokOctocat, user: "octocat"},
		{name: "later host wins", in: "protocol=https\nhost=evil.io\nhost=github.com\n\n", want: tokOctocat, user: "octocat"},
		{name: "git 2.46 capabilities", in: "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=github.com\nwwwauth[]=Basic realm=\"GitHub\"\n\n", want: tokOctocat, user: "octocat"},
		{name: "unknown attributes", in: "protocol=https\nhost=github.com\nfuture-thing=1\n\n", want: tokOctocat, user: "octocat"},
		{name: "GHES", in: "protocol=https\nhost=ghe.example.com\n\n", want: tokAlice, user: "alice"},
		{name: "emulator over http", in: "protocol=http\nhost=127.0.0.1:8787\n\n", want: tokEmu, user: "emu"},
		{name: "emulator url", in: "url=http://127.0.0.1:8787/o/r.git\n\n", want: tokEmu, user: "emu"},
		{name: "emulator over https", in: "protocol=https\nhost=127.0.0.1:8787\n\n", want: tokEmu, user: "emu"},
		{name: "localhost over https", in: "protocol=https\nhost=localhost\n\n", want: tokLocal, user: "local"},
		{name: "trailing data after blank line", in: "protocol=https\nhost=github.com\n\nhost=evil.io\n", want: tokOctocat, user: "octocat"},
	}
}

func TestGetHostileAndLegit(t *testing.T) {
	st := newFixtureStore(t, t.TempDir())
	var stderr bytes.Buffer
	h := newHelper(st, &stderr)
	hostile := hostileCases()
	if len(hostile) < 30 {
		t.Fatalf("only %d hostile cases", len(hostile))
	}
	for _, c := range append(hostile, legitCases()...) {
		t.Run(c.name, func(t *testing.T) {
			out, errOut := run(t, h, "get", c.in)
			if strings.Contains(errOut, "gho_") || strings.Contains(errOut, "ghu_") {
				t.Fatalf("a token reached stderr: %q", errOut)
			}
			if c.want == "" {
				if out != "" {
					t.Fatalf("answered %q", out)
				}
				return
			}
			want := "username=" + c.user + "\npassword=" + c.want + "\n"
			if out != want {
				t.Fatalf("got %q, want %q (stderr %q)", out, want, errOut)
			}
		})
	}
}

func TestParseErrorsAreReportedWithoutValues(t *testing.T) {
	st := newFixtureStore(t, t.TempDir())
	var stderr bytes.Buffer
	h := newHelper(st, &stderr)
	out, errOut := run(t, h, "get", "protocol=https\nhost=github.com\npassword=sekrit\r\n\n")
	if out != "" || !strings.Contains(errOut, "line 3") || !strings.Contains(errOut, "carriage return") || strings.Contains(errOut, "sekrit") {
		t.Fatalf("out %q stderr %q", out, errOut)
	}
	_, errOut = run(t, h, "get", "protocol=https\nhost=github.com\npath="+strings.Repeat("x", 70000)+"\n")
	if !strings.Contains(errOut, "longer than 65535") {
		t.Fatalf("stderr %q", errOut)
	}
	_, errOut = run(t, h, "get", "garbage\n")
	if !strings.Contains(errOut, "no '='") {
		t.Fatalf("stderr %q", errOut)
	}
}

func TestLineLengthLimit(t *testing.T) {
	// A line of exactly 65535 bytes with its LF is allowed; one more is not.
	pre := "path="
	ok := pre + strings.Repeat("p", MaxLineBytes-len(pre)-1) + "\n"
	if _, err := Parse(strings.NewReader("protocol=https\n" + ok + "\n")); err != nil {
		t.Fatalf("65535-byte line refused: %v", err)
	}
	bad := pre + strings.Repeat("p", MaxLineBytes-len(pre)) + "\n"
	var pe *ParseError
	if _, err := Parse(strings.NewReader("protocol=https\n" + bad + "\n")); !errors.As(err, &pe) || pe.Line != 2 {
		t.Fatalf("65536-byte line: %v", err)
	}
}

func TestParseURLAndArrays(t *testing.T) {
	r, err := Parse(strings.NewReader("capability[]=authtype\nwwwauth[]=a\nwwwauth[]=\nwwwauth[]=b\nstate[]=x\nurl=https://bob:pw@Example.com:8443/o/r.git/?q#f\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	// url= clears everything before it, as git's credential_from_url does.
	if r.Protocol != "https" || r.Host != "Example.com:8443" || r.Username != "bob" || r.Password != "pw" || r.Path != "o/r.git/?q#f" {
		t.Fatalf("%#v", r)
	}
	if r.Capabilities != nil || r.WWWAuth != nil {
		t.Fatalf("arrays not reset by url=: %v %v", r.Capabilities, r.WWWAuth)
	}
	r, err = Parse(strings.NewReader("wwwauth[]=a\nwwwauth[]=\nwwwauth[]=b\nwwwauth[]=c\nusername=x\nusername=y\n"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(r.WWWAuth, ",") != "b,c" || r.Username != "y" {
		t.Fatalf("%v %q", r.WWWAuth, r.Username)
	}
	if s := (Request{Password: "sekrit"}).String(); strings.Contains(s, "sekrit") {
		t.Fatal("String shows the password")
	}
}

func TestOutputHasExpiry(t *testing.T) {
	st := newFixtureStore(t, t.TempDir())
	exp := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second)
	if err := st.Save(context.Background(), "github.com", "octocat", store.BackendFile, &store.Secret{Token: tokOctocat, ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	out, _ := run(t, newHelper(st, &bytes.Buffer{}), "get", "protocol=https\nhost=github.com\n\n")
	want := "username=octocat\npassword=" + tokOctocat + "\npassword_expiry_utc=" + itoa(exp.Unix()) + "\n"
	if out != want {
		t.Fatalf("got %q want %q", out, want)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A value that would inject lines is never printed, whatever its source.
func TestNeverPrintsControlCharacters(t *testing.T) {
	var out bytes.Buffer
	for _, c := range []*Credential{
		{Username: "x\nprotocol=https", Password: "t"},
		{Username: "x", Password: "t\r"},
		{Username: "x", Password: "t\x00u"},
		{Username: "", Password: "t"},
		{Username: "x", Password: ""},
	} {
		if err := fast.WriteCredential(&out, c); err != nil || out.Len() != 0 {
			t.Fatalf("%v printed %q", c, out.String())
		}
	}
	h := newHelper(newFixtureStore(t, t.TempDir()), &bytes.Buffer{})
	h.Getenv = env("GH_TOKEN", "ghp_env\nhost=evil.io")
	if out, _ := run(t, h, "get", "protocol=https\nhost=github.com\n\n"); out != "" {
		t.Fatalf("printed %q", out)
	}
}

func TestEnvironmentTokens(t *testing.T) {
	st := newFixtureStore(t, t.TempDir())
	h := newHelper(st, &bytes.Buffer{})
	h.Getenv = env("GH_TOKEN", "ghp_fromenv", "GH_ENTERPRISE_TOKEN", "ghp_enterprise")
	cases := []credCase{
		{name: "github.com", in: "protocol=https\nhost=github.com\n\n", want: "ghp_fromenv", user: EnvTokenUser},
		{name: "a username picks the stored account", in: "protocol=https\nhost=github.com\nusername=hubot\n\n", want: tokHubot, user: "hubot"},
		{name: "x-access-token", in: "protocol=https\nhost=github.com\nusername=x-access-token\n\n", want: "ghp_fromenv", user: EnvTokenUser},
		{name: "a username with no account", in: "protocol=https\nhost=github.com\nusername=mallory\n\n"},
		{name: "known GHES", in: "protocol=https\nhost=ghe.example.com\n\n", want: "ghp_enterprise", user: EnvTokenUser},
		{name: "unknown host", in: "protocol=https\nhost=ghe.other.com\n\n"},
		{name: "look-alike", in: "protocol=https\nhost=github.com.evil.io\n\n"},
		{name: "http", in: "protocol=http\nhost=github.com\n\n"},
		// A plain-http host (loopback) never gets an enterprise token: any
		// local user can bind its port once the real server stops. Its
		// stored account answers instead.
		{name: "known http loopback host", in: "protocol=http\nhost=" + emuHost + "\n\n", want: tokEmu, user: "emu"},
	}
	for _, c := range cases {
		out, _ := run(t, h, "get", c.in)
		want := ""
		if c.want != "" {
			want = "username=" + c.user + "\npassword=" + c.want + "\n"
		}
		if out != want {
			t.Errorf("%s: got %q want %q", c.name, out, want)
		}
	}
	h.Getenv = env("GITHUB_TOKEN", "ghp_github")
	if out, _ := run(t, h, "get", "protocol=https\nhost=github.com\n\n"); out != "username=x-access-token\npassword=ghp_github\n" {
		t.Fatalf("GITHUB_TOKEN: %q", out)
	}
	// With no account at all, GH_TOKEN still serves github.com (CI).
	empty, err := store.Open(store.Options{Dir: t.TempDir(), Keyring: storetest.NewMemKeyring()})
	if err != nil {
		t.Fatal(err)
	}
	h.Store = empty
	if out, _ := run(t, h, "get", "protocol=https\nhost=github.com\n\n"); out != "username=x-access-token\npassword=ghp_github\n" {
		t.Fatalf("GITHUB_TOKEN without accounts: %q", out)
	}
}

func TestNoTokenExplainsHowToLogIn(t *testing.T) {
	st, err := store.Open(store.Options{Dir: t.TempDir(), Keyring: storetest.NewMemKeyring()})
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	h := newHelper(st, &stderr)
	out, errOut := run(t, h, "get", "protocol=https\nhost=github.com\n\n")
	if out != "" || !strings.Contains(errOut, "ghlogin login --host github.com") {
		t.Fatalf("out %q stderr %q", out, errOut)
	}
	// A host ghlogin has never heard of: silence.
	out, errOut = run(t, h, "get", "protocol=https\nhost=example.org\n\n")
	if out != "" || errOut != "" {
		t.Fatalf("unknown host: out %q stderr %q", out, errOut)
	}
	// A loopback http host names the http URL to log in with.
	st.UpdateConfig(func(f *config.File) error {
		hc, _ := f.EnsureHost(emuHost)
		hc.Protocol = "http"
		return nil
	})
	_, errOut = run(t, h, "get", "protocol=http\nhost=127.0.0.1:8787\n\n")
	if !strings.Contains(errOut, "ghlogin login --host http://127.0.0.1:8787") {
		t.Fatalf("stderr %q", errOut)
	}
}

// The secret is gone from its backend although the index lists the account.
func TestMissingSecretIsNoToken(t *testing.T) {
	dir := t.TempDir()
	kr := storetest.NewMemKeyring()
	st, err := store.Open(store.Options{Dir: dir, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Save(context.Background(), "github.com", "octocat", store.BackendKeyring, &store.Secret{Token: tokOctocat}); err != nil {
		t.Fatal(err)
	}
	if err := kr.Delete(store.Service("github.com"), "octocat"); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	out, errOut := run(t, newHelper(st, &stderr), "get", "protocol=https\nhost=github.com\n\n")
	if out != "" || !strings.Contains(errOut, "ghlogin login --host github.com") {
		t.Fatalf("out %q stderr %q", out, errOut)
	}
}

// goneKernel is a kernel keyring whose keys are gone (after a restart).
type goneKernel struct{}

func (goneKernel) Name() string   { return store.BackendKernel }
func (goneKernel) Volatile() bool { return true }
func (goneKernel) Get(context.Context, string, string) (*store.Secret, error) {
	return nil, store.ErrNotFound
}
func (goneKernel) Set(context.Context, string, string, *store.Secret) error { return nil }
func (goneKernel) Delete(context.Context, string, string) error             { return store.ErrNotFound }
func (goneKernel) Probe(context.Context) error                              { return nil }

// The login was kept in the kernel keyring and the machine restarted: git
// hears that, and how to log in again.
func TestKernelLoginGone(t *testing.T) {
	st, err := store.Open(store.Options{Dir: t.TempDir(), Keyring: storetest.NewMemKeyring(), Backends: []store.Backend{goneKernel{}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Save(context.Background(), "github.com", "octocat", store.BackendKernel, &store.Secret{Token: tokOctocat}); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	out, errOut := run(t, newHelper(st, &stderr), "get", "protocol=https\nhost=github.com\n\n")
	want := "the login for octocat on github.com was kept in memory and is gone (the machine restarted or it expired); log in again: ghlogin login --host github.com"
	if out != "" || !strings.Contains(errOut, want) {
		t.Fatalf("out %q stderr %q", out, errOut)
	}
}

func TestPrompt(t *testing.T) {
	newEmpty := func(t *testing.T) *store.Store {
		st, err := store.Open(store.Options{Dir: t.TempDir(), Keyring: storetest.NewMemKeyring()})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	in := "protocol=https\nhost=github.com\n\n"
	t.Run("logs in and answers", func(t *testing.T) {
		st := newEmpty(t)
		h := newHelper(st, &bytes.Buffer{})
		h.TerminalAvailable = func() bool { return true }
		var asked string
		h.Prompt = func(ctx context.Context, host string) (string, error) {
			asked = host
			return "octocat", st.Save(ctx, host, "octocat", store.BackendFile, &store.Secret{Token: "gho_new"})
		}
		out, _ := run(t, h, "get", in)
		if asked != "github.com" || out != "username=octocat\npassword=gho_new\n" {
			t.Fatalf("asked %q out %q", asked, out)
		}
	})
	never := func(context.Context, string) (string, error) {
		panic("prompt must not run")
	}
	for name, mod := range map[string]func(*Helper, *store.Store){
		"GIT_TERMINAL_PROMPT=0": func(h *Helper, _ *store.Store) { h.Getenv = env("GIT_TERMINAL_PROMPT", "0") },
		"no terminal":           func(h *Helper, _ *store.Store) { h.TerminalAvailable = noTTY },
		"git_prompt off": func(h *Helper, st *store.Store) {
			off := false
			st.UpdateConfig(func(f *config.File) error {
				hc, _ := f.EnsureHost("github.com")
				hc.GitPrompt = &off
				return nil
			})
		},
	} {
		t.Run(name, func(t *testing.T) {
			st := newEmpty(t)
			var stderr bytes.Buffer
			h := newHelper(st, &stderr)
			h.TerminalAvailable = func() bool { return true }
			h.Prompt = never
			mod(h, st)
			out, errOut := run(t, h, "get", in)
			if out != "" || !strings.Contains(errOut, "ghlogin login --host github.com") {
				t.Fatalf("out %q stderr %q", out, errOut)
			}
		})
	}
	t.Run("login for another account than asked", func(t *testing.T) {
		st := newEmpty(t)
		var stderr bytes.Buffer
		h := newHelper(st, &stderr)
		h.TerminalAvailable = func() bool { return true }
		h.Prompt = func(ctx context.Context, host string) (string, error) {
			return "hubot", st.Save(ctx, host, "hubot", store.BackendFile, &store.Secret{Token: "gho_new"})
		}
		out, errOut := run(t, h, "get", "protocol=https\nhost=github.com\nusername=octocat\n\n")
		if out != "" || !strings.Contains(errOut, `"octocat"`) {
			t.Fatalf("out %q stderr %q", out, errOut)
		}
	})
	t.Run("unknown host never prompts", func(t *testing.T) {
		st := newEmpty(t)
		h := newHelper(st, &bytes.Buffer{})
		h.TerminalAvailable = func() bool { return true }
		h.Prompt = never
		if out, _ := run(t, h, "get", "protocol=https\nhost=evil.io\n\n"); out != "" {
			t.Fatal(out)
		}
	})
	t.Run("failed login", func(t *testing.T) {
		st := newEmpty(t)
		var stderr bytes.Buffer
		h := newHelper(st, &stderr)
		h.TerminalAvailable = func() bool { return true }
		h.Prompt = func(context.Context, string) (string, error) {
			return "", &oauth.Error{Code: "access_denied"}
		}
		out, errOut := run(t, h, "get", in)
		if out != "" || !strings.Contains(errOut, "access_denied") {
			t.Fatalf("out %q stderr %q", out, errOut)
		}
	})
}

func TestExpiredTokenWithoutRefresh(t *testing.T) {
	st := newFixtureStore(t, t.TempDir())
	if err := st.Save(context.Background(), "github.com", "octocat", store.BackendFile, &store.Secret{Token: tokOctocat, ExpiresAt: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	h := newHelper(st, &stderr)
	out, errOut := run(t, h, "get", "protocol=https\nhost=github.com\n\n")
	if out != "" || !strings.Contains(errOut, "expired") || !strings.Contains(errOut, "ghlogin login --host github.com") {
		t.Fatalf("out %q stderr %q", out, errOut)
	}
	// With the refresher: no refresh token → NeedsLoginError, same answer.
	h.Refresh = sessionFor(st, nil).Refresh
	out, errOut = run(t, h, "get", "protocol=https\nhost=github.com\n\n")
	if out != "" || !strings.Contains(errOut, "could not be refreshed") {
		t.Fatalf("out %q stderr %q", out, errOut)
	}
}

func TestGetRefreshesExpiredToken(t *testing.T) {
	st := newFixtureStore(t, t.TempDir())
	ts := newTokenServer(t, "ghr_first")
	addExpiring(t, st, "ghe.example.com", "app-user", ts)
	h := newHelper(st, &bytes.Buffer{})
	h.Refresh = sessionFor(st, nil).Refresh
	out, _ := run(t, h, "get", "url=https://app-user@ghe.example.com/o/r\n\n")
	if !strings.HasPrefix(out, "username=app-user\npassword=ghu_refreshed0001\npassword_expiry_utc=") {
		t.Fatalf("out %q", out)
	}
	sec, err := st.Secret(context.Background(), store.Account{Host: "ghe.example.com", Login: "app-user"})
	if err != nil || sec.Token != "ghu_refreshed0001" || sec.RefreshToken != "ghr_rotated0001" {
		t.Fatalf("stored %v %v", sec != nil && sec.Token == "ghu_refreshed0001", err)
	}
	// The active account of the host did not change (app-user was saved last).
	a, _ := st.Resolve("ghe.example.com", "")
	if a.Login != "app-user" {
		t.Fatalf("active %q", a.Login)
	}
	// A second get uses the stored token: no new request.
	out2, _ := run(t, h, "get", "url=https://app-user@ghe.example.com/o/r\n\n")
	if out2 != out || ts.refreshes.Load() != 1 {
		t.Fatalf("second get %q, %d refreshes", out2, ts.refreshes.Load())
	}
}

// A refresh that fails for a network reason keeps the old token and uses it
// while it is still valid.
func TestTransientRefreshFailureUsesValidToken(t *testing.T) {
	st := newFixtureStore(t, t.TempDir())
	soon := time.Now().Add(2 * time.Minute).UTC().Truncate(time.Second)
	if err := st.Save(context.Background(), "github.com", "octocat", store.BackendFile, &store.Secret{
		Token: tokOctocat, ExpiresAt: soon, RefreshToken: "ghr_x", RefreshTokenExpiresAt: soon.Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	st.UpdateConfig(func(f *config.File) error {
		f.Hosts["github.com"].TokenURL = "http://127.0.0.1:1/login/oauth/access_token"
		return nil
	})
	var stderr bytes.Buffer
	h := newHelper(st, &stderr)
	h.Refresh = sessionFor(st, &http.Client{Timeout: 2 * time.Second}).Refresh
	out, errOut := run(t, h, "get", "protocol=https\nhost=github.com\n\n")
	if !strings.HasPrefix(out, "username=octocat\npassword="+tokOctocat+"\n") || !strings.Contains(errOut, "could not refresh") {
		t.Fatalf("out %q stderr %q", out, errOut)
	}
	var ne *oauth.NetworkError
	_, err := h.Refresh(context.Background(), store.Account{Host: "github.com", Login: "octocat"}, &store.Secret{Token: tokOctocat, ExpiresAt: soon, RefreshToken: "ghr_x"})
	if !errors.As(err, &ne) {
		t.Fatalf("refresh error %T %v", err, err)
	}
}

func TestCapabilityAndOtherActions(t *testing.T) {
	st := newFixtureStore(t, t.TempDir())
	h := newHelper(st, &bytes.Buffer{})
	if out, _ := run(t, h, "capability", ""); out != "version 0\n" {
		t.Fatalf("capability: %q", out)
	}
	for _, a := range []string{"store", "frobnicate", ""} {
		out, errOut := run(t, h, a, "protocol=https\nhost=github.com\nusername=octocat\npassword=gho_other\n\n")
		if out != "" || errOut != "" {
			t.Fatalf("%s: out %q stderr %q", a, out, errOut)
		}
	}
	sec, _ := st.Secret(context.Background(), store.Account{Host: "github.com", Login: "octocat"})
	if sec.Token != tokOctocat {
		t.Fatal("store changed the stored token")
	}
}

func TestErase(t *testing.T) {
	type tc struct {
		name     string
		in       string
		okTokens []string // tokens the API accepts
		removed  bool
		calls    int32
		stderr   string
	}
	cases := []tc{
		{name: "revoked token is removed", in: "protocol=https\nhost=ghe.example.com\nusername=alice\npassword=" + tokAlice + "\n\n", removed: true, calls: 1, stderr: "has been removed"},
		{name: "active account without username", in: "protocol=https\nhost=ghe.example.com\npassword=" + tokAlice + "\n\n", removed: true, calls: 1},
		{name: "working token is kept (403/404)", in: "protocol=https\nhost=ghe.example.com\nusername=alice\npassword=" + tokAlice + "\n\n", okTokens: []string{tokAlice}, calls: 1},
		{name: "another token is ignored", in: "protocol=https\nhost=ghe.example.com\nusername=alice\npassword=gho_notours\n\n"},
		{name: "no password", in: "protocol=https\nhost=ghe.example.com\nusername=alice\n\n"},
		{name: "other host", in: "protocol=https\nhost=evil.io\nusername=alice\npassword=" + tokAlice + "\n\n"},
		{name: "http", in: "protocol=http\nhost=ghe.example.com\nusername=alice\npassword=" + tokAlice + "\n\n"},
		{name: "malformed", in: "protocol=https\nhost=ghe.example.com\r\nusername=alice\npassword=" + tokAlice + "\n\n", stderr: "carriage return"},
		{name: "unknown user", in: "protocol=https\nhost=ghe.example.com\nusername=bob\npassword=" + tokAlice + "\n\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := newFixtureStore(t, t.TempDir())
			srv, calls := apiServer(t, c.okTokens...)
			pointAPI(t, st, "ghe.example.com", srv)
			var stderr bytes.Buffer
			h := newHelper(st, &stderr)
			h.Check = sessionFor(st, nil).CheckToken
			out, errOut := run(t, h, "erase", c.in)
			if out != "" {
				t.Fatalf("erase printed %q", out)
			}
			if removed := tokenInvalidated(t, st, "ghe.example.com", "alice"); removed != c.removed {
				t.Fatalf("removed=%v want %v (stderr %q)", removed, c.removed, errOut)
			}
			if calls.Load() != c.calls {
				t.Fatalf("%d API calls, want %d", calls.Load(), c.calls)
			}
			if !strings.Contains(errOut, c.stderr) || strings.Contains(errOut, tokAlice) {
				t.Fatalf("stderr %q", errOut)
			}
		})
	}
	t.Run("network error keeps the token", func(t *testing.T) {
		st := newFixtureStore(t, t.TempDir())
		st.UpdateConfig(func(f *config.File) error {
			f.Hosts["ghe.example.com"].APIURL = "http://127.0.0.1:1/api/v3"
			return nil
		})
		var stderr bytes.Buffer
		h := newHelper(st, &stderr)
		h.Check = sessionFor(st, &http.Client{Timeout: 2 * time.Second}).CheckToken
		run(t, h, "erase", "protocol=https\nhost=ghe.example.com\nusername=alice\npassword="+tokAlice+"\n\n")
		if _, err := st.Resolve("ghe.example.com", "alice"); err != nil {
			t.Fatal("removed after a network error")
		}
		if !strings.Contains(stderr.String(), "kept") {
			t.Fatalf("stderr %q", stderr.String())
		}
	})
	t.Run("expiring token with a refresh token is kept", func(t *testing.T) {
		st := newFixtureStore(t, t.TempDir())
		ts := newTokenServer(t, "ghr_first")
		addExpiring(t, st, "ghe.example.com", "app-user", ts)
		var called atomic.Bool
		h := newHelper(st, &bytes.Buffer{})
		h.Check = func(context.Context, string, string) error { called.Store(true); return &githubapi.UnauthorizedError{} }
		run(t, h, "erase", "protocol=https\nhost=ghe.example.com\nusername=app-user\npassword=ghu_expired000000000000000000000000000\n\n")
		if _, err := st.Resolve("ghe.example.com", "app-user"); err != nil || called.Load() {
			t.Fatalf("removed=%v called=%v", err != nil, called.Load())
		}
	})
	t.Run("refused token with a refresh token is refreshed, not removed", func(t *testing.T) {
		st := newFixtureStore(t, t.TempDir())
		ts := newTokenServer(t, "ghr_first")
		addExpiring(t, st, "ghe.example.com", "app-user", ts)
		// Not due: it expires in an hour, but the API refuses it now.
		acct := store.Account{Host: "ghe.example.com", Login: "app-user"}
		sec, _ := st.Secret(context.Background(), acct)
		sec.ExpiresAt = time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		if err := st.Replace(context.Background(), acct.Host, acct.Login, sec); err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		h := newHelper(st, &stderr)
		sess := sessionFor(st, nil)
		h.Check = func(context.Context, string, string) error { return &githubapi.UnauthorizedError{Status: 401} }
		h.RefreshRejected = sess.RefreshRejected
		run(t, h, "erase", "protocol=https\nhost=ghe.example.com\nusername=app-user\npassword="+sec.Token+"\n\n")
		got, err := st.Secret(context.Background(), acct)
		if err != nil || got.Token == sec.Token || !strings.HasPrefix(got.Token, "ghu_refreshed") || ts.refreshes.Load() != 1 {
			t.Fatalf("after erase: %v %+v, %d refreshes", err, got, ts.refreshes.Load())
		}
		if !strings.Contains(stderr.String(), "has been refreshed") {
			t.Fatalf("stderr %q", stderr.String())
		}
		// Its refresh token refused too: the token is removed.
		ts.valid.Store("ghr_none")
		run(t, h, "erase", "protocol=https\nhost=ghe.example.com\nusername=app-user\npassword="+got.Token+"\n\n")
		if !tokenInvalidated(t, st, "ghe.example.com", "app-user") {
			t.Fatal("a token whose refresh token was refused too was kept")
		}
	})
	t.Run("environment token is never erased", func(t *testing.T) {
		st := newFixtureStore(t, t.TempDir())
		h := newHelper(st, &bytes.Buffer{})
		h.Getenv = env("GH_TOKEN", "ghp_env")
		h.Check = func(context.Context, string, string) error { t.Fatal("checked"); return nil }
		run(t, h, "erase", "protocol=https\nhost=github.com\nusername=x-access-token\npassword=ghp_env\n\n")
	})
}

// Refresh errors reach the user with the way out.
func TestNeedsLoginMessage(t *testing.T) {
	st := newFixtureStore(t, t.TempDir())
	ts := newTokenServer(t, "ghr_first")
	addExpiring(t, st, "ghe.example.com", "app-user", ts)
	ts.valid.Store("ghr_somethingelse") // the server no longer knows ours
	var stderr bytes.Buffer
	h := newHelper(st, &stderr)
	h.Refresh = sessionFor(st, nil).Refresh
	out, errOut := run(t, h, "get", "url=https://app-user@ghe.example.com/\n\n")
	if out != "" || !strings.Contains(errOut, "app-user@ghe.example.com expired and could not be refreshed") ||
		!strings.Contains(errOut, "bad_refresh_token") || !strings.Contains(errOut, "ghlogin login --host ghe.example.com") {
		t.Fatalf("out %q stderr %q", out, errOut)
	}
	var nl *refresh.NeedsLoginError
	_, err := h.Get(context.Background(), Request{Protocol: "https", Host: "ghe.example.com", Username: "app-user"})
	if !errors.As(err, &nl) {
		t.Fatalf("%T %v", err, err)
	}
}

// tokenInvalidated reports whether erase removed the account's token while
// keeping the account listed, marked invalid (so status can say so).
func tokenInvalidated(t *testing.T, st *store.Store, host, login string) bool {
	t.Helper()
	a, err := st.Resolve(host, login)
	if err != nil {
		t.Fatalf("the account %s@%s itself was removed: %v", login, host, err)
	}
	_, err = st.Secret(context.Background(), a)
	var nl *store.NotLoggedInError
	if err == nil {
		return false
	}
	if !errors.As(err, &nl) || nl.Invalid == "" || a.Invalid == "" {
		t.Fatalf("after erase: %v (account %+v)", err, a)
	}
	return true
}

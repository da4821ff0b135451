package cli

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/internal/storefake"
	"github.com/ghlogin/ghlogin/store"
)

// The device flow through the emulator: plain lines on stderr, the account
// in the chosen store, the host's settings remembered in the same write.
func TestLoginDevice(t *testing.T) {
	h := newHarness(t, emulator.Config{AutoApproveAfter: 1})
	r := h.run("", "login", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID, "--store", "file")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "Logged in to "+h.host+" as octocat") || r.stdout != "" {
		t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
	}
	st := h.store()
	ac, err := st.Resolve(h.host, "")
	if err != nil || ac.Login != "octocat" || ac.Store != "file" {
		t.Fatalf("%+v %v", ac, err)
	}
	sec, err := st.Secret(context.Background(), ac)
	if err != nil || !strings.HasPrefix(sec.Token, "gho_") {
		t.Fatalf("secret: %v", err)
	}
	r.noToken(t, sec.Token)
	cfg, _ := st.Config()
	if hc := cfg.Hosts[h.host]; hc.Protocol != "http" || hc.ClientID != emulator.DefaultClientID {
		t.Errorf("host settings %+v", hc)
	}
	// The poll interval was waited on the fake clock.
	if len(h.clk.Sleeps()) == 0 {
		t.Error("no sleep on the fake clock")
	}
}

// --json writes the events on stdout and nothing else; no token in them.
func TestLoginDeviceJSON(t *testing.T) {
	h := newHarness(t, emulator.Config{AutoApproveAfter: 2})
	h.vars["GHLOGIN_STORE"] = "file"
	h.vars["GHLOGIN_CLIENT_ID"] = emulator.DefaultClientID
	r := h.run("", "login", "--json", "--host", h.srv.URL)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	events := jsonLines(t, r.stdout)
	if len(events) < 3 || events[0]["event"] != "code" || events[len(events)-1]["event"] != "success" {
		t.Fatalf("events %v", events)
	}
	last := events[len(events)-1]
	if last["host"] != h.host || last["login"] != "octocat" || last["store"] != "file" {
		t.Errorf("success event %v", last)
	}
	sec, _ := h.store().Secret(context.Background(), store.Account{Host: h.host, Login: "octocat"})
	r.noToken(t, sec.Token)
}

// The web flow: the opener gets the authorization URL; the emulator
// approves and redirects to the loopback callback.
func TestLoginWeb(t *testing.T) {
	h := newHarness(t, emulator.Config{AutoApproveWeb: true})
	h.vars["DISPLAY"] = ":0"
	h.vars["GHLOGIN_CLIENT_SECRET"] = emulator.DefaultClientSecret
	h.browse = browser(t)
	r := h.run("", "login", "--web", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID, "--store", "keyring")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if len(h.opened) != 1 || !strings.HasPrefix(h.opened[0], h.srv.URL+"/login/oauth/authorize?") {
		t.Fatalf("opened %v", h.opened)
	}
	ac, err := h.store().Resolve(h.host, "")
	if err != nil || ac.Store != "keyring" || len(h.kr.Services()) != 1 {
		t.Fatalf("%+v %v %v", ac, err, h.kr.Services())
	}
}

func TestLoginWithToken(t *testing.T) {
	h := newHarness(t, emuDefaults)
	tok := h.token(emulator.DefaultClientID, "hubot", "repo").AccessToken
	h.vars["GH_ENTERPRISE_TOKEN"] = "gho_enterprise_canary"
	r := h.run(tok+"\n", "login", "--with-token", "--host", h.srv.URL, "--store", "file", "--api-url", h.srv.URL+"/api/v3")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	// A plain-http host never gets the enterprise token: no warning.
	if !strings.Contains(r.stderr, "Logged in to "+h.host+" as hubot.\nThe token is kept in "+filepath.Join(h.dir, store.CredentialsFile)+" until you log out or the token is revoked: plaintext at rest") ||
		strings.Contains(r.stderr, "GH_ENTERPRISE_TOKEN") {
		t.Errorf("stderr %q", r.stderr)
	}
	r.noToken(t, tok, "gho_enterprise_canary")
	cfg, _ := h.store().Config()
	if hc := cfg.Hosts[h.host]; hc.Protocol != "http" || hc.APIURL != h.srv.URL+"/api/v3" || hc.Accounts["hubot"] == nil {
		t.Errorf("host %+v", hc)
	}
	// Over https the enterprise token applies, and login warns that it
	// shadows what it stores.
	tlsURL := h.startTLS()
	r = h.run(tok+"\n", "login", "--with-token", "--host", tlsURL, "--store", "file")
	if r.code != 0 || !strings.Contains(r.stderr, "GH_ENTERPRISE_TOKEN is set") {
		t.Errorf("login over https: exit %d, stderr %q", r.code, r.stderr)
	}
	r.noToken(t, tok, "gho_enterprise_canary")

	for _, tc := range []struct {
		name, stdin string
		code        int
		want        string
	}{
		{"empty", "", ExitUsage, "no token on standard input"},
		{"blank", "  \n", ExitUsage, "no token on standard input"},
		{"spaces", "gho_a b\n", ExitUsage, "malformed"},
		{"too long", strings.Repeat("x", 5000) + "\n", ExitUsage, "malformed"},
		{"rejected", "gho_REJECTEDCANARY\n", ExitFailure, h.host + " did not accept the token (HTTP 401); nothing was stored. Check that it was copied whole and that it is a token for " + h.host},
	} {
		r := h.run(tc.stdin, "login", "--with-token", "--host", h.srv.URL, "--store", "file")
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q", tc.name, r.code, r.stderr)
		}
		r.noToken(t, "gho_REJECTEDCANARY")
	}
}

// Mistakes found before any network call: usage errors with a hint, or a
// JSON error event under --json.
func TestLoginEarlyErrors(t *testing.T) {
	h := newHarness(t, emuDefaults)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no client ID", []string{"login"}, ExitUsage, "ghlogin config set --host github.com client_id"},
		{"http elsewhere", []string{"login", "--host", "http://example.com"}, ExitUsage, "--host: invalid host"},
		{"issuer as host", []string{"login", "--host", "https://sso.example.com/dex", "--client-id", "x"}, ExitUsage, "without a path; for an OpenID Connect issuer with a path, give it with --issuer https://sso.example.com/dex"},
		{"unknown store", []string{"login", "--store", "vault", "--client-id", "x"}, ExitUsage, `--store: unknown store "vault"`},
		{"bad endpoint", []string{"login", "--token-url", "http://idp.example.com/t", "--client-id", "x"}, ExitUsage, "--token-url: http:// is allowed only for loopback"},
		{"not a URL", []string{"login", "--device-code-url", "notaurl", "--client-id", "x"}, ExitUsage, "--device-code-url: give an absolute URL such as https://auth.example.com/oauth/device/code"},
		{"not a URL, token endpoint", []string{"login", "--token-url", "notaurl", "--client-id", "x"}, ExitUsage, "--token-url: give an absolute URL such as https://auth.example.com/oauth/token"},
		{"bad client auth", []string{"login", "--client-auth", "digest", "--client-id", "x"}, ExitUsage, `--client-auth: client auth "digest"`},
		{"negative timeout", []string{"login", "--timeout", "-1s", "--client-id", "x"}, ExitUsage, "--timeout -1s: give a duration above zero"},
		{"zero timeout", []string{"login", "--timeout", "0", "--client-id", "x"}, ExitUsage, "--timeout 0s: give a duration above zero"},
		{"bad git protocol", []string{"login", "-p", "ftp", "--client-id", "x"}, ExitUsage, `--git-protocol "ftp": use https or ssh`},
	} {
		r := h.run("", tc.args...)
		// A value that cannot be used is explained by its sentence; the
		// pointer to the help is for mistakes in the command line's shape.
		if r.code != tc.code || !strings.HasPrefix(r.stderr, "error: ") || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "--help") {
			t.Errorf("%s: exit %d, stderr %q", tc.name, r.code, r.stderr)
		}
	}
	r := h.run("", "login", "--json")
	ev := jsonLines(t, r.stdout)
	if r.code != ExitUsage || len(ev) != 1 || ev[0]["event"] != "error" || !strings.Contains(ev[0]["message"].(string), "client_id") {
		t.Fatalf("exit %d, events %v", r.code, ev)
	}
	// A client_auth setting that cannot be used names the fix.
	h.store().UpdateConfig(func(f *config.File) error {
		_, err := f.EnsureHost("ghe.example.com")
		return err
	})
	st := h.store()
	st.UpdateConfig(func(f *config.File) error { f.Hosts["ghe.example.com"].ClientAuth = "digest"; return nil })
	r = h.run("", "login", "--host", "ghe.example.com", "--client-id", "x")
	// It is refused when the file is read, naming the file, the key and the fix.
	if r.code != ExitFailure || !strings.Contains(r.stderr, `invalid value "digest" for client_auth`) ||
		!strings.Contains(r.stderr, "ghlogin config set --host ghe.example.com client_auth VALUE") {
		t.Errorf("bad client_auth setting: exit %d, %q", r.code, r.stderr)
	}
}

// An unavailable keyring is never replaced silently: without a terminal
// the login fails naming the file store; on one, the person is asked.
func TestLoginKeyringUnavailable(t *testing.T) {
	h := newHarness(t, emulator.Config{AutoApproveAfter: 1})
	h.kernel = storefake.New(store.BackendKernel, nil)
	noService := &store.KeyringUnavailableError{Op: "read", Err: &store.NoKeyringServiceError{Reason: "no D-Bus session bus"}}
	h.kr.FailWith("", noService)
	args := []string{"login", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID}

	// Nobody to ask: exit 1, naming the stores that work here, nothing started.
	for _, extra := range [][]string{nil, {"--json"}} {
		r := h.run("", append(args, extra...)...)
		if r.code != ExitFailure {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		out := r.stderr
		if extra != nil {
			ev := jsonLines(t, r.stdout)
			if len(ev) != 1 || ev[0]["event"] != "error" {
				t.Fatalf("events %v", ev)
			}
			out = ev[0]["message"].(string)
		}
		for _, want := range []string{"cannot keep the token for " + h.host + " in the OS keyring", "no keyring service on this machine",
			"choose --store kernel (or GHLOGIN_STORE=kernel) for the kernel keyring [in memory only", ", or --store file (or GHLOGIN_STORE=file) for ", "plaintext at rest",
			"ghlogin config set --host http://" + h.host + " store kernel"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: message lacks %q:\n%s", extra, want, out)
			}
		}
		if strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("%v: the message is more than one line:\n%s", extra, out)
		}
	}
	if n := h.emu.Stats().Requests["POST /login/device/code"]; n != 0 {
		t.Errorf("the flow started: %d device code requests", n)
	}

	// On a terminal: the question lists the kernel keyring first, the file
	// store last, then cancel; 2 keeps the token in the file store, and the
	// host remembers it.
	env, _, errb := h.env("2\n")
	env.StdinTTY, env.StderrTTY = true, true
	a := newApp(env)
	lo := &loginOptions{IO: env, Session: a.sess, Host: h.srv.URL, ClientID: emulator.DefaultClientID}
	plain := plainMode()
	lo.Mode = &plain
	if _, err := runLogin(context.Background(), lo); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	q := errb.String()
	for _, want := range []string{"Where should ghlogin keep it instead?", "1) kernel keyring: in memory only", "2) " + h.dir, "plaintext at rest", "3) cancel", "Choose 1-3:"} {
		if !strings.Contains(q, want) {
			t.Errorf("the question lacks %q:\n%s", want, q)
		}
	}
	ac, err := h.store().Resolve(h.host, "")
	if err != nil || ac.Store != "file" {
		t.Fatalf("%+v %v", ac, err)
	}
	cfg, _ := h.store().Config()
	if cfg.Hosts[h.host].Store != "file" {
		t.Errorf("the choice is not remembered: %+v", cfg.Hosts[h.host])
	}
	// The next login asks nothing.
	if r := h.run("", args...); r.code != 0 || strings.Contains(r.stderr, "Choose") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}

	// 3 cancels: exit 130, nothing started.
	h2 := newHarness(t, emulator.Config{AutoApproveAfter: 1})
	h2.kernel = storefake.New(store.BackendKernel, nil)
	h2.kr.FailWith("", noService)
	env, _, errb = h2.env("3\n")
	env.StdinTTY, env.StderrTTY = true, true
	a = newApp(env)
	if code := a.execute(context.Background(), a.newRoot(), []string{"login", "--host", h2.srv.URL, "--client-id", emulator.DefaultClientID}); code != ExitCancelled {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	if n := h2.emu.Stats().Requests["POST /login/device/code"]; n != 0 {
		t.Errorf("the flow started after cancel")
	}
}

// Where the kernel refuses keyctl (a container's seccomp profile), the
// kernel keyring is not left out silently: the question on a terminal and
// the error without one say why it is not offered.
func TestLoginKernelRefusedSaysWhy(t *testing.T) {
	noService := &store.KeyringUnavailableError{Op: "read", Err: &store.NoKeyringServiceError{Reason: "no D-Bus session bus"}}
	seccomp := &store.KernelKeyringUnavailableError{Op: "probe", Err: syscall.EPERM,
		Reason: "the kernel refused keyctl (operation not permitted): a seccomp profile or sandbox, such as a container's default one, blocks it"}
	why := "the kernel keyring is not available here: the kernel refused keyctl (operation not permitted): a seccomp profile or sandbox, such as a container's default one, blocks it"
	newH := func() *harness {
		h := newHarness(t, emulator.Config{AutoApproveAfter: 1})
		h.kernel = storefake.New(store.BackendKernel, seccomp)
		h.kr.FailWith("", noService)
		return h
	}

	// No terminal: exit 1; the message says why the kernel keyring is not
	// among the choices, on its one line.
	h := newH()
	args := []string{"login", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID}
	r := h.run("", args...)
	if r.code != ExitFailure || !strings.Contains(r.stderr, "no keyring service on this machine") || !strings.Contains(r.stderr, "; "+why+"; there is no terminal") ||
		!strings.Contains(r.stderr, "choose --store file (or GHLOGIN_STORE=file)") || strings.Contains(r.stderr, "--store kernel") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Fatalf("no terminal: exit %d\n%s", r.code, r.stderr)
	}

	// On a terminal: the file store is offered, and the question says why
	// the kernel keyring is not.
	env, _, errb := h.env("1\n")
	env.StdinTTY, env.StderrTTY = true, true
	a := newApp(env)
	lo := &loginOptions{IO: env, Session: a.sess, Host: h.srv.URL, ClientID: emulator.DefaultClientID}
	plain := plainMode()
	lo.Mode = &plain
	if _, err := runLogin(context.Background(), lo); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	q := errb.String()
	for _, want := range []string{"\nNot offered: " + why + "\nWhere should ghlogin keep it instead?", "1) " + h.dir, "2) cancel", "Choose 1-2:"} {
		if !strings.Contains(q, want) {
			t.Errorf("the question lacks %q:\n%s", want, q)
		}
	}
	if ac, err := h.store().Resolve(h.host, ""); err != nil || ac.Store != "file" {
		t.Fatalf("%+v %v", ac, err)
	}
}

// A bare loopback name for a server that speaks plain http fails with a
// sentence that names the fix (once), not "check your network connection".
func TestBareLoopbackHostSuggestsHTTP(t *testing.T) {
	h := newHarness(t, emuDefaults)
	r := h.run("", "login", "--host", h.host, "--client-id", emulator.DefaultClientID, "--store", "file")
	want := "a server on this machine that speaks plain http is named with http://, as in --host http://" + h.host
	if r.code != ExitFailure || strings.Count(r.stderr, want) != 1 || strings.Contains(r.stderr, "network connection") || !strings.HasPrefix(r.stderr, "error: ") && !strings.Contains(r.stderr, "\nerror: ") {
		t.Errorf("exit %d %q", r.code, r.stderr)
	}
}

// --web to a GitHub host with no client secret fails before any browser
// opens, naming how to set the secret; a generic server (its own token
// endpoint) may be a public client and is not refused.
func TestWebWithoutClientSecretFailsFirst(t *testing.T) {
	h := newHarness(t, emulator.Config{AutoApproveWeb: true})
	h.vars["DISPLAY"] = ":0"
	h.browse = browser(t)
	r := h.run("", "login", "-w", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID, "--store", "file")
	want := "error: no OAuth client secret for " + h.host + ": GitHub's web flow needs the OAuth app's client secret; set it with " +
		"ghlogin config set --host http://" + h.host + " client_secret - (which reads it from standard input and does not show it) or with GHLOGIN_CLIENT_SECRET, or use the device flow, which needs none (--device)\n"
	// Missing configuration is a failure (1), not a usage error (2).
	if r.code != ExitFailure || r.stderr != want {
		t.Errorf("exit %d %q", r.code, r.stderr)
	}
	r = h.run("", "login", "--web", "--json", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID, "--store", "file")
	if ev := jsonLines(t, r.stdout); r.code != ExitFailure || len(ev) != 1 || ev[0]["event"] != "error" || !strings.Contains(ev[0]["message"].(string), "client_secret") {
		t.Errorf("--json: exit %d %q", r.code, r.stdout)
	}
	if len(h.opened) != 0 {
		t.Errorf("a browser was opened: %v", h.opened)
	}
	if n := h.emu.Stats().Requests["GET /login/oauth/authorize"]; n != 0 {
		t.Errorf("%d authorization requests", n)
	}
	// With the secret from the environment it goes through.
	h.vars["GHLOGIN_CLIENT_SECRET"] = emulator.DefaultClientSecret
	if r := h.run("", "login", "--web", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID, "--store", "file", "--timeout", "20s"); r.code != 0 {
		t.Errorf("with the secret: exit %d %q", r.code, r.stderr)
	}
}

// -c copies the code as soon as it arrives, and says what was done; -p ssh
// is accepted and says that it changes nothing.
func TestLoginClipboardAndGitProtocol(t *testing.T) {
	h := newHarness(t, emulator.Config{AutoApproveAfter: 1})
	h.vars["PATH"] = t.TempDir() // no clipboard tool: the sentence says so
	r := h.run("", "login", "-c", "-p", "ssh", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID, "--store", "file")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	code := strings.Index(r.stderr, "First copy your one-time code: ")
	copied := strings.Index(r.stderr, "Could not copy the code: ")
	if code < 0 || copied < code || strings.Contains(r.stderr, "Copied") {
		t.Errorf("stderr %q", r.stderr)
	}
	if !strings.Contains(r.stderr, "note: ghlogin serves git over https only (ghlogin setup-git makes git use this login); --git-protocol ssh changes nothing and adds no SSH key") {
		t.Errorf("no note for -p ssh: %q", r.stderr)
	}
	if r := h.run("", "login", "-p", "https", "--with-token", "--host", h.srv.URL); strings.Contains(r.stderr, "git-protocol") {
		t.Errorf("-p https: %q", r.stderr)
	}
}

// After a login, the success line says where the token is kept and for how
// long it works there: the kernel keyring until a restart, an expiring
// GitHub App token refreshed until its refresh token's expiry date.
func TestLoginSuccessSaysWhereAndHowLong(t *testing.T) {
	h := newHarness(t, emulator.Config{AutoApproveAfter: 1})
	h.kernel = storefake.New(store.BackendKernel, nil)
	r := h.run("", "login", "--host", h.srv.URL, "--client-id", emulator.AppClientID, "--store", "kernel")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	refreshUntil := h.clk.Now().Add(emulator.DefaultRefreshLifetime).Local().Format("2 January 2006")
	flat := strings.Join(strings.Fields(r.stderr), " ")
	for _, want := range []string{
		"Logged in to " + h.host + " as octocat.",
		"The token is kept in the kernel keyring until the machine restarts, or ",
		"unused: in memory only, never written to disk; only you can read it. Then log in again: ghlogin login --host http://" + h.host + ".",
		"It expires in 8 hours and is refreshed when used, until " + refreshUntil + " (when its refresh token expires).",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	// The JSON success event is unchanged.
	h.kernel = storefake.New(store.BackendKernel, nil)
	r = h.run("", "login", "--json", "--host", h.srv.URL, "--client-id", emulator.AppClientID, "--store", "kernel")
	evs := jsonLines(t, r.stdout)
	if last := evs[len(evs)-1]; r.code != 0 || len(last) != 4 || last["store"] != "kernel" {
		t.Errorf("exit %d, success event %v", r.code, last)
	}
}

// The sentence that ends a login says what happens when the token expires:
// refreshed when used when the server gave a refresh token, and otherwise
// that it cannot be refreshed and a new login is needed then, with the
// login command for the host as --host names it (http:// for a plain-http
// loopback host).
func TestKeptTextSaysWhatHappensAtExpiry(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	keyring := store.StoreInfo{Name: "keyring", Place: "the OS keyring"}
	kernel := store.StoreInfo{Name: "kernel", Place: "the kernel keyring", Protection: "in memory only", Lifetime: "until the machine restarts", Volatile: true}
	file := store.StoreInfo{Name: "file", Place: "/c/credentials.json", Protection: "plaintext at rest", Lifetime: "until you log out", PlaintextAtRest: true}
	in8h := now.Add(8 * time.Hour)
	const host = "http://127.0.0.1:8787"
	for _, tc := range []struct {
		name string
		l    session.Login
		want string
	}{
		{"keyring, no expiry", session.Login{Kept: keyring}, ""},
		{"keyring, refreshable", session.Login{Kept: keyring, ExpiresAt: in8h, Refreshable: true},
			"The token is kept in the OS keyring. It expires in 8 hours and is refreshed when used."},
		{"keyring, no refresh token", session.Login{Kept: keyring, ExpiresAt: in8h},
			"The token is kept in the OS keyring. It expires in 8 hours and cannot be refreshed (the server gave no refresh token); then log in again: ghlogin login --host " + host + "."},
		{"file, no refresh token", session.Login{Kept: file, ExpiresAt: in8h},
			"The token is kept in /c/credentials.json until you log out: plaintext at rest. It expires in 8 hours and cannot be refreshed (the server gave no refresh token); then log in again: ghlogin login --host " + host + "."},
		{"kernel, no refresh token", session.Login{Kept: kernel, ExpiresAt: in8h},
			"The token is kept in the kernel keyring until the machine restarts: in memory only. Then log in again: ghlogin login --host " + host + ". It expires in 8 hours and cannot be refreshed (the server gave no refresh token), so log in again then too."},
		{"kernel, refreshable", session.Login{Kept: kernel, ExpiresAt: in8h, Refreshable: true},
			"The token is kept in the kernel keyring until the machine restarts: in memory only. Then log in again: ghlogin login --host " + host + ". It expires in 8 hours and is refreshed when used."},
		// A token shorter than a minute never "expires in 0 minutes".
		{"keyring, 12 s left", session.Login{Kept: keyring, ExpiresAt: now.Add(12 * time.Second), Refreshable: true},
			"The token is kept in the OS keyring. It expires in 12 seconds and is refreshed when used."},
		{"keyring, under a second left", session.Login{Kept: keyring, ExpiresAt: now.Add(300 * time.Millisecond), Refreshable: true},
			"The token is kept in the OS keyring. It expires in 1 second and is refreshed when used."},
		{"keyring, 70 s left", session.Login{Kept: keyring, ExpiresAt: now.Add(70 * time.Second), Refreshable: true},
			"The token is kept in the OS keyring. It expires in 1 minute and is refreshed when used."},
	} {
		got := keptText(&tc.l, host, now)
		if got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
		if !tc.l.Refreshable && strings.Contains(got, "refreshed when used") {
			t.Errorf("%s: promises a refresh without a refresh token: %q", tc.name, got)
		}
	}
}

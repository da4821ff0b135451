package e2e

import (
	"encoding/json"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
)

// startTLSEmulator serves a new emulator over https on loopback (the
// emulator derives its URLs from the request) and returns it, its URL and
// the SSL_CERT_FILE=… variable that makes ghlogin trust its certificate.
func startTLSEmulator(t *testing.T, cfg emulator.Config) (*emulator.Server, string, string) {
	t.Helper()
	emu := emulator.New(cfg)
	ts := httptest.NewTLSServer(emu)
	t.Cleanup(ts.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return emu, ts.URL, "SSL_CERT_FILE=" + ca
}

// emuHost is the host name ghlogin gives a started emulator ("127.0.0.1:PORT").
func emuHost(srv *emulator.Server) string { return strings.TrimPrefix(srv.URL(), "http://") }

// issueToken has the emulator issue a token to login, as if that person had
// approved a login in the browser.
func issueToken(t *testing.T, srv *emulator.Server, login string, scopes ...string) string {
	t.Helper()
	ts, err := srv.IssueToken(emulator.DefaultClientID, login, scopes)
	if err != nil {
		t.Fatal(err)
	}
	return ts.AccessToken
}

// loginTok runs `login --with-token` for host with tok on stdin and
// fails the test unless it succeeds.
func (s *sandbox) loginTok(host, tok string, extraEnv ...string) run {
	s.t.Helper()
	r := s.runEnv(s.with(extraEnv...), tok+"\n", "login", "--with-token", "--host", host)
	if r.code != 0 {
		s.t.Fatalf("login --with-token --host %s: exit %d\nstderr:\n%s", host, r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, tok) {
		s.t.Fatal("login --with-token echoed the token")
	}
	return r
}

// mustToken runs `ghlogin token` with args and returns the printed token.
func (s *sandbox) mustToken(args ...string) string {
	s.t.Helper()
	r := s.run("", append([]string{"token"}, args...)...)
	if r.code != 0 {
		s.t.Fatalf("token %v: exit %d\nstderr:\n%s", args, r.code, r.stderr)
	}
	if r.stderr != "" {
		s.t.Errorf("token %v wrote to stderr: %q", args, r.stderr)
	}
	return strings.TrimSuffix(r.stdout, "\n")
}

// acctStatusDoc is `status --json`.
type acctStatusDoc struct {
	Hosts []acctStatusHost `json:"hosts"`
}

type acctStatusHost struct {
	Host     string              `json:"host"`
	EnvToken *string             `json:"env_token"`
	Accounts []acctStatusAccount `json:"accounts"`
}

type acctStatusAccount struct {
	Login     string     `json:"login"`
	Active    bool       `json:"active"`
	Store     string     `json:"store"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *time.Time `json:"expires_at"`
	State     string     `json:"state"`
	Error     string     `json:"error"`
}

// parseAcctStatus decodes `status --json` output, checking it is exactly one
// JSON document whose hosts and accounts carry every documented field.
func parseAcctStatus(t *testing.T, out string) acctStatusDoc {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("status --json is not JSON: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("status --json printed more than one JSON document:\n%s", out)
	}
	hostsRaw, ok := raw["hosts"].([]any)
	if !ok {
		t.Fatalf("status --json has no hosts array:\n%s", out)
	}
	for _, h := range hostsRaw {
		hm, _ := h.(map[string]any)
		for _, k := range []string{"host", "env_token", "accounts"} {
			if _, ok := hm[k]; !ok {
				t.Errorf("status --json host lacks %q: %v", k, hm)
			}
		}
		accts, _ := hm["accounts"].([]any)
		for _, a := range accts {
			am, _ := a.(map[string]any)
			for _, k := range []string{"login", "active", "store", "scopes", "expires_at", "state"} {
				if _, ok := am[k]; !ok {
					t.Errorf("status --json account lacks %q: %v", k, am)
				}
			}
		}
	}
	var doc acctStatusDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	return doc
}

// find returns host's entry, failing the test when it is missing.
func (d acctStatusDoc) find(t *testing.T, host string) acctStatusHost {
	t.Helper()
	for _, h := range d.Hosts {
		if h.Host == host {
			return h
		}
	}
	t.Fatalf("status has no host %s: %+v", host, d)
	return acctStatusHost{}
}

// account returns login's entry of h, failing the test when it is missing.
func (h acctStatusHost) account(t *testing.T, login string) acctStatusAccount {
	t.Helper()
	for _, a := range h.Accounts {
		if a.Login == login {
			return a
		}
	}
	t.Fatalf("status lists no account %s on %s: %+v", login, h.Host, h.Accounts)
	return acctStatusAccount{}
}

// active returns the logins marked active on h.
func (h acctStatusHost) active() []string {
	var out []string
	for _, a := range h.Accounts {
		if a.Active {
			out = append(out, a.Login)
		}
	}
	return out
}

func TestAccountsTwoOnOneHostSwitchAndLogout(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second})
	host := emuHost(srv)
	s := newSandbox(t)
	octo := issueToken(t, srv, "octocat", "repo", "read:org")
	hubot := issueToken(t, srv, "hubot", "gist")

	r := s.loginTok(srv.URL(), octo)
	if !strings.Contains(r.stderr, "Logged in to "+host+" as octocat") {
		t.Errorf("login --with-token does not say who logged in:\n%s", r.stderr)
	}
	s.loginTok(srv.URL(), hubot)

	activeIs := func(want string) {
		t.Helper()
		r := s.run("", "status", "--json", "--offline", "--host", host)
		if r.code != 0 {
			t.Fatalf("status --offline: exit %d\n%s", r.code, r.stderr)
		}
		h := parseAcctStatus(t, r.stdout).find(t, host)
		if len(h.Accounts) != 2 {
			t.Fatalf("want two accounts on %s, got %+v", host, h.Accounts)
		}
		if got := h.active(); len(got) != 1 || got[0] != want {
			t.Fatalf("active accounts = %v, want [%s]", got, want)
		}
		// The bare host name finds the http:// host the login recorded.
		if got := s.mustToken("--host", host); got != map[string]string{"octocat": octo, "hubot": hubot}[want] {
			t.Fatalf("token does not follow the active account %s", want)
		}
	}
	// The second login on a host adds an account and makes it active.
	activeIs("hubot")

	// switch toggles between two accounts.
	r = s.run("", "switch", "--host", host)
	if r.code != 0 || !strings.Contains(r.stderr, "octocat") {
		t.Fatalf("switch: exit %d, stderr %q", r.code, r.stderr)
	}
	activeIs("octocat")
	if r := s.run("", "switch", "--host", host); r.code != 0 {
		t.Fatalf("second switch: exit %d, stderr %q", r.code, r.stderr)
	}
	activeIs("hubot")

	// switch --user names the account.
	if r := s.run("", "switch", "--host", host, "--user", "octocat"); r.code != 0 {
		t.Fatalf("switch --user octocat: exit %d, stderr %q", r.code, r.stderr)
	}
	activeIs("octocat")
	if r := s.run("", "switch", "--host", host, "--user", "octocat"); r.code != 0 {
		t.Fatalf("switch --user to the account already active: exit %d, stderr %q", r.code, r.stderr)
	}
	activeIs("octocat")
	r = s.run("", "switch", "--host", host, "--user", "monalisa")
	if r.code != 4 || !strings.Contains(r.stderr, "monalisa") {
		t.Errorf("switch --user to an unknown account: exit %d, stderr %q; want 4 naming the account", r.code, r.stderr)
	}
	activeIs("octocat")

	// token --user reads a given account, whichever is active.
	if got := s.mustToken("--host", host, "--user", "hubot"); got != hubot {
		t.Error("token --user hubot does not print hubot's token")
	}
	if r := s.run("", "token", "--host", host, "--user", "monalisa"); r.code != 4 || r.stdout != "" {
		t.Errorf("token --user for an unknown account: exit %d, stdout %q; want 4 and nothing on stdout", r.code, r.stdout)
	}

	// logout of the active account activates the other.
	r = s.run("", "logout", "--host", host)
	if r.code != 0 {
		t.Fatalf("logout: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "Logged out of "+host+" as octocat") || !strings.Contains(r.stderr, "now hubot") {
		t.Errorf("logout does not say what it did:\n%s", r.stderr)
	}
	if got := s.mustToken("--host", host); got != hubot {
		t.Fatal("after logging out octocat, token does not print hubot's token")
	}
	creds, _ := os.ReadFile(filepath.Join(s.dir, "config", "credentials.json"))
	if strings.Contains(string(creds), octo) {
		t.Error("logout left octocat's token in credentials.json")
	}

	// logout of the last account leaves nothing: token exits 4 with a hint.
	if r := s.run("", "logout", "--host", srv.URL(), "--user", "hubot"); r.code != 0 {
		t.Fatalf("logout --user hubot: exit %d\n%s", r.code, r.stderr)
	}
	r = s.run("", "token", "--host", host)
	if r.code != 4 {
		t.Fatalf("token after the last logout: exit %d, want 4", r.code)
	}
	if r.stdout != "" {
		t.Errorf("token with no account wrote %q to stdout", r.stdout)
	}
	if want := "ghlogin login --host http://" + host; !strings.Contains(r.stderr, want) {
		t.Errorf("token with no account: stderr %q does not name %q", r.stderr, want)
	}
	creds, _ = os.ReadFile(filepath.Join(s.dir, "config", "credentials.json"))
	if strings.Contains(string(creds), hubot) {
		t.Error("logout left hubot's token in credentials.json")
	}
	if r := s.run("", "logout", "--host", host); r.code != 4 {
		t.Errorf("logout with no account: exit %d, want 4 (stderr %q)", r.code, r.stderr)
	}
	if r := s.run("", "switch", "--host", host); r.code != 4 {
		t.Errorf("switch with no account: exit %d, want 4 (stderr %q)", r.code, r.stderr)
	}
}

func TestStatusTextAndJSON(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second})
	host := emuHost(srv)
	s := newSandbox(t)
	octo := issueToken(t, srv, "octocat", "repo", "read:org")
	hubot := issueToken(t, srv, "hubot", "gist")
	s.loginTok(srv.URL(), octo)
	s.loginTok(srv.URL(), hubot)

	r := s.run("", "status", "--json")
	if r.code != 0 {
		t.Fatalf("status --json: exit %d\n%s", r.code, r.stderr)
	}
	doc := parseAcctStatus(t, r.stdout)
	if len(doc.Hosts) != 1 {
		t.Fatalf("want one host, got %+v", doc.Hosts)
	}
	h := doc.find(t, host)
	if h.EnvToken != nil {
		t.Errorf("env_token = %q with no environment token set", *h.EnvToken)
	}
	o, hb := h.account(t, "octocat"), h.account(t, "hubot")
	if o.State != "valid" || hb.State != "valid" {
		t.Errorf("states = %s, %s; want valid, valid (errors %q %q)", o.State, hb.State, o.Error, hb.Error)
	}
	if o.Active || !hb.Active {
		t.Errorf("active: octocat %v, hubot %v; want hubot only", o.Active, hb.Active)
	}
	if o.Store != "file" || hb.Store != "file" {
		t.Errorf("stores = %q, %q; want file", o.Store, hb.Store)
	}
	if strings.Join(o.Scopes, ",") != "read:org,repo" && strings.Join(o.Scopes, ",") != "repo,read:org" {
		t.Errorf("octocat's scopes = %v, want repo and read:org", o.Scopes)
	}
	if strings.Join(hb.Scopes, ",") != "gist" {
		t.Errorf("hubot's scopes = %v, want gist", hb.Scopes)
	}
	if o.ExpiresAt != nil {
		t.Errorf("an OAuth app token does not expire; expires_at = %v", o.ExpiresAt)
	}
	if strings.Contains(r.stdout+r.stderr, octo) || strings.Contains(r.stdout+r.stderr, hubot) {
		t.Fatal("status --json printed a token")
	}

	r = s.run("", "status")
	if r.code != 0 {
		t.Fatalf("status: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{host, "octocat", "hubot (active)", "store: file", "scopes: gist", "token: valid"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status text lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "octocat (active)") {
		t.Errorf("status marks octocat active:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, octo) || strings.Contains(r.stdout+r.stderr, hubot) {
		t.Fatal("status printed a token")
	}

	// --host limits the output; another host has nothing.
	if r := s.run("", "status", "--json", "--host", "ghe.example.com"); r.code != 4 {
		t.Errorf("status --host with no account there: exit %d, want 4", r.code)
	} else if d := parseAcctStatus(t, r.stdout); len(d.Hosts) != 0 {
		t.Errorf("status --json --host ghe.example.com lists %+v", d.Hosts)
	}
}

func TestStatusRevokedTokenIsInvalid(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second})
	host := emuHost(srv)
	s := newSandbox(t)
	octo := issueToken(t, srv, "octocat", "repo")
	hubot := issueToken(t, srv, "hubot", "repo")
	s.loginTok(srv.URL(), octo)
	s.loginTok(srv.URL(), hubot)
	srv.Revoke(octo)

	r := s.run("", "status", "--json")
	if r.code != 4 {
		t.Fatalf("status with a revoked token: exit %d, want 4 (a new login is needed)\n%s", r.code, r.stderr)
	}
	h := parseAcctStatus(t, r.stdout).find(t, host)
	o := h.account(t, "octocat")
	if o.State != "invalid" {
		t.Errorf("revoked token's state = %q, want invalid", o.State)
	}
	if !strings.Contains(o.Error, "ghlogin login --host http://"+host) {
		t.Errorf("revoked token's error %q does not say how to log in again", o.Error)
	}
	if hb := h.account(t, "hubot"); hb.State != "valid" {
		t.Errorf("hubot's state = %q, want valid", hb.State)
	}

	r = s.run("", "status")
	if r.code != 4 {
		t.Fatalf("status (text) with a revoked token: exit %d, want 4", r.code)
	}
	if !strings.Contains(r.stdout, "✗ octocat") || !strings.Contains(r.stdout, "token: invalid") {
		t.Errorf("status text does not flag octocat's token as invalid:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, octo) {
		t.Fatal("status printed the revoked token")
	}

	// --offline asks no server, but it reads the file store: status took
	// the dead token out of it, and --offline says so; hubot's is there,
	// unchecked.
	if r := s.run("", "status", "--offline", "--json"); r.code != 4 {
		t.Errorf("status --offline: exit %d, want 4", r.code)
	} else {
		h := parseAcctStatus(t, r.stdout).find(t, host)
		if o := h.account(t, "octocat"); o.State != "invalid" || !strings.Contains(o.Error, "ghlogin login --host http://"+host) {
			t.Errorf("status --offline: octocat %q %q, want invalid, saying how to log in again", o.State, o.Error)
		}
		if hb := h.account(t, "hubot"); hb.State != "unchecked" {
			t.Errorf("status --offline: hubot %q, want unchecked", hb.State)
		}
	}

	// Logging out of the invalid account makes status pass again.
	if r := s.run("", "logout", "--host", host, "--user", "octocat"); r.code != 0 {
		t.Fatalf("logout: exit %d\n%s", r.code, r.stderr)
	}
	if r := s.run("", "status"); r.code != 0 {
		t.Errorf("status after logging out of the revoked account: exit %d\n%s", r.code, r.stdout)
	}
}

func TestStatusUnreachableAndOffline(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second})
	host := emuHost(srv)
	s := newSandbox(t)
	octo := issueToken(t, srv, "octocat", "repo")
	s.loginTok(srv.URL(), octo)

	before := srv.Stats().Requests
	r := s.run("", "status", "--offline", "--json")
	if r.code != 0 {
		t.Fatalf("status --offline: exit %d\n%s", r.code, r.stderr)
	}
	if a := parseAcctStatus(t, r.stdout).find(t, host).account(t, "octocat"); a.State != "unchecked" {
		t.Errorf("status --offline state = %q, want unchecked", a.State)
	}
	if after := srv.Stats().Requests; totalRequests(after) != totalRequests(before) {
		t.Errorf("status --offline made requests: before %v, after %v", before, after)
	}

	srv.Close()
	start := time.Now()
	r = s.run("", "status", "--json")
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("status took %v with the host down", took)
	}
	a := parseAcctStatus(t, r.stdout).find(t, host).account(t, "octocat")
	if a.State != "unreachable" {
		t.Errorf("state with the host down = %q, want unreachable", a.State)
	}
	if a.Error == "" {
		t.Error("an unreachable host has no error message")
	}
	// The token was not shown to be bad: status does not fail for it.
	if r.code != 0 {
		t.Errorf("status with the host down: exit %d, want 0 (only invalid tokens fail it)", r.code)
	}
	r = s.run("", "status")
	if !strings.Contains(r.stdout, "? octocat") || !strings.Contains(r.stdout, "token: unreachable") {
		t.Errorf("status text does not say the host is unreachable:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, octo) {
		t.Fatal("status printed the token")
	}

	r = s.run("", "status", "--offline")
	if r.code != 0 {
		t.Errorf("status --offline with the host down: exit %d, want 0\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "octocat (active)") || strings.Contains(r.stdout, "unreachable") {
		t.Errorf("status --offline output:\n%s", r.stdout)
	}

	// token does not need the network for a token that does not expire.
	if got := s.mustToken("--host", host); got != octo {
		t.Error("token with the host down does not print the stored token")
	}
}

func totalRequests(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestStatusNoAccounts(t *testing.T) {
	s := newSandbox(t)
	r := s.run("", "status")
	if r.code != 4 {
		t.Fatalf("status with no account: exit %d, want 4", r.code)
	}
	if !strings.Contains(r.stderr, "ghlogin login") {
		t.Errorf("status with no account does not say how to log in: %q", r.stderr)
	}
	r = s.run("", "status", "--json")
	if r.code != 4 {
		t.Fatalf("status --json with no account: exit %d, want 4", r.code)
	}
	if d := parseAcctStatus(t, r.stdout); len(d.Hosts) != 0 {
		t.Errorf("status --json with no account lists %+v", d.Hosts)
	}
}

func TestEnvTokensTakePrecedence(t *testing.T) {
	const canary = "gho_ENVCANARY0123456789abcdefghijklmnopq"
	const enterprise = "gho_ENTERPRISECANARY0123456789abcdefghij"
	// Enterprise tokens go only to https hosts: the emulator over TLS,
	// trusted through SSL_CERT_FILE.
	srv, srvURL, certEnv := startTLSEmulator(t, emulator.Config{Interval: time.Second})
	host := strings.TrimPrefix(srvURL, "https://")
	s := newSandbox(t)
	s.env = s.with(certEnv)
	octo := issueToken(t, srv, "octocat", "repo")

	// github.com: GH_TOKEN, then GITHUB_TOKEN; no network, no account needed.
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{[]string{"GH_TOKEN=" + canary}, canary},
		{[]string{"GITHUB_TOKEN=" + canary}, canary},
		{[]string{"GH_TOKEN=" + canary, "GITHUB_TOKEN=gho_other"}, canary},
	} {
		r := s.runEnv(s.with(tc.env...), "", "token")
		if r.code != 0 || strings.TrimSpace(r.stdout) != tc.want {
			t.Errorf("token with %v: exit %d, stdout %q, stderr %q", tc.env, r.code, r.stdout, r.stderr)
		}
	}
	// GH_ENTERPRISE_TOKEN is not for github.com, GH_TOKEN not for other hosts.
	if r := s.runEnv(s.with("GH_ENTERPRISE_TOKEN="+enterprise), "", "token"); r.code != 4 || r.stdout != "" {
		t.Errorf("GH_ENTERPRISE_TOKEN used for github.com: exit %d, stdout %q", r.code, r.stdout)
	}
	if r := s.runEnv(s.with("GH_TOKEN="+canary), "", "token", "--host", srvURL); r.code != 4 || r.stdout != "" {
		t.Errorf("GH_TOKEN used for %s: exit %d, stdout %q", host, r.code, r.stdout)
	}

	// login warns that the environment token shadows what it stores.
	r := s.runEnv(s.with("GH_ENTERPRISE_TOKEN="+enterprise), octo+"\n", "login", "--with-token", "--host", srvURL)
	if r.code != 0 {
		t.Fatalf("login --with-token: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "GH_ENTERPRISE_TOKEN") || !strings.Contains(r.stderr, "precedence") {
		t.Errorf("login does not warn that GH_ENTERPRISE_TOKEN shadows the stored token:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr+r.stdout, enterprise) || strings.Contains(r.stderr+r.stdout, octo) {
		t.Fatal("login printed a token")
	}
	// For github.com (stopped before any network call: no client ID).
	r = s.runEnv(s.with("GH_TOKEN="+canary, "GHLOGIN_CLIENT_ID="), "", "login", "--host", "github.com")
	if r.code != 2 || !strings.Contains(r.stderr, "GH_TOKEN is set") {
		t.Errorf("login for github.com with GH_TOKEN set: exit %d, stderr %q; want a warning naming GH_TOKEN", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, canary) {
		t.Fatal("login printed GH_TOKEN's value")
	}

	for _, v := range []string{"GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"} {
		env := s.with(v + "=" + enterprise)
		if r := s.runEnv(env, "", "token", "--host", host); r.code != 0 || strings.TrimSpace(r.stdout) != enterprise {
			t.Errorf("token --host %s with %s: exit %d, stdout %q", host, v, r.code, r.stdout)
		}
		// --user names a stored account: the environment does not apply.
		if r := s.runEnv(env, "", "token", "--host", host, "--user", "octocat"); r.code != 0 || strings.TrimSpace(r.stdout) != octo {
			t.Errorf("token --user octocat with %s set: exit %d, stderr %q", v, r.code, r.stderr)
		}
	}

	// status names the variable, never its value.
	for _, args := range [][]string{{"status"}, {"status", "--json"}, {"status", "--offline"}, {"status", "--json", "--host", host}} {
		r := s.runEnv(s.with("GH_ENTERPRISE_TOKEN="+enterprise, "GH_TOKEN="+canary), "", args...)
		if r.code != 0 {
			t.Errorf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, canary) || strings.Contains(r.stdout+r.stderr, enterprise) {
			t.Fatalf("%v printed an environment token's value", args)
		}
		if strings.Contains(r.stdout+r.stderr, octo) {
			t.Fatalf("%v printed the stored token", args)
		}
		if !strings.Contains(r.stdout, "GH_ENTERPRISE_TOKEN") {
			t.Errorf("%v does not say GH_ENTERPRISE_TOKEN is used for %s:\n%s", args, host, r.stdout)
		}
		if args[len(args)-1] == "--json" {
			d := parseAcctStatus(t, r.stdout)
			if h := d.find(t, host); h.EnvToken == nil || *h.EnvToken != "GH_ENTERPRISE_TOKEN" {
				t.Errorf("env_token for %s = %v, want GH_ENTERPRISE_TOKEN", host, h.EnvToken)
			}
			if gh := d.find(t, "github.com"); gh.EnvToken == nil || *gh.EnvToken != "GH_TOKEN" || len(gh.Accounts) != 0 {
				t.Errorf("github.com entry = %+v, want env_token GH_TOKEN and no account", gh)
			}
		}
	}
	// With only GH_TOKEN, there is something to use for github.com.
	r = s.runEnv(s.with("GITHUB_TOKEN="+canary), "", "status", "--json", "--host", "github.com")
	if r.code != 0 {
		t.Errorf("status --host github.com with GITHUB_TOKEN: exit %d, want 0\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, canary) {
		t.Fatal("status printed GITHUB_TOKEN's value")
	}
	if gh := parseAcctStatus(t, r.stdout).find(t, "github.com"); gh.EnvToken == nil || *gh.EnvToken != "GITHUB_TOKEN" {
		t.Errorf("env_token = %v, want GITHUB_TOKEN", gh.EnvToken)
	}

	// logout reminds that the environment token still applies.
	r = s.runEnv(s.with("GH_ENTERPRISE_TOKEN="+enterprise), "", "logout", "--host", srvURL)
	if r.code != 0 || !strings.Contains(r.stderr, "GH_ENTERPRISE_TOKEN is still set") {
		t.Errorf("logout with GH_ENTERPRISE_TOKEN set: exit %d, stderr %q", r.code, r.stderr)
	}

	// A plain-http host (the emulator on loopback) never gets an enterprise
	// token: once the real server stops, any local user can bind its port.
	plain := startEmulator(t, emulator.Config{Interval: time.Second})
	plainTok := issueToken(t, plain, "octocat", "repo")
	env := s.with("GH_ENTERPRISE_TOKEN="+enterprise, "GITHUB_ENTERPRISE_TOKEN="+enterprise)
	r = s.runEnv(env, plainTok+"\n", "login", "--with-token", "--host", plain.URL())
	if r.code != 0 || strings.Contains(r.stderr, "precedence") {
		t.Errorf("login --with-token --host %s: exit %d; it must not say an enterprise token applies:\n%s", plain.URL(), r.code, r.stderr)
	}
	if r := s.runEnv(env, "", "token", "--host", plain.URL()); r.code != 0 || strings.TrimSpace(r.stdout) != plainTok {
		t.Errorf("token --host %s with GH_ENTERPRISE_TOKEN set: exit %d; want the stored token, not the environment's", plain.URL(), r.code)
	}
	r = s.runEnv(env, "", "status", "--json", "--offline", "--host", plain.URL())
	if h := parseAcctStatus(t, r.stdout).find(t, emuHost(plain)); h.EnvToken != nil {
		t.Errorf("status says %s is used for the http host %s", *h.EnvToken, emuHost(plain))
	}
	if strings.Contains(r.stdout+r.stderr, enterprise) {
		t.Fatal("status printed an environment token's value")
	}
}

func TestLoginWithToken(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second})
	host := emuHost(srv)
	s := newSandbox(t)
	credsPath := filepath.Join(s.dir, "config", "credentials.json")

	// Empty or blank stdin is a usage error, and nothing is asked of the server.
	for _, in := range []string{"", "\n", "   \n"} {
		r := s.run(in, "login", "--with-token", "--host", srv.URL())
		if r.code != 2 || !strings.Contains(r.stderr, "standard input") {
			t.Errorf("login --with-token with stdin %q: exit %d, stderr %q; want 2 and a hint", in, r.code, r.stderr)
		}
	}
	if n := srv.Stats().Requests; totalRequests(n) != 0 {
		t.Errorf("an empty token reached the server: %v", n)
	}

	// A token the API rejects (401) is not stored.
	const bad = "gho_REJECTEDCANARY0123456789abcdefghijk"
	r := s.run(bad+"\n", "login", "--with-token", "--host", srv.URL())
	if r.code != 1 {
		t.Fatalf("login --with-token with a bad token: exit %d, want 1\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "401") && !strings.Contains(strings.ToLower(r.stderr), "bad credentials") {
		t.Errorf("the message does not say the server rejected the token: %q", r.stderr)
	}
	if !strings.Contains(r.stderr, host) {
		t.Errorf("the message does not name the host: %q", r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, bad) {
		t.Fatal("the rejected token appeared in the output")
	}
	if b, err := os.ReadFile(credsPath); err == nil && strings.Contains(string(b), bad) {
		t.Fatal("the rejected token was stored")
	}
	if r := s.run("", "status", "--offline"); r.code != 4 {
		t.Errorf("status after a rejected token: exit %d, want 4\n%s", r.code, r.stdout)
	}

	// A good token: checked with GET /user, stored, in the file store as asked.
	octo := issueToken(t, srv, "octocat", "repo", "gist")
	users := srv.Stats().Requests
	r = s.loginTok(srv.URL(), octo)
	if !strings.Contains(r.stderr, "as octocat") {
		t.Errorf("login --with-token does not say who logged in: %q", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("login --with-token wrote to stdout: %q", r.stdout)
	}
	if got := srv.Stats().Requests["GET /api/v3/user"]; got != users["GET /api/v3/user"]+1 {
		t.Errorf("login --with-token made %d GET /api/v3/user requests, want 1 (requests: %v)", got-users["GET /api/v3/user"], srv.Stats().Requests)
	}
	b, err := os.ReadFile(credsPath)
	if err != nil || !strings.Contains(string(b), octo) {
		t.Fatalf("the token is not in credentials.json (err %v)", err)
	}
	if fi, err := os.Stat(credsPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials.json mode = %v, want 0600 (err %v)", fi.Mode().Perm(), err)
	}
	if got := s.mustToken("--host", host); got != octo {
		t.Fatal("token does not print the token given to login --with-token")
	}
	a := parseAcctStatus(t, s.run("", "status", "--json").stdout).find(t, host).account(t, "octocat")
	if a.State != "valid" || strings.Join(a.Scopes, ",") != "repo,gist" && strings.Join(a.Scopes, ",") != "gist,repo" {
		t.Errorf("status of the token given to login --with-token: %+v", a)
	}

	// A rejected token later leaves the stored account alone.
	r = s.run(bad+"\n", "login", "--with-token", "--host", srv.URL())
	if r.code != 1 {
		t.Errorf("second bad token: exit %d, want 1", r.code)
	}
	if got := s.mustToken("--host", host); got != octo {
		t.Fatal("a rejected login --with-token changed the stored token")
	}

	// A token with spaces inside is malformed: usage error, not sent anywhere.
	if r := s.run("gho_abc def\n", "login", "--with-token", "--host", srv.URL()); r.code != 2 {
		t.Errorf("a token with a space: exit %d, want 2 (stderr %q)", r.code, r.stderr)
	}

	// An unreachable host: exit 1, nothing stored.
	s2 := newSandbox(t)
	down := startEmulator(t, emulator.Config{})
	downURL := down.URL()
	down.Close()
	r = s2.run(octo+"\n", "login", "--with-token", "--host", downURL)
	if r.code != 1 || !strings.Contains(r.stderr, emuHost(down)) {
		t.Errorf("login --with-token with the host down: exit %d, stderr %q", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, octo) {
		t.Fatal("the token appeared in an error message")
	}
	if r := s2.run("", "token", "--host", downURL); r.code != 4 {
		t.Errorf("token after a failed login: exit %d, want 4", r.code)
	}
}

func TestHostNamesNormalized(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second})
	host := emuHost(srv)
	s := newSandbox(t)
	octo := issueToken(t, srv, "octocat", "repo")
	hubot := issueToken(t, srv, "hubot", "repo")

	upper := "HTTP://" + host + "/"
	s.loginTok(upper, octo)
	if got := s.mustToken("--host", host); got != octo {
		t.Fatalf("token --host %s does not find the account logged in with --host %s", host, upper)
	}
	for _, h := range []string{srv.URL(), "http://" + host, upper, host} {
		if got := s.mustToken("--host", h); got != octo {
			t.Errorf("token --host %s does not find the account", h)
		}
	}
	// A second login through another spelling adds to the same host.
	s.loginTok(host, hubot)
	r := s.run("", "status", "--json", "--offline")
	doc := parseAcctStatus(t, r.stdout)
	if len(doc.Hosts) != 1 {
		t.Fatalf("two spellings of one host made %d hosts: %+v", len(doc.Hosts), doc.Hosts)
	}
	if h := doc.find(t, host); len(h.Accounts) != 2 {
		t.Errorf("accounts on %s: %+v", host, h.Accounts)
	}
	if r := s.run("", "switch", "--host", upper, "--user", "octocat"); r.code != 0 {
		t.Errorf("switch --host %s: exit %d, stderr %q", upper, r.code, r.stderr)
	}
	if got := s.mustToken("--host", host); got != octo {
		t.Error("switch through another spelling of the host did not change the active account")
	}
	if r := s.run("", "logout", "--host", "http://"+host, "--user", "hubot"); r.code != 0 {
		t.Errorf("logout --host http://%s: exit %d, stderr %q", host, r.code, r.stderr)
	}
	if r := s.run("", "token", "--host", upper, "--user", "hubot"); r.code != 4 {
		t.Errorf("token --user hubot after logout: exit %d, want 4", r.code)
	}
	// The bare loopback name still uses http after the login recorded it.
	if r := s.run("", "status", "--host", host); r.code != 0 || !strings.Contains(r.stdout, "token: valid") {
		t.Errorf("status --host %s: exit %d\n%s%s", host, r.code, r.stdout, r.stderr)
	}
	// http is refused for a host that is not loopback.
	if r := s.run(octo+"\n", "login", "--with-token", "--host", "HTTP://ghe.example.com"); r.code != 2 {
		t.Errorf("login over http to a non-loopback host: exit %d, want 2", r.code)
	}
}

func TestConfigSetGetListRoundTrip(t *testing.T) {
	s := newSandbox(t)
	const h = "auth.example.com"
	settings := [][2]string{
		{"client_id", "my-client"},
		{"device_code_url", "https://auth.example.com/oauth2/device"},
		{"authorize_url", "https://auth.example.com/oauth2/authorize"},
		{"token_url", "https://auth.example.com/oauth2/token"},
		{"api_url", "https://api.example.com"},
		{"userinfo_url", "https://auth.example.com/userinfo"},
		{"login_field", "preferred_username"},
		{"client_auth", "basic"},
		{"scopes", "openid,profile"},
		{"pkce", "false"},
		{"store", "file"},
		{"callback_port", "8765"},
		{"git_prompt", "false"},
	}
	for _, kv := range settings {
		if r := s.run("", "config", "set", "--host", h, kv[0], kv[1]); r.code != 0 {
			t.Fatalf("config set %s %s: exit %d, stderr %q", kv[0], kv[1], r.code, r.stderr)
		}
	}
	for _, kv := range settings {
		r := s.run("", "config", "get", "--host", "https://AUTH.example.com", kv[0])
		if r.code != 0 || strings.TrimSpace(r.stdout) != kv[1] {
			t.Errorf("config get %s = %q (exit %d, stderr %q), want %q", kv[0], r.stdout, r.code, r.stderr, kv[1])
		}
	}
	r := s.run("", "config", "list", "--host", h)
	if r.code != 0 {
		t.Fatalf("config list: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, kv := range settings {
		line := kv[0] + "=" + kv[1]
		if kv[0] == "store" {
			line += " (from GHLOGIN_STORE)" // the sandbox sets it too
		}
		if !hasOutputLine(r.stdout, line) {
			t.Errorf("config list lacks %s=%s:\n%s", kv[0], kv[1], r.stdout)
		}
	}

	// The client secret is never shown by list.
	const secret = "SECRETCANARY-0123456789"
	if r := s.run(secret+"\n", "config", "set", "--host", h, "client_secret", "-"); r.code != 0 {
		t.Fatalf("config set client_secret -: exit %d, stderr %q", r.code, r.stderr)
	}
	r = s.run("", "config", "list", "--host", h)
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Error("config list shows the client secret")
	}
	if !strings.Contains(r.stdout, "client_secret=********") {
		t.Errorf("config list does not show that a client secret is set:\n%s", r.stdout)
	}

	// Bad keys and values are usage errors that say what is allowed.
	for _, bad := range [][]string{
		{"nosuchkey", "x"},
		{"client_auth", "digest"},
		{"pkce", "maybe"},
		{"callback_port", "70000"},
		{"token_url", "ftp://auth.example.com/token"},
		{"store", "cloud"},
		{"protocol", "http"},
	} {
		r := s.run("", "config", "set", "--host", h, bad[0], bad[1])
		if r.code != 2 {
			t.Errorf("config set %s %s: exit %d, want 2 (stderr %q)", bad[0], bad[1], r.code, r.stderr)
		}
		if r.stderr == "" {
			t.Errorf("config set %s %s: no message", bad[0], bad[1])
		}
	}
	if r := s.run("", "config", "get", "--host", h, "client_auth"); strings.TrimSpace(r.stdout) != "basic" {
		t.Errorf("a refused value changed client_auth to %q", r.stdout)
	}

	// An empty value unsets a setting; a global setting ignores --host.
	if r := s.run("", "config", "set", "--host", h, "scopes", ""); r.code != 0 {
		t.Fatalf("unset scopes: exit %d", r.code)
	}
	if r := s.run("", "config", "get", "--host", h, "scopes"); r.code != 0 || strings.TrimSpace(r.stdout) != "" {
		t.Errorf("scopes after unset = %q", r.stdout)
	}
	if r := s.run("", "config", "set", "keyring_timeout", "750ms"); r.code != 0 {
		t.Fatalf("config set keyring_timeout: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := s.run("", "config", "get", "--host", h, "keyring_timeout"); strings.TrimSpace(r.stdout) != "750ms" {
		t.Errorf("keyring_timeout = %q, want 750ms", r.stdout)
	}
	// Nothing about this host leaked into github.com's settings.
	if r := s.run("", "config", "get", "client_id"); strings.TrimSpace(r.stdout) != "" {
		t.Errorf("github.com's client_id = %q", r.stdout)
	}
}

func hasOutputLine(out, want string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) == want {
			return true
		}
	}
	return false
}

func TestConfigListShowsDerivedEndpoints(t *testing.T) {
	s := newSandbox(t)
	r := s.run("", "config", "list", "--host", "GHE.example.com")
	if r.code != 0 {
		t.Fatalf("config list: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{
		"device_code_url=https://ghe.example.com/login/device/code",
		"authorize_url=https://ghe.example.com/login/oauth/authorize",
		"token_url=https://ghe.example.com/login/oauth/access_token",
		"api_url=https://ghe.example.com/api/v3",
		"userinfo_url=https://ghe.example.com/api/v3/user",
		"scopes=repo,read:org,gist",
		// The sandbox sets GHLOGIN_STORE=file: that is the store in force.
		"store=file (from GHLOGIN_STORE)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("config list --host ghe.example.com lacks %q:\n%s", want, r.stdout)
		}
	}
	r = s.run("", "config", "list")
	for _, want := range []string{
		"device_code_url=https://github.com/login/device/code",
		"api_url=https://api.github.com",
		"userinfo_url=https://api.github.com/user",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("config list (github.com) lacks %q:\n%s", want, r.stdout)
		}
	}
	// A setting replaces the default, and what derives from it follows.
	if r := s.run("", "config", "set", "--host", "ghe.example.com", "api_url", "https://api.ghe.example.com/"); r.code != 0 {
		t.Fatalf("config set api_url: exit %d, stderr %q", r.code, r.stderr)
	}
	r = s.run("", "config", "list", "--host", "ghe.example.com")
	if !hasOutputLine(r.stdout, "api_url=https://api.ghe.example.com") {
		t.Errorf("config list does not show the api_url set:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "userinfo_url=https://api.ghe.example.com/user") {
		t.Errorf("userinfo_url does not follow api_url:\n%s", r.stdout)
	}
}

func TestConfigEndpointsUsedByLogin(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second})
	host := emuHost(srv)
	s := newSandbox(t)
	octo := issueToken(t, srv, "octocat", "repo")
	s.loginTok(srv.URL(), octo)
	// Point the API elsewhere: status now reaches nothing.
	down := startEmulator(t, emulator.Config{})
	downURL := down.URL()
	down.Close()
	if r := s.run("", "config", "set", "--host", host, "api_url", downURL+"/api/v3"); r.code != 0 {
		t.Fatalf("config set api_url: exit %d, stderr %q", r.code, r.stderr)
	}
	a := parseAcctStatus(t, s.run("", "status", "--json").stdout).find(t, host).account(t, "octocat")
	if a.State != "unreachable" {
		t.Errorf("status with api_url pointing at a closed port: state %q, want unreachable", a.State)
	}
	// The emulator also serves GET /user at the root: a generic userinfo_url works.
	if r := s.run("", "config", "set", "--host", host, "userinfo_url", srv.URL()+"/user"); r.code != 0 {
		t.Fatalf("config set userinfo_url: exit %d, stderr %q", r.code, r.stderr)
	}
	a = parseAcctStatus(t, s.run("", "status", "--json").stdout).find(t, host).account(t, "octocat")
	if a.State != "valid" {
		t.Errorf("status with userinfo_url set: state %q (%s), want valid", a.State, a.Error)
	}
	// login_field names the JSON field holding the login.
	if r := s.run("", "config", "set", "--host", host, "login_field", "node_id"); r.code != 0 {
		t.Fatalf("config set login_field: exit %d", r.code)
	}
	r := s.loginTok(host, octo)
	if !strings.Contains(r.stderr, "as U_emulator_octocat") {
		t.Errorf("login with login_field=node_id: %q", r.stderr)
	}
}

func TestConfigSetHTTPHostThenLogin(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second, AutoApproveAfter: 1})
	host := emuHost(srv)
	s := newSandbox(t)
	// Configure the client ID through the http:// URL; the host is then
	// known to speak http, so the bare name works for every later command.
	if r := s.run("", "config", "set", "--host", srv.URL(), "client_id", emulator.DefaultClientID); r.code != 0 {
		t.Fatalf("config set client_id: exit %d, stderr %q", r.code, r.stderr)
	}
	r := s.run("", "config", "list", "--host", host)
	for _, want := range []string{"protocol=http", "client_id=" + emulator.DefaultClientID, "device_code_url=" + srv.URL() + "/login/device/code (default)"} {
		if !hasOutputLine(r.stdout, want) {
			t.Errorf("config list lacks %q:\n%s", want, r.stdout)
		}
	}
	r = s.runEnv(s.with("GHLOGIN_CLIENT_ID="), "", "login", "--host", host)
	if r.code != 0 {
		t.Fatalf("login --host %s with the configured client ID: exit %d\n%s", host, r.code, r.stderr)
	}
	if tok := s.mustToken("--host", host); !tokenShape.MatchString(tok) {
		t.Fatalf("token = %q", tok)
	}
}

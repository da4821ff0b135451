package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
)

// signalWriter is a goroutine-safe buffer that closes seen when it first
// holds want.
type signalWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestEmulatorCommand(t *testing.T) {
	h := newHarness(t, emuDefaults)
	for _, args := range [][]string{
		{"emulator", "--addr", "0.0.0.0:8787"},
		{"emulator", "--addr", "example.com:80"},
		{"emulator", "extra"},
		{"emulator", "--no-such-flag"},
	} {
		if r := h.run("", args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d %q", args, r.code, r.stderr)
		}
	}

	banner := func(args ...string) string {
		t.Helper()
		env, _, errb := h.env("")
		out := &signalWriter{want: "Press Ctrl-C", seen: make(chan struct{})}
		env.Stdout = out
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int)
		go func() { done <- Main(ctx, append([]string{"emulator", "--addr", "127.0.0.1:0"}, args...), env) }()
		select {
		case <-out.seen:
		case code := <-done:
			t.Fatalf("the emulator stopped: exit %d\n%s", code, errb.String())
		}
		cancel()
		if code := <-done; code != 0 {
			t.Fatalf("exit %d", code)
		}
		return out.String()
	}
	out := banner()
	for _, want := range []string{"GitHub emulator listening on http://127.0.0.1:", "Client ID (OAuth app, device flow): " + emulator.DefaultClientID,
		"Client secret (web flow only):      " + emulator.DefaultClientSecret, "Web flow: GHLOGIN_CLIENT_SECRET=" + emulator.DefaultClientSecret + " ghlogin login --web --host http://127.0.0.1:",
		"Workload identity fakes (ghlogin oidc): to use them, run\n  export ", "GHLOGIN_STS_URL="} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, ": set\n") {
		t.Errorf("a line ends in \": set\":\n%s", out)
	}
	// --app makes the main app a GitHub App, and the banner says so; it
	// names the main app's ID and secret as the flags set them.
	out = banner("--app", "--client-id", "Iv1.custom", "--client-secret", "s3cret")
	for _, want := range []string{"Client ID (GitHub App, device flow): Iv1.custom\n", "Client secret (web flow only):       s3cret\n",
		"ghlogin login --host http://127.0.0.1:", " --client-id Iv1.custom\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("--app: output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "OAuth app") {
		t.Errorf("--app: the banner says OAuth app:\n%s", out)
	}
}

// The demo logs in to its own emulator in a temporary directory and leaves
// the person's configuration alone.
func TestDemo(t *testing.T) {
	h := newHarness(t, emuDefaults)
	r := h.run("", "demo")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"ghlogin demo: a GitHub emulator is running at http://127.0.0.1:", "No terminal", "ghlogin demo --manual", "Logged in to 127.0.0.1:",
		"While the demo runs, `ghlogin token` prints the stored token (gho_…", "`ghlogin status` says:", "✓ octocat (active)",
		"nothing was saved, and ghlogin token will not find this login"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.stdout != "" {
		t.Errorf("stdout %q", r.stdout)
	}
	if _, err := os.Stat(h.dir); !os.IsNotExist(err) {
		t.Errorf("the demo wrote to the config directory: %v", err)
	}
}

func TestOIDCFlags(t *testing.T) {
	const provider = "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/providers/prov"
	h := newHarness(t, emuDefaults)
	dir := t.TempDir()
	out := filepath.Join(dir, "cred.json")
	for _, args := range [][]string{
		{"oidc", "token", "--source", "nowhere"},
		{"oidc", "token", "--format", "weird"},
		{"oidc", "token", "--licenses"},
		{"oidc", "token", "extra"},
		{"oidc", "exchange"},
		{"oidc", "exchange", "--provider", "projects/123"},
		{"oidc", "exchange", "--provider", provider, "--lifetime", "2h"},
		{"oidc", "exchange", "--provider", provider, "--id-token-audience", "x"},
		{"oidc", "exchange", "--provider", provider, "--service-account", "not-an-email"},
		{"oidc", "exchange", "--provider", provider, "--subject-token-file", "-", "--source", "gce"},
		{"oidc", "cred-config", "--provider", provider},
		{"oidc", "cred-config", "--provider", provider, "--output", out},
		{"oidc", "cred-config", "--provider", provider, "--output", out, "--credential-file", "a", "--credential-url", "https://x"},
		{"oidc", "cred-config", "--provider", provider, "--output", out, "--credential-file", "a", "--header", "X=1"},
		{"oidc", "cred-config", "--provider", provider, "--output", out, "--github-actions", "--format", "json"},
		{"oidc", "cred-config", "--provider", provider, "--output", out, "--credential-file", "a", "--audience", "x"},
		{"oidc", "cred-config", "--provider", provider, "--output", out, "--credential-file", "a", "--lifetime", "1h"},
	} {
		r := h.run("", args...)
		help := "Run 'ghlogin oidc " + args[1] + " --help' for usage."
		if r.code != ExitUsage || !strings.HasPrefix(r.stderr, "error: --") && !strings.HasPrefix(r.stderr, "error: give") && !strings.HasPrefix(r.stderr, "error: ghlogin oidc") ||
			strings.Contains(r.stderr, "Run '") && !strings.Contains(r.stderr, help) {
			t.Errorf("%v: exit %d %q", args, r.code, r.stderr)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("a refused command wrote its file")
	}
	if r := h.run("", "oidc"); r.code != 0 || !strings.Contains(r.stdout, "cred-config") {
		t.Errorf("oidc: exit %d %q", r.code, r.stdout)
	}
	// A file source with an endpoint named by its alias: written, 0600.
	tokenFile := filepath.Join(dir, "token")
	r := h.run("", "oidc", "cred-config", "--provider", provider, "--credential-file", tokenFile, "--output", out, "--sts-endpoint", "https://sts.example.com/v1/token")
	if r.code != 0 || !strings.Contains(r.stderr, "GOOGLE_APPLICATION_CREDENTIALS="+out) {
		t.Fatalf("exit %d %q", r.code, r.stderr)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%v %v", fi, err)
	}
	var doc map[string]any
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &doc); err != nil || doc["type"] != "external_account" || doc["token_url"] != "https://sts.example.com/v1/token" {
		t.Fatalf("%v %s", err, b)
	}
}

// When the workload has no token, only the commands that take
// --subject-token-file suggest it.
func TestOIDCSuggestsOnlyItsOwnFlags(t *testing.T) {
	h := newHarness(t, emuDefaults)
	// Nothing listens there; the metadata library reads the process's
	// environment itself.
	h.vars["GCE_METADATA_HOST"] = "127.0.0.1:1"
	t.Setenv("GCE_METADATA_HOST", "127.0.0.1:1")
	const provider = "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/providers/prov"
	r := h.run("", "oidc", "token", "--source", "gce", "--audience", "x")
	if r.code != ExitFailure || !strings.Contains(r.stderr, "GCE_METADATA_HOST") || strings.Contains(r.stderr, "--subject-token-file") {
		t.Errorf("token: exit %d %q", r.code, r.stderr)
	}
	r = h.run("", "oidc", "token", "--source", "github-actions")
	if r.code != ExitFailure || !strings.Contains(r.stderr, "id-token: write") || strings.Contains(r.stderr, "--subject-token-file") {
		t.Errorf("token, no Actions variables: exit %d %q", r.code, r.stderr)
	}
	r = h.run("", "oidc", "exchange", "--provider", provider, "--source", "gce")
	if r.code != ExitFailure || !strings.Contains(r.stderr, "or pass the token with --subject-token-file") {
		t.Errorf("exchange: exit %d %q", r.code, r.stderr)
	}
}

// The demo's ssh -L hint is a command to paste: the address from
// SSH_CONNECTION (with its port when not 22), else a placeholder said as one.
func TestSSHForward(t *testing.T) {
	for _, tc := range []struct{ conn, user, want string }{
		{"10.0.0.1 5555 10.0.0.2 22", "alice", "ssh -L 4242:127.0.0.1:4242 alice@10.0.0.2"},
		{"10.0.0.1 5555 10.0.0.2 2222", "alice", "ssh -L 4242:127.0.0.1:4242 -p 2222 alice@10.0.0.2"},
		{"fe80::1 5555 fe80::2 22", "alice", "ssh -L 4242:127.0.0.1:4242 alice@fe80::2"},
		{"10.0.0.1 5555 10.0.0.2 22", "", "ssh -L 4242:127.0.0.1:4242 USER@10.0.0.2 (USER: your user name here)"},
		{"", "alice", "ssh -L 4242:127.0.0.1:4242 alice@THIS-HOST (THIS-HOST: this machine's address)"},
		{"garbage", "", "ssh -L 4242:127.0.0.1:4242 USER@THIS-HOST (USER@THIS-HOST: your user name here and this machine's address)"},
		{"10.0.0.1 5555 10.0.0.2 22", "a b", "ssh -L 4242:127.0.0.1:4242 USER@10.0.0.2 (USER: your user name here)"},
	} {
		env := map[string]string{"SSH_CONNECTION": tc.conn, "USER": tc.user}
		if got := sshForward(func(k string) string { return env[k] }, "4242"); got != tc.want {
			t.Errorf("SSH_CONNECTION=%q USER=%q: %q, want %q", tc.conn, tc.user, got, tc.want)
		}
	}
}

// demo --manual never approves by itself: with no display it says how to
// reach the emulator's page, and waits for the person's approval.
func TestDemoManual(t *testing.T) {
	h := newHarness(t, emuDefaults)
	env, _, _ := h.env("")
	env.Getenv = func(k string) string {
		switch k {
		case "SSH_CONNECTION":
			return "10.0.0.1 5555 10.0.0.2 22"
		case "USER":
			return "alice"
		}
		return h.vars[k]
	}
	env.StdinTTY, env.StdoutTTY = true, true
	errb := &signalWriter{want: "/login/device", seen: make(chan struct{})}
	env.Stderr = errb
	var tty bytes.Buffer
	env.Stdout = &tty
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := newApp(env)
	var o *demoOptions
	code := runCmd(t, a, newDemoCmd(a, func(d *demoOptions) error { o = d; return nil }), "--manual")
	if code != 0 || !o.Manual {
		t.Fatalf("exit %d, %+v", code, o)
	}
	// The banner goes to the UI's intro; with TERM=dumb it is plain lines.
	h.vars["TERM"] = "dumb"
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"demo", "--manual"}, env) }()
	select {
	case <-errb.seen:
	case c := <-done:
		t.Fatalf("the demo ended: exit %d\n%s", c, errb.String())
	}
	banner := errb.String()
	for _, want := range []string{"Approve the code yourself in the emulator's page, http://127.0.0.1:", "w3m"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	// The ssh command is whole: the address this session came in at.
	_, rest, _ := strings.Cut(banner, "running at http://127.0.0.1:")
	port, _, _ := strings.Cut(rest, " ")
	if want := "run ssh -L " + port + ":127.0.0.1:" + port + " alice@10.0.0.2, then open that URL"; !strings.Contains(strings.Join(strings.Fields(banner), " "), want) {
		t.Errorf("banner lacks %q:\n%s", want, banner)
	}
	// Two polls later it is still waiting: nobody approved.
	h.clk.Advance(10 * time.Second)
	select {
	case c := <-done:
		t.Fatalf("the demo approved itself: exit %d\n%s", c, errb.String())
	default:
	}
	cancel()
	if c := <-done; c != ExitCancelled {
		t.Errorf("cancelled: exit %d", c)
	}
}

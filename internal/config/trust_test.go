//go:build !windows

package config

import (
	"errors"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/safe"
)

// trustDir is a config directory with a valid config.toml, both private.
func trustDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ghlogin")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(Path(dir), []byte("[hosts.\"github.com\"]\nclient_id = \"Iv1.abc\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func wantUntrusted(t *testing.T, err error, path string, problem TrustProblem, fix string) {
	t.Helper()
	var ue *UntrustedError
	if !errors.As(err, &ue) || ue.Path != path || ue.Problem != problem {
		t.Fatalf("err = %v, want a *UntrustedError (problem %d) for %s", err, problem, path)
	}
	if ue.Fix != fix || !strings.HasSuffix(err.Error(), "; run: "+fix) {
		t.Errorf("message %q, want it to end with the fix %q", err, fix)
	}
}

func TestTrustGroupWritableFile(t *testing.T) {
	dir := trustDir(t)
	if err := os.Chmod(Path(dir), 0o664); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	wantUntrusted(t, err, Path(dir), OthersCanWrite, "chmod go-w "+Path(dir))
	if !strings.Contains(err.Error(), "mode 0664") {
		t.Errorf("message %q does not give the mode", err)
	}
	// A file others may only read is fine: config.toml holds no secret.
	if err := os.Chmod(Path(dir), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err != nil {
		t.Fatalf("a 0644 config file: %v", err)
	}
}

func TestTrustWorldWritableDir(t *testing.T) {
	dir := trustDir(t)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	wantUntrusted(t, err, dir, OthersCanWrite, "chmod go-w "+dir)
	if !strings.Contains(err.Error(), "the config directory "+dir) {
		t.Errorf("message %q does not name the directory", err)
	}
	// Writes refuse it too.
	wantUntrusted(t, New().Save(dir), dir, OthersCanWrite, "chmod go-w "+dir)
	// Even with no config file in it yet.
	if err := os.Remove(Path(dir)); err != nil {
		t.Fatal(err)
	}
	_, err = Load(dir)
	wantUntrusted(t, err, dir, OthersCanWrite, "chmod go-w "+dir)
}

// asRoot is for tests that give a file to another user: only root can.
func asRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs as root; this test needs root to chown a file to another user")
		}
		t.Skip("needs root to chown a file to another user")
	}
}

func nobody(t *testing.T) int {
	t.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	return uid
}

func TestTrustOtherOwner(t *testing.T) {
	asRoot(t)
	uid := nobody(t)
	me, _ := user.Current()
	dir := trustDir(t)
	if err := os.Chown(Path(dir), uid, -1); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	wantUntrusted(t, err, Path(dir), OtherOwner, "chown "+me.Username+" "+Path(dir))
	if !strings.Contains(err.Error(), "belongs to user nobody") {
		t.Errorf("message %q does not name the owner", err)
	}
	if err := os.Chown(Path(dir), 0, -1); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, -1); err != nil {
		t.Fatal(err)
	}
	_, err = Load(dir)
	wantUntrusted(t, err, dir, OtherOwner, "chown "+me.Username+" "+dir)
}

// credentials.json-like files (private) may not be readable by others either.
func TestTrustPrivateFile(t *testing.T) {
	dir := trustDir(t)
	p := filepath.Join(dir, "secrets")
	if err := os.WriteFile(p, []byte("{}"), 0o640); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	wantUntrusted(t, CheckFile(p, fi, true), p, OthersCanRead, "chmod 600 "+p)
	if err := CheckFile(p, fi, false); err != nil {
		t.Errorf("a 0640 file that holds no secret: %v", err)
	}
}

// Endpoint URLs (and every other setting) read from the file obey the rules
// `config set` and the flags obey: the error names the file, the host and
// the key.
func TestLoadRefusesBadSettings(t *testing.T) {
	for _, c := range []struct{ toml, says string }{
		{"[hosts.\"ghe.example.com\"]\ntoken_url = \"http://collector.example/token\"\n", `[hosts."ghe.example.com"] invalid value "http://collector.example/token" for token_url: http:// is allowed only for loopback`},
		{"[hosts.\"ghe.example.com\"]\napi_url = \"https://user:hunter2@ghe.example.com/api\"\n", `[hosts."ghe.example.com"] invalid value for api_url: remove the user name and password`},
		{"[hosts.\"ghe.example.com\"]\ndevice_code_url = \"/relative\"\n", "for device_code_url"},
		{"[hosts.\"ghe.example.com\"]\nuserinfo_url = \"https://ghe.example.com/u#x\"\n", "for userinfo_url: remove the #fragment"},
		{"[hosts.\"ghe.example.com\"]\nprotocol = \"http\"\n", "for protocol: http is allowed only for loopback hosts"},
		{"[hosts.\"github.com\"]\nclient_secret = \"a b\"\n", "invalid value for client_secret"},
		{"keyring_timeout = \"1h\"\n", "for keyring_timeout: give a duration above 0 and at most 5m0s"},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(Path(dir), []byte(c.toml), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Path != Path(dir) || !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), Path(dir)) {
			t.Errorf("%s: err = %v, want a *ParseError naming the file and saying %q", c.toml, err, c.says)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error repeats a password: %v", err)
		}
	}
	// The cause stays reachable: a URL error says which rule.
	dir := t.TempDir()
	_ = os.WriteFile(Path(dir), []byte("[hosts.\"h.example\"]\ntoken_url = \"http://h.example/t\"\n"), 0o600)
	_, err := Load(dir)
	var se *safe.URLError
	if !errors.As(err, &se) || se.Problem != safe.PlainHTTP {
		t.Errorf("err = %#v, want it to unwrap to a *safe.URLError (PlainHTTP)", err)
	}
	// Loopback http endpoints stay fine.
	_ = os.WriteFile(Path(dir), []byte("[hosts.\"127.0.0.1:8787\"]\nprotocol = \"http\"\ntoken_url = \"http://127.0.0.1:8787/login/oauth/access_token\"\n"), 0o600)
	if _, err := Load(dir); err != nil {
		t.Errorf("a loopback http host: %v", err)
	}
}

// TestTrustInside: directories and files that ghlogin keeps inside the
// config directory obey its rules, and their errors name them as such.
func TestTrustInside(t *testing.T) {
	dir := trustDir(t)
	sub := filepath.Join(dir, "locks")
	if err := CheckInside(sub, false); err != nil {
		t.Fatalf("a missing directory: %v", err)
	}
	if err := EnsureInside(sub); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(sub); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("EnsureInside made %v (%v), want mode 0700", fi.Mode(), err)
	}
	if err := os.Chmod(sub, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{CheckInside(sub, false), EnsureInside(sub)} {
		wantUntrusted(t, err, sub, OthersCanWrite, "chmod go-w "+sub)
		if !strings.HasPrefix(err.Error(), "ghlogin will not use the directory "+sub+":") {
			t.Errorf("message %q", err)
		}
	}
	os.Chmod(sub, 0o700)

	file := filepath.Join(sub, "x.result")
	if _, err := ReadInside(file, false, 100); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
	if err := os.WriteFile(file, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadInside(file, false, 100); err != nil || string(b) != "hello" {
		t.Errorf("ReadInside = %q, %v", b, err)
	}
	if _, err := ReadInside(file, false, 3); err == nil {
		t.Error("a file over the limit was read")
	}
	os.Chmod(file, 0o646)
	_, err := ReadInside(file, false, 100)
	wantUntrusted(t, err, file, OthersCanWrite, "chmod go-w "+file)
	if !strings.HasPrefix(err.Error(), "ghlogin will not use the file "+file+":") {
		t.Errorf("message %q", err)
	}
	wantUntrusted(t, CheckInside(file, false), file, OthersCanWrite, "chmod go-w "+file)
	os.Chmod(file, 0o644)
	if _, err := ReadInside(file, false, 100); err != nil {
		t.Errorf("a 0644 file: %v", err)
	}
	_, err = ReadInside(file, true, 100)
	wantUntrusted(t, err, file, OthersCanRead, "chmod 600 "+file)
	if _, err := ReadInside(sub, false, 100); err == nil {
		t.Error("a directory was read as a file")
	}
}

func TestTrustInsideOtherOwner(t *testing.T) {
	asRoot(t)
	uid := nobody(t)
	me, _ := user.Current()
	dir := trustDir(t)
	sub := filepath.Join(dir, "discovery")
	file := filepath.Join(sub, "h.json")
	if err := EnsureInside(sub); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chown(file, uid, -1)
	_, err := ReadInside(file, false, 100)
	wantUntrusted(t, err, file, OtherOwner, "chown "+me.Username+" "+file)
	os.Chown(sub, uid, -1)
	wantUntrusted(t, EnsureInside(sub), sub, OtherOwner, "chown "+me.Username+" "+sub)
}

// A config.toml that holds a client_secret is held to credentials.json's
// rule: others may not read it. Without one, reading is fine.
func TestTrustReadableClientSecret(t *testing.T) {
	dir := trustDir(t)
	f, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if f.HoldsSecret() {
		t.Fatal("HoldsSecret without a client_secret")
	}
	f.Hosts["github.com"].ClientSecret = "0123456789abcdef0123456789abcdef01234567"
	if err := f.Save(dir); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(Path(dir))
	if !strings.HasPrefix(string(data), Header) || !strings.Contains(Header, "client_secret") || strings.Contains(Header, "no secrets") {
		t.Errorf("the file does not say what it holds:\n%s", data)
	}
	if fi, _ := os.Stat(Path(dir)); fi.Mode().Perm() != 0o600 {
		t.Errorf("Save wrote mode %v", fi.Mode())
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
		os.Chmod(Path(dir), mode)
		_, err := Load(dir)
		wantUntrusted(t, err, Path(dir), OthersCanRead, "chmod 600 "+Path(dir))
	}
	os.Chmod(Path(dir), 0o600)
	if _, err := Load(dir); err != nil {
		t.Errorf("mode 0600: %v", err)
	}
}

// The mode in the message is the one chmod and ls -l show, special bits
// included.
func TestUntrustedModeShowsSpecialBits(t *testing.T) {
	e := &UntrustedError{Path: "/x", Dir: true, Problem: OthersCanWrite, Mode: fs.ModeDir | fs.ModeSticky | 0o777, Fix: "chmod go-w /x"}
	if !strings.Contains(e.Error(), "(mode 1777)") {
		t.Errorf("%v", e)
	}
}

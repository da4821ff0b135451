//go:build linux

package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// These tests use the real kernel keyring of the user running them (this
// machine's kernel supports persistent keyrings). Every test uses hosts of
// its own and removes its keys. Where the kernel refuses keyrings (a
// container's seccomp profile) they skip, or fail with CI=true.

func requireKernelKeyring(t *testing.T) {
	t.Helper()
	if err := newKernelBackend().Probe(ctx); err != nil {
		skipOrFail(t, "the kernel keyring is not usable here: %v", err)
	}
}

func kernelHost() string {
	return fmt.Sprintf("kernel%d-%d.test.example", os.Getpid(), rand.IntN(1e9))
}

// kernelStore opens a store in a temporary directory; its keys are removed
// when the test ends.
func kernelStore(t *testing.T, hosts ...string) *Store {
	t.Helper()
	requireKernelKeyring(t)
	s := newStore(t, nil)
	t.Cleanup(func() {
		kb := newKernelBackend()
		for _, h := range hosts {
			for _, l := range []string{"octocat", "hubot", "monalisa", "a:b%c"} {
				_ = kb.Delete(ctx, h, l)
			}
		}
	})
	return s
}

// keyID finds the key of host/login, failing the test when there is none.
func keyID(t *testing.T, host, login string) (ring, id int) {
	t.Helper()
	ring, id, err := newKernelBackend().find("read", host, login)
	if err != nil {
		t.Fatalf("the key of %s/%s: %v", login, host, err)
	}
	return ring, id
}

// rdescribe is `keyctl rdescribe ID`: "type;uid;gid;perm;description", as
// another process of the same user sees the key.
func rdescribe(t *testing.T, id int) []string {
	t.Helper()
	if _, err := exec.LookPath("keyctl"); err != nil {
		skipOrFail(t, "keyctl is not installed (apt-get install keyutils)")
	}
	out, err := exec.Command("keyctl", "rdescribe", strconv.Itoa(id)).CombinedOutput()
	if err != nil {
		t.Fatalf("keyctl rdescribe %d: %v: %s", id, err, out)
	}
	return strings.SplitN(strings.TrimSpace(string(out)), ";", 5)
}

func TestKernelSaveReadReplaceDelete(t *testing.T) {
	h1, h2 := kernelHost(), kernelHost()
	s := kernelStore(t, h1, h2)
	if err := s.Probe(ctx, BackendKernel); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	full := &Secret{
		Token: "ghu_" + strings.Repeat("k", 36), TokenType: "bearer", Scopes: []string{"repo", "gist"},
		ExpiresAt: now.Add(8 * time.Hour), RefreshToken: "ghr_" + strings.Repeat("r", 76), RefreshTokenExpiresAt: now.Add(180 * 24 * time.Hour),
	}
	accounts := []struct {
		host, login string
		sec         *Secret
	}{
		{h1, "octocat", full},
		{h1, "hubot", &Secret{Token: "gho_hubot"}},
		{h2, "octocat", &Secret{Token: "gho_other_host"}},
		{h2, "a:b%c", &Secret{Token: "gho_odd_login"}},
	}
	for _, a := range accounts {
		if err := s.Save(ctx, a.host, a.login, BackendKernel, a.sec); err != nil {
			t.Fatalf("save %s/%s: %v", a.host, a.login, err)
		}
	}
	for _, a := range accounts {
		acct, err := s.Resolve(a.host, a.login)
		if err != nil || acct.Store != BackendKernel {
			t.Fatalf("resolve %s/%s: %+v %v", a.host, a.login, acct, err)
		}
		sec, err := s.Secret(ctx, acct)
		if err != nil || !reflect.DeepEqual(sec, a.sec) {
			t.Fatalf("read %s/%s: %+v, %v", a.host, a.login, sec, err)
		}
	}

	// One "user" key per account, described ghlogin:HOST:LOGIN, holding
	// the Secret as JSON, with possessor and user permissions only.
	_, id := keyID(t, h1, "octocat")
	d := rdescribe(t, id)
	if d[0] != "user" || d[1] != strconv.Itoa(os.Getuid()) || d[4] != "ghlogin:"+h1+":octocat" {
		t.Fatalf("key %d described as %q", id, d)
	}
	perm, err := strconv.ParseUint(d[3], 16, 32)
	if err != nil || uint32(perm) != KernelKeyPerm || perm&0xffff != 0 {
		t.Fatalf("permissions %s, want %08x (no group or other bits)", d[3], KernelKeyPerm)
	}
	raw, err := readKey(id)
	if err != nil {
		t.Fatal(err)
	}
	var got Secret
	if err := json.Unmarshal(raw, &got); err != nil || !reflect.DeepEqual(&got, full) {
		t.Fatalf("payload %+v (%v)", got, err)
	}
	if _, id := keyID(t, h2, "a:b%c"); rdescribe(t, id)[4] != "ghlogin:"+h2+":a%3Ab%25c" {
		t.Fatalf("odd login described as %q", rdescribe(t, id)[4])
	}

	// Never on disk: no file in the config directory holds a token.
	filepath.Walk(s.Dir(), func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, a := range accounts {
			if strings.Contains(string(b), a.sec.Token) {
				t.Errorf("%s holds a token", p)
			}
		}
		return nil
	})

	// Another process of the same user (the next ghlogin command) finds it.
	if r := runKeyringOp(t, "H_DIR="+s.Dir(), "H_OP=secret", "H_HOST="+h2, "H_LOGIN=octocat", "H_TIMEOUT=3s"); r.Err != "" || r.Token != "gho_other_host" {
		t.Fatalf("read from another process: %+v", r)
	}

	// Replace: the same key gets the new payload.
	if err := s.Save(ctx, h1, "octocat", BackendKernel, &Secret{Token: "gho_replaced"}); err != nil {
		t.Fatal(err)
	}
	if token(t, s, h1, "octocat") != "gho_replaced" {
		t.Fatal("not replaced")
	}
	if _, id2 := keyID(t, h1, "octocat"); id2 != id {
		t.Errorf("replacing made key %d, want the same key %d updated", id2, id)
	}
	if err := s.Replace(ctx, h1, "octocat", &Secret{Token: "gho_refreshed", ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if token(t, s, h1, "octocat") != "gho_refreshed" {
		t.Fatal("Replace did not write the kernel key")
	}

	// Delete: the key is gone, the other accounts stay.
	if _, err := s.Remove(ctx, h1, "octocat"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := newKernelBackend().find("read", h1, "octocat"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("key left behind: %v", err)
	}
	if _, err := rdescribeErr(id); err == nil {
		t.Errorf("key %d still exists after Remove", id)
	}
	if token(t, s, h1, "hubot") != "gho_hubot" || token(t, s, h2, "octocat") != "gho_other_host" {
		t.Fatal("other accounts lost")
	}
	if err := newKernelBackend().Delete(ctx, h1, "octocat"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func rdescribeErr(id int) (string, error) {
	out, err := exec.Command("keyctl", "rdescribe", strconv.Itoa(id)).CombinedOutput()
	return string(out), err
}

// Moving an account between the kernel keyring and the file store removes
// it from where it was.
func TestKernelMoveToFileAndBack(t *testing.T) {
	h := kernelHost()
	s := kernelStore(t, h)
	if err := s.Save(ctx, h, "octocat", BackendKernel, &Secret{Token: "gho_k"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, h, "octocat", BackendFile, &Secret{Token: "gho_f"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := newKernelBackend().find("read", h, "octocat"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("kernel key left after the move: %v", err)
	}
	if err := s.Save(ctx, h, "octocat", BackendKernel, &Secret{Token: "gho_k2"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(s.CredentialsPath()); strings.Contains(string(b), "gho_f") {
		t.Fatal("file secret left after the move back")
	}
	if token(t, s, h, "octocat") != "gho_k2" {
		t.Fatal("wrong token")
	}
}

// The key disappears behind ghlogin's back, as after a restart or when the
// persistent keyring expires: reads say the login was kept in memory and is
// gone, and the account can still be removed.
func TestKernelKeyGone(t *testing.T) {
	for _, how := range []string{"unlink", "revoke", "invalidate"} {
		t.Run(how, func(t *testing.T) {
			h := kernelHost()
			s := kernelStore(t, h)
			if err := s.Save(ctx, h, "octocat", BackendKernel, &Secret{Token: "gho_gone"}); err != nil {
				t.Fatal(err)
			}
			ring, id := keyID(t, h, "octocat")
			switch how {
			case "unlink":
				if _, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, ring, 0, 0); err != nil {
					t.Fatal(err)
				}
			case "revoke":
				// keyctl, as another process of the same user.
				if out, err := exec.Command("keyctl", "revoke", strconv.Itoa(id)).CombinedOutput(); err != nil {
					t.Fatalf("keyctl revoke: %v: %s", err, out)
				}
			case "invalidate":
				if out, err := exec.Command("keyctl", "invalidate", strconv.Itoa(id)).CombinedOutput(); err != nil {
					t.Fatalf("keyctl invalidate: %v: %s", err, out)
				}
			}
			a, err := s.Resolve(h, "octocat")
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Secret(ctx, a)
			var nl *NotLoggedInError
			if !errors.As(err, &nl) || !nl.Gone || nl.Store != BackendKernel || !errors.Is(err, ErrNotFound) {
				t.Fatalf("read of a gone key: %T %v", err, err)
			}
			want := "the login for octocat on " + h + " was kept in memory and is gone (the machine restarted or it expired)"
			if err.Error() != want {
				t.Errorf("message %q, want %q", err, want)
			}
			if strings.Contains(err.Error(), "keyctl") || strings.Contains(err.Error(), "required key") {
				t.Errorf("raw keyctl error in %q", err)
			}
			if _, err := s.Remove(ctx, h, "octocat"); err != nil {
				t.Fatalf("remove of a gone account: %v", err)
			}
			if got := logins(t, s, h); len(got) != 0 {
				t.Fatalf("accounts left: %v", got)
			}
		})
	}
}

// Another user cannot read the key, nor see it: a helper process running as
// nobody tries to read and describe it by its serial number.
func TestKernelOtherUserCannotRead(t *testing.T) {
	h := kernelHost()
	s := kernelStore(t, h)
	if os.Geteuid() != 0 {
		skipOrFail(t, "running a check as another user needs root")
	}
	if err := s.Save(ctx, h, "octocat", BackendKernel, &Secret{Token: "gho_private"}); err != nil {
		t.Fatal(err)
	}
	_, id := keyID(t, h, "octocat")

	// The test binary's directory is private to its owner: run a copy from
	// a directory nobody may enter.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "ghl-nobody")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "store.test")
	if err := copyFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// The same check as root first: it must see the key, or a "denied"
	// from nobody would prove nothing.
	if r := peekKey(t, bin, id, nil); r.Read != "" || r.Token != "gho_private" {
		t.Fatalf("as the owner: %+v", r)
	}
	r := peekKey(t, bin, id, &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}})
	if r.UID != 65534 {
		t.Fatalf("helper ran as uid %d", r.UID)
	}
	if r.Read != unix.EACCES.Error() || r.Describe != unix.EACCES.Error() || r.Token != "" {
		t.Fatalf("as nobody: %+v (want read and describe refused with %q)", r, unix.EACCES.Error())
	}
	// Nobody's own persistent keyring does not have it either.
	if r.Search != unix.ENOKEY.Error() && r.Search != unix.EACCES.Error() {
		t.Fatalf("nobody's search: %+v", r)
	}

	// setpriv, the tool an administrator would use, agrees.
	if _, err := exec.LookPath("setpriv"); err == nil {
		out, err := exec.Command("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "keyctl", "print", strconv.Itoa(id)).CombinedOutput()
		if err == nil || strings.Contains(string(out), "gho_private") {
			t.Fatalf("keyctl print as nobody: %v: %s", err, out)
		}
	}
}

// peekResult is what the kernel-peek helper reports.
type peekResult struct {
	UID      int    `json:"uid"`
	Read     string `json:"read"`
	Describe string `json:"describe"`
	Search   string `json:"search"`
	Token    string `json:"token"`
}

func peekKey(t *testing.T, bin string, id int, cred *syscall.Credential) peekResult {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = []string{helperEnv + "=kernel-peek", "H_KEY=" + strconv.Itoa(id), "PATH=/usr/bin:/bin"}
	cmd.Dir = "/"
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kernel-peek helper: %v", err)
	}
	var r peekResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("helper output %q: %v", out, err)
	}
	return r
}

// helperKernelPeek tries to read, describe and find the key H_KEY, and
// reports each outcome as JSON (the token only if it could read it).
func helperKernelPeek() error {
	id, err := strconv.Atoi(os.Getenv("H_KEY"))
	if err != nil {
		return err
	}
	r := peekResult{UID: os.Getuid()}
	if b, err := readKey(id); err != nil {
		r.Read = err.Error()
	} else {
		var sec Secret
		_ = json.Unmarshal(b, &sec)
		r.Token = sec.Token
	}
	if _, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id); err != nil {
		r.Describe = err.Error()
	}
	kb := newKernelBackend()
	if ring, err := kb.sys.persistent(); err != nil {
		r.Search = err.Error()
	} else if desc, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id); err == nil {
		if _, err := unix.KeyctlSearch(ring, KernelKeyType, desc[strings.LastIndex(desc, ";")+1:], 0); err != nil {
			r.Search = err.Error()
		}
	} else {
		r.Search = unix.ENOKEY.Error()
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// refusing is the real kernel backend whose first call fails with errno, as
// under a seccomp profile that blocks keyctl (EPERM) or a kernel without
// keyrings (ENOSYS).
func refusing(errno syscall.Errno) kernelBackend {
	kb := newKernelBackend()
	kb.sys.persistent = func() (int, error) { return 0, errno }
	kb.sys.add = func(string, []byte, int) (int, error) { return 0, errno }
	return kb
}

func TestKernelRefused(t *testing.T) {
	for _, tc := range []struct {
		errno syscall.Errno
		why   string
	}{
		{unix.ENOSYS, "no keyrings"},
		{unix.EPERM, "seccomp"},
		{unix.EACCES, "seccomp"},
		{unix.EOPNOTSUPP, "persistent keyrings"},
	} {
		t.Run(tc.errno.Error(), func(t *testing.T) {
			s, err := Open(Options{Dir: t.TempDir(), Backends: []Backend{refusing(tc.errno)}})
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, err error) {
				t.Helper()
				var ku *KernelKeyringUnavailableError
				if !errors.As(err, &ku) || !errors.Is(err, tc.errno) || !strings.Contains(ku.Error(), tc.why) {
					t.Fatalf("%s: %T %v", what, err, err)
				}
				if !strings.HasPrefix(err.Error(), "the kernel keyring is not available here: ") {
					t.Errorf("%s: message %q", what, err)
				}
			}
			check("probe", s.Probe(ctx, BackendKernel))
			check("save", s.Save(ctx, "github.com", "octocat", BackendKernel, &Secret{Token: "gho_x"}))
			if got := logins(t, s, ""); len(got) != 0 {
				t.Fatalf("index written: %v", got)
			}
		})
	}
}

// An account saved in the kernel keyring, then read where the kernel
// refuses (the same config directory inside a container): the refusal is
// reported, not "gone", and the account stays.
func TestKernelRefusedReadKeepsAccount(t *testing.T) {
	h := kernelHost()
	s := kernelStore(t, h)
	if err := s.Save(ctx, h, "octocat", BackendKernel, &Secret{Token: "gho_kept"}); err != nil {
		t.Fatal(err)
	}
	boxed, err := Open(Options{Dir: s.Dir(), Backends: []Backend{refusing(unix.EPERM)}})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := boxed.Resolve(h, "octocat")
	_, err = boxed.Secret(ctx, a)
	var ku *KernelKeyringUnavailableError
	var nl *NotLoggedInError
	if !errors.As(err, &ku) || errors.As(err, &nl) || ku.Op != "read" {
		t.Fatalf("read where the kernel refuses: %T %v", err, err)
	}
	if _, err := boxed.Remove(ctx, h, "octocat"); !errors.As(err, &ku) {
		t.Fatalf("remove where the kernel refuses: %v", err)
	}
	if token(t, s, h, "octocat") != "gho_kept" {
		t.Fatal("account lost")
	}
}

// A key whose permissions cannot be set is removed again, and the save fails.
func TestKernelSetpermFailureRemovesKey(t *testing.T) {
	h := kernelHost()
	requireKernelKeyring(t)
	kb := newKernelBackend()
	kb.sys.setperm = func(int, uint32) error { return unix.EACCES }
	t.Cleanup(func() { _ = newKernelBackend().Delete(ctx, h, "octocat") })
	err := kb.Set(ctx, h, "octocat", &Secret{Token: "gho_perm"})
	var ku *KernelKeyringUnavailableError
	if !errors.As(err, &ku) {
		t.Fatalf("Set: %v", err)
	}
	if _, _, err := newKernelBackend().find("read", h, "octocat"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("key left behind: %v", err)
	}
}

func TestKernelSecretTooLarge(t *testing.T) {
	requireKernelKeyring(t)
	err := newKernelBackend().Set(ctx, kernelHost(), "octocat", &Secret{Token: strings.Repeat("t", maxKernelPayload)})
	var tl *SecretTooLargeError
	if !errors.As(err, &tl) || tl.Store != BackendKernel {
		t.Fatalf("Set: %v", err)
	}
}

func TestKernelDescription(t *testing.T) {
	for _, tc := range [][3]string{
		{"github.com", "octocat", "ghlogin:github.com:octocat"},
		{"127.0.0.1:8787", "octocat", "ghlogin:127.0.0.1:8787:octocat"},
		{"127.0.0.1", "8787:octocat", "ghlogin:127.0.0.1:8787%3Aoctocat"},
		{"h", "50%", "ghlogin:h:50%25"},
	} {
		if got := KernelDescription(tc[0], tc[1]); got != tc[2] {
			t.Errorf("KernelDescription(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

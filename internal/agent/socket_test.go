package agent

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestListen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run", "ghlogin")
	sock, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	for path, mode := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, sock.Path: 0o600 | os.ModeSocket} {
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), mode)
		}
	}
	if filepath.Dir(sock.Path) != dir || !strings.HasPrefix(filepath.Base(sock.Path), "agent-") {
		t.Fatal(sock.Path)
	}
	// Another agent in the same directory gets a socket of its own.
	other, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if other.Path == sock.Path {
		t.Fatal("two agents share a socket")
	}
	if c, err := net.Dial("unix", sock.Path); err != nil {
		t.Fatal(err)
	} else {
		c.Close()
	}
	sock.Close()
	if _, err := os.Lstat(sock.Path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the socket outlived Close: %v", err)
	}
}

func TestPrepareDirRefuses(t *testing.T) {
	base := t.TempDir()
	open := filepath.Join(base, "open")
	os.Mkdir(open, 0o700)
	os.Chmod(open, 0o750)
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o600)
	real := filepath.Join(base, "real")
	os.Mkdir(real, 0o700)
	link := filepath.Join(base, "link")
	os.Symlink(real, link)
	cases := map[string]DirProblem{open: DirOpen, file: DirNotDir, link: DirSymlink}
	if os.Getuid() == 0 {
		// Root can give a directory away, as another user's would be.
		owned := filepath.Join(base, "owned")
		os.Mkdir(owned, 0o700)
		if err := os.Chown(owned, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		cases[owned] = DirNotOwned
	}
	for path, want := range cases {
		err := PrepareDir(path)
		var de *DirError
		if !errors.As(err, &de) || de.Problem != want || de.Path != path {
			t.Errorf("%s: got %v, want %s", filepath.Base(path), err, want)
		}
		if _, err := Listen(path); !errors.As(err, &de) {
			t.Errorf("%s: Listen: %v", filepath.Base(path), err)
		}
	}
	// Refused, not repaired.
	if fi, _ := os.Stat(open); fi.Mode().Perm() != 0o750 {
		t.Fatalf("mode changed to %v", fi.Mode())
	}
	// A directory that cannot be created.
	var de *DirError
	if err := PrepareDir(filepath.Join(file, "sub")); !errors.As(err, &de) || de.Problem != DirCreate {
		t.Fatalf("got %v", err)
	}
}

func TestListenPathTooLong(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 90))
	var pe *SocketPathError
	if _, err := Listen(dir); !errors.As(err, &pe) {
		t.Fatalf("got %v", err)
	}
}

func TestRuntimeDir(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if d, err := RuntimeDir(env(map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"})); err != nil || d != "/run/user/1000/ghlogin" {
		t.Fatal(d, err)
	}
	if d, err := RuntimeDir(env(map[string]string{"GHLOGIN_CONFIG_DIR": "/home/me/.config/ghlogin"})); err != nil || d != "/home/me/.config/ghlogin/agent" {
		t.Fatal(d, err)
	}
	// A relative XDG_RUNTIME_DIR is not valid (XDG Base Directory specification).
	if d, err := RuntimeDir(env(map[string]string{"XDG_RUNTIME_DIR": "run", "GHLOGIN_CONFIG_DIR": "/c"})); err != nil || d != "/c/agent" {
		t.Fatal(d, err)
	}
}

func TestListenPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "agent")
	path := filepath.Join(dir, "my.sock")
	sock, err := ListenPath(path)
	if err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, path: 0o600 | os.ModeSocket} {
		if fi, err := os.Lstat(p); err != nil || fi.Mode() != mode {
			t.Errorf("%s: %v %v, want %v", p, fi.Mode(), err, mode)
		}
	}
	// A second agent at the same path fails; the first keeps its socket.
	if _, err := ListenPath(path); err == nil {
		t.Fatal("two agents listen at one path")
	}
	if _, err := os.Lstat(path); err != nil {
		t.Fatal(err)
	}
	sock.Close()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the socket outlived Close: %v", err)
	}
	// A directory others can enter is refused, not repaired.
	open := filepath.Join(t.TempDir(), "open")
	os.Mkdir(open, 0o700)
	os.Chmod(open, 0o755)
	var de *DirError
	if _, err := ListenPath(filepath.Join(open, "a.sock")); !errors.As(err, &de) || de.Problem != DirOpen {
		t.Fatalf("open directory: %v", err)
	}
	if fi, _ := os.Stat(open); fi.Mode().Perm() != 0o755 {
		t.Fatal("the directory was changed")
	}
}

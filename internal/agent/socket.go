package agent

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ghlogin/ghlogin/internal/config"
)

// EnvSock names the environment variable that holds the agent socket's path
// on the remote machine. The value "none" turns the agent off there.
const EnvSock = "GHLOGIN_AGENT_SOCK"

// maxSocketPath is the longest socket path that every supported system
// takes (sun_path is 104 bytes on macOS and the BSDs, 108 on Linux, with
// the terminating NUL).
const maxSocketPath = 103

// NewNonce returns 128 random bits in hex, for names nobody can guess.
func NewNonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// RuntimeDir returns the directory for this machine's agent sockets:
// $XDG_RUNTIME_DIR/ghlogin when XDG_RUNTIME_DIR is set (the XDG Base
// Directory specification's place for sockets), else "agent" in ghlogin's
// config directory. It does not create it (Listen does).
func RuntimeDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "ghlogin"), nil
	}
	dir, err := config.DirFrom(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "agent"), nil
}

// WellKnownPath is where the remote side of `ghlogin ssh` links the
// forwarded socket for processes that did not inherit GHLOGIN_AGENT_SOCK
// (a tmux server started earlier, an editor's terminal):
// $XDG_RUNTIME_DIR/ghlogin/agent.sock when XDG_RUNTIME_DIR is set, else
// /tmp/ghlogin-UID/agent.sock. The directory must be the user's own with
// mode 0700 (CheckDir) before it is trusted.
func WellKnownPath(getenv func(string) string, uid int) string {
	if d := getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "ghlogin", "agent.sock")
	}
	return filepath.Join("/tmp", "ghlogin-"+strconv.Itoa(uid), "agent.sock")
}

// DirProblem says what is wrong with a socket directory.
type DirProblem string

// The problems CheckDir finds.
const (
	DirCreate    DirProblem = "create"    // it could not be created
	DirNotDir    DirProblem = "not_dir"   // it is not a directory
	DirSymlink   DirProblem = "symlink"   // it is a symbolic link
	DirNotOwned  DirProblem = "not_owned" // another user owns it
	DirOpen      DirProblem = "open"      // group or others have access
	DirUnchecked DirProblem = "unchecked" // it could not be examined
)

// DirError is a socket directory the agent will not use.
type DirError struct {
	Path    string
	Problem DirProblem
	// Mode is the directory's permission bits (DirOpen).
	Mode os.FileMode
	// UID owns the directory (DirNotOwned).
	UID int
	Err error
}

// Error says what is wrong with the directory.
func (e *DirError) Error() string {
	switch e.Problem {
	case DirCreate:
		return fmt.Sprintf("cannot create the agent's socket directory %s: %v", e.Path, e.Err)
	case DirNotDir:
		return fmt.Sprintf("the agent's socket directory %s is not a directory", e.Path)
	case DirSymlink:
		return fmt.Sprintf("the agent's socket directory %s is a symbolic link", e.Path)
	case DirNotOwned:
		return fmt.Sprintf("the agent's socket directory %s belongs to another user (uid %d)", e.Path, e.UID)
	case DirOpen:
		return fmt.Sprintf("the agent's socket directory %s can be entered by other users (mode %04o)", e.Path, e.Mode.Perm())
	}
	return fmt.Sprintf("cannot examine the agent's socket directory %s: %v", e.Path, e.Err)
}

// Unwrap returns the system's error, if any.
func (e *DirError) Unwrap() error { return e.Err }

// SocketPathError is a socket path longer than the system takes.
type SocketPathError struct {
	Path string
}

// Error names the path and the limit.
func (e *SocketPathError) Error() string {
	return fmt.Sprintf("the socket path %s is longer than %d bytes", e.Path, maxSocketPath)
}

// PrepareDir creates dir with mode 0700 (and its missing parents), or
// checks the existing one with CheckDir. It never loosens or tightens an
// existing directory: one that fails the check is refused.
func PrepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		if _, lerr := os.Lstat(dir); lerr == nil {
			return CheckDir(dir)
		}
		return &DirError{Path: dir, Problem: DirCreate, Err: err}
	}
	return CheckDir(dir)
}

// Socket is the agent's listening socket. Close stops listening and removes
// the socket file.
type Socket struct {
	*net.UnixListener
	// Path is the socket's path.
	Path string
}

// Listen prepares dir (PrepareDir) and listens on a new socket in it with an
// unguessable name and mode 0600. The socket is 0600 only after the
// listen call, but no other user can enter the directory in between.
func Listen(dir string) (*Socket, error) {
	return ListenPath(filepath.Join(dir, "agent-"+NewNonce()[:12]+".sock"))
}

// ListenPath listens on a socket at path (mode 0600), for an agent whose
// clients know the path in advance (ghlogin agent --socket). Its directory
// is prepared as Listen's (PrepareDir: created 0700, or an existing one
// checked with CheckDir), so that no other user can reach the socket. An
// existing file at path is left alone: the listen fails with the system's
// error (address in use).
func ListenPath(path string) (*Socket, error) {
	if !filepath.IsAbs(path) {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, err
		}
		path = abs
	}
	if len(path) > maxSocketPath {
		return nil, &SocketPathError{Path: path}
	}
	if err := PrepareDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return &Socket{UnixListener: ln, Path: path}, nil
}

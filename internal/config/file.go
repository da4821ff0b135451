package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/ghlogin/ghlogin/internal/hosts"
)

// EnvDir names the environment variable that overrides the config directory.
const EnvDir = "GHLOGIN_CONFIG_DIR"

// DefaultKeyringTimeout bounds keyring calls when nothing else is set.
const DefaultKeyringTimeout = 3 * time.Second

// Dir returns the config directory as DirFrom(os.Getenv) does, for callers
// that have no environment of their own to pass.
func Dir() (string, error) { return DirFrom(os.Getenv) }

// DirFrom returns the config directory: $GHLOGIN_CONFIG_DIR as getenv reads
// it when set, else the OS config directory (which honours
// $XDG_CONFIG_HOME on Linux) + "/ghlogin". It does not create the directory.
func DirFrom(getenv func(string) string) (string, error) {
	if d := getenv(EnvDir); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return "", fmt.Errorf("%s=%q is not a usable directory: %w", EnvDir, d, err)
		}
		return abs, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the user's config directory (%v); set %s to a directory of your choice", err, EnvDir)
	}
	return filepath.Join(base, "ghlogin"), nil
}

// Path returns the config file's path in dir.
func Path(dir string) string { return filepath.Join(dir, FileName) }

// ParseError is a config file that cannot be read as ghlogin's configuration.
// The file is left alone: ghlogin never replaces a file it cannot read.
type ParseError struct {
	Path   string
	Reason string
	Err    error
	// Host and Key name the setting at fault when a value was refused
	// (Host is "" for a global setting); both are "" otherwise.
	Host, Key string
}

// Error says what went wrong and what to do.
func (e *ParseError) Error() string {
	return fmt.Sprintf("the config file %s cannot be read: %s; fix it (or move it away to start afresh)", e.Path, e.Reason)
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// New returns an empty configuration.
func New() *File { return &File{Hosts: map[string]*Host{}} }

// Load reads dir's config file. The directory and the file must be
// trusted (CheckDir, CheckFile: the user's, not writable by others; not
// readable by them either when the file holds a client_secret), else a
// *UntrustedError. A missing file gives an empty configuration; a file that
// is not valid TOML, holds unknown keys, names the same host twice or holds
// a value its setting refuses (an http endpoint off loopback, say) gives a
// *ParseError naming the path.
func Load(dir string) (*File, error) {
	if err := CheckDir(dir); err != nil {
		return nil, err
	}
	path := Path(dir)
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		f := New()
		f.dir = dir
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the config file: %w", err)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read the config file: %w", err)
	}
	// The open file is checked, not the path, so it cannot be swapped
	// between the check and the read.
	if err := CheckFile(path, fi, false); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the config file: %w", err)
	}
	if len(data) > maxFileBytes {
		return nil, &ParseError{Path: path, Reason: "it is larger than 16 MiB"}
	}
	f, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	// A client secret is a secret: a file holding one is held to
	// credentials.json's rule (others may not read it either).
	if f.HoldsSecret() {
		if err := CheckFile(path, fi, true); err != nil {
			return nil, err
		}
	}
	f.dir = dir
	return f, nil
}

// KeyActive is the key of a host's active account in config.toml. It is
// not a setting (ghlogin switch changes it); a ParseError names it when it
// names no account.
const KeyActive = "active"

// maxFileBytes bounds the config file: it holds settings and an index.
const maxFileBytes = 16 << 20

// Parse decodes a config file's content; path is used in errors only.
func Parse(path string, data []byte) (*File, error) {
	f := New()
	md, err := toml.Decode(string(data), f)
	if err != nil {
		reason := "it is not valid TOML"
		var pe toml.ParseError
		if errors.As(err, &pe) {
			reason = fmt.Sprintf("it is not valid TOML (line %d: %s)", pe.Position.Line, pe.Message)
		} else {
			reason = err.Error()
		}
		return nil, &ParseError{Path: path, Reason: reason, Err: err}
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, 0, len(und))
		for _, k := range und {
			keys = append(keys, k.String())
		}
		return nil, &ParseError{Path: path, Reason: "unknown keys: " + strings.Join(keys, ", ")}
	}
	if f.Hosts == nil {
		f.Hosts = map[string]*Host{}
	}
	// Key hosts by their normalized names; refuse two spellings of one host.
	normalized := make(map[string]*Host, len(f.Hosts))
	names := make([]string, 0, len(f.Hosts))
	for name := range f.Hosts {
		names = append(names, name)
	}
	sort.Strings(names)
	seen := map[string]string{}
	for _, name := range names {
		h := f.Hosts[name]
		hp, err := hosts.Parse(name)
		if err != nil {
			return nil, &ParseError{Path: path, Reason: fmt.Sprintf("[hosts.%q] is not a valid host name", name)}
		}
		key := hp.Name
		if prev, dup := seen[key]; dup {
			return nil, &ParseError{Path: path, Reason: fmt.Sprintf("[hosts.%q] and [hosts.%q] are the same host; merge them", prev, name)}
		}
		seen[key] = name
		if h == nil {
			h = &Host{}
		}
		for login, a := range h.Accounts {
			if a == nil {
				h.Accounts[login] = &Account{}
			}
		}
		if err := checkBindings(key, h); err != nil {
			return nil, &ParseError{Path: path, Reason: err.Error()}
		}
		normalized[key] = h
	}
	f.Hosts = normalized
	if err := f.check(path); err != nil {
		return nil, err
	}
	return f, nil
}

// check applies each setting's own rule (the one `config set` applies) to
// what the file holds, so that a hand-edited file obeys the same rules as
// flags and `config set`: an endpoint URL must pass ValidateURL, protocol
// http needs a loopback host, and so on. The first refusal is a
// *ParseError naming the file, the host and the key.
func (f *File) check(path string) error {
	for _, s := range settings {
		if !s.Global {
			continue
		}
		if v := s.get(scope{file: f}); v != "" {
			scratch := *f
			if err := s.apply(scope{file: &scratch}, v); err != nil {
				return &ParseError{Path: path, Reason: err.Error(), Err: err, Key: s.Name}
			}
		}
	}
	for _, name := range f.HostNames() {
		hp, err := hosts.Parse(name)
		if err != nil {
			return &ParseError{Path: path, Reason: fmt.Sprintf("[hosts.%q] is not a valid host name", name)}
		}
		h := f.Hosts[name]
		if h.Active != "" && h.Accounts[h.Active] == nil {
			reason := fmt.Sprintf("[hosts.%q] active = %q names no account of this host", name, h.Active)
			if logins := h.Logins(); len(logins) > 0 {
				reason += " (its accounts: " + strings.Join(logins, ", ") + ")"
			}
			return &ParseError{Path: path, Reason: reason, Host: name, Key: KeyActive}
		}
		for _, s := range settings {
			if s.Global {
				continue
			}
			v := s.get(f.scope(hp, h))
			if v == "" {
				continue
			}
			scratch := *h
			if err := s.apply(f.scope(hp, &scratch), v); err != nil {
				return &ParseError{Path: path, Reason: fmt.Sprintf("[hosts.%q] %s", name, err), Err: err, Host: name, Key: s.Name}
			}
		}
	}
	return nil
}

// Host returns the settings of the host named name (any spelling that
// hosts.Parse reads), or nil.
func (f *File) Host(name string) *Host {
	if f == nil || f.Hosts == nil {
		return nil
	}
	h, err := hosts.Parse(name)
	if err != nil {
		return nil
	}
	return f.Hosts[h.Name]
}

// EnsureHost returns the host named name, adding an empty entry when there
// is none. It fails for a name that is not a valid host.
func (f *File) EnsureHost(name string) (*Host, error) {
	h, err := hosts.Parse(name)
	if err != nil {
		return nil, err
	}
	if f.Hosts == nil {
		f.Hosts = map[string]*Host{}
	}
	e := f.Hosts[h.Name]
	if e == nil {
		e = &Host{}
		f.Hosts[h.Name] = e
	}
	return e, nil
}

// HostNames returns the configured hosts' keys, sorted.
func (f *File) HostNames() []string {
	names := make([]string, 0, len(f.Hosts))
	for n := range f.Hosts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Timeout returns the keyring timeout the file sets, or DefaultKeyringTimeout.
func (f *File) Timeout() time.Duration {
	if f != nil && f.KeyringTimeout > 0 {
		return time.Duration(f.KeyringTimeout)
	}
	return DefaultKeyringTimeout
}

// Logins returns h's account logins, sorted.
func (h *Host) Logins() []string {
	if h == nil {
		return nil
	}
	logins := make([]string, 0, len(h.Accounts))
	for l := range h.Accounts {
		logins = append(logins, l)
	}
	sort.Strings(logins)
	return logins
}

// Account returns h's account named login, or nil. h may be nil.
func (h *Host) Account(login string) *Account {
	if h == nil {
		return nil
	}
	return h.Accounts[login]
}

// Header opens every config file ghlogin writes. The file holds no token,
// but it does hold an OAuth app's client secret when one is set
// (client_secret), which is why it is written mode 0600 and refused when
// others can read it (Load).
const Header = "# ghlogin configuration and account index: no tokens, but an OAuth app's\n" +
	"# client_secret when one is set, so keep this file private (mode 0600).\n" +
	"# Edit with `ghlogin config set`; see `ghlogin config list`.\n\n"

// HoldsSecret reports whether f holds a client secret (a host's
// client_secret): then only its owner may read the file.
func (f *File) HoldsSecret() bool {
	for _, h := range f.Hosts {
		if h != nil && h.ClientSecret != "" {
			return true
		}
	}
	return false
}

// Encode returns f as TOML.
func (f *File) Encode() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(Header)
	enc := toml.NewEncoder(&buf)
	enc.Indent = ""
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("cannot encode the configuration: %w", err)
	}
	return buf.Bytes(), nil
}

// Save writes f to dir's config file atomically (a temporary file in the
// same directory, fsync, rename, fsync of the directory), mode 0600. The
// directory is created with mode 0700 when missing. A crash at any moment
// leaves the old file or the new one, whole.
func (f *File) Save(dir string) error {
	data, err := f.Encode()
	if err != nil {
		return err
	}
	if err := EnsureDir(dir); err != nil {
		return err
	}
	return WriteFileAtomic(Path(dir), data)
}

// EnsureDir creates dir (and its parents) when missing; a directory it
// creates gets mode 0700. An existing directory is left as it is, and must
// be trusted (a *UntrustedError otherwise, see CheckDir).
func EnsureDir(dir string) error {
	st, err := os.Stat(dir)
	if err == nil {
		if !st.IsDir() {
			return fmt.Errorf("the config directory %s is not a directory", dir)
		}
		return checkTrust(dir, st, true, false)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot use the config directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the config directory: %w", err)
	}
	// MkdirAll is subject to the umask; make the mode exact.
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("cannot set the config directory's mode: %w", err)
	}
	return nil
}

// WriteFileAtomic replaces path with data, mode 0600: it writes a temporary
// file in the same directory, syncs it, renames it over path and syncs the
// directory, so readers see the old content or the new one, never a mix.
func WriteFileAtomic(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	if err = tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err = os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable. Not every platform can open a
// directory for syncing (Windows cannot); there the rename stands as is.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

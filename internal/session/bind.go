package session

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/session/pick"
	"github.com/ghlogin/ghlogin/store"
)

// BindingInfo is a binding as `bind --list` and status show it.
type BindingInfo struct {
	config.Binding
	// Missing is set when the host has no account named Login: the
	// binding makes requests it matches fail until that account logs in
	// again or the binding is removed.
	Missing bool `json:"missing"`
}

// NoBindingError is a `bind --remove` for a binding that does not exist.
type NoBindingError struct {
	Host, Kind, Pattern string
}

// Error names the binding.
func (e *NoBindingError) Error() string {
	what := "owner " + e.Pattern
	if e.Kind == config.BindDir {
		what = "directory " + e.Pattern
	}
	return fmt.Sprintf("%s is not bound on %s", what, e.Host)
}

// BindPattern checks a binding's pattern and returns the spelling the
// configuration keeps: an owner glob in lower case (config.NormalizeOwnerGlob),
// a directory made absolute with its symbolic links resolved
// (config.CleanDir; it must exist). Errors are *InputError with Field
// "owner" or "dir".
func BindPattern(kind, pattern string) (string, error) {
	switch kind {
	case config.BindOwner:
		g, err := config.NormalizeOwnerGlob(pattern)
		if err != nil {
			return "", &InputError{Field: "owner", Err: err}
		}
		return g, nil
	case config.BindDir:
		// The path is quoted with %q (control characters escaped) and the
		// file system's error reduced to its reason, which would repeat
		// the path unescaped.
		d, err := config.CleanDir(pattern)
		var pe *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", &InputError{Field: "dir", Err: fmt.Errorf("directory %q does not exist: create it first, then bind it (a binding follows the directory's real path, symbolic links resolved, so it must exist)", pattern)}
		case errors.As(err, &pe):
			return "", &InputError{Field: "dir", Err: fmt.Errorf("directory %q: %w", pattern, pe.Err)}
		case err != nil:
			return "", &InputError{Field: "dir", Err: fmt.Errorf("directory %q: %w", pattern, err)}
		}
		fi, err := os.Stat(d)
		switch {
		case errors.As(err, &pe):
			return "", &InputError{Field: "dir", Err: fmt.Errorf("directory %q: %w", pattern, pe.Err)}
		case err != nil:
			return "", &InputError{Field: "dir", Err: fmt.Errorf("directory %q: %w", pattern, err)}
		case !fi.IsDir():
			return "", &InputError{Field: "dir", Err: fmt.Errorf("%q is not a directory: --dir takes a directory, and work under it uses the account", pattern)}
		}
		return d, nil
	}
	return "", &InputError{Field: "kind", Err: fmt.Errorf("unknown binding kind %q", kind)}
}

// Bind makes t's account login the one used for pattern (an owner glob for
// kind config.BindOwner, a directory for config.BindDir), in one write of
// the configuration under the store's lock. The account must exist on the
// host (*store.NotLoggedInError otherwise); on a GitHub host it is found in
// any case (pick.Login) and the binding keeps the stored spelling. It
// returns the binding as kept and the login the pattern was bound to before
// ("" when it was not).
func (s *Session) Bind(t *Target, kind, pattern, login string) (b config.Binding, previous string, err error) {
	p, err := BindPattern(kind, s.dirArg(kind, pattern))
	if err != nil {
		return config.Binding{}, "", err
	}
	st, err := s.Store()
	if err != nil {
		return config.Binding{}, "", err
	}
	name := t.Host.Name
	err = st.UpdateConfig(func(f *config.File) error {
		hc := f.Hosts[name]
		login = pick.Login(f, name, login)
		if hc.Account(login) == nil {
			return &store.NotLoggedInError{Host: name, Login: login}
		}
		m := &hc.OwnerBindings
		if kind == config.BindDir {
			m = &hc.DirBindings
		}
		if *m == nil {
			*m = map[string]string{}
		}
		previous = (*m)[p]
		(*m)[p] = login
		return nil
	})
	if err != nil {
		return config.Binding{}, "", err
	}
	return config.Binding{Host: name, Kind: kind, Pattern: p, Login: login}, previous, nil
}

// Unbind removes t's binding of pattern (spelt as for Bind; a directory
// that no longer exists is matched by its absolute path). It returns the
// binding removed, or a *NoBindingError.
func (s *Session) Unbind(t *Target, kind, pattern string) (config.Binding, error) {
	keys, err := unbindKeys(kind, s.dirArg(kind, pattern))
	if err != nil {
		return config.Binding{}, err
	}
	st, err := s.Store()
	if err != nil {
		return config.Binding{}, err
	}
	name := t.Host.Name
	var removed config.Binding
	err = st.UpdateConfig(func(f *config.File) error {
		hc := f.Hosts[name]
		if hc == nil {
			return &NoBindingError{Host: name, Kind: kind, Pattern: keys[0]}
		}
		m := hc.OwnerBindings
		if kind == config.BindDir {
			m = hc.DirBindings
		}
		for _, k := range keys {
			if login, ok := m[k]; ok {
				delete(m, k)
				removed = config.Binding{Host: name, Kind: kind, Pattern: k, Login: login}
				if hc.IsEmpty() {
					delete(f.Hosts, name)
				}
				return nil
			}
		}
		return &NoBindingError{Host: name, Kind: kind, Pattern: keys[0]}
	})
	return removed, err
}

// dirArg reads a --dir value as a person means it: "~" and "~/..." in the
// home directory (a shell does not expand "--dir=~/work"), a relative path
// from the working directory (Getwd). Other kinds pass unchanged.
func (s *Session) dirArg(kind, p string) string {
	if kind != config.BindDir || strings.TrimSpace(p) == "" {
		return p
	}
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~`+string(filepath.Separator)) {
		home := s.getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		if home != "" {
			p = filepath.Join(home, p[1:])
		}
	}
	if !filepath.IsAbs(p) {
		if wd := s.workingDir(); wd != "" {
			p = filepath.Join(wd, p)
		}
	}
	return p
}

// unbindKeys are the spellings a binding to remove may be kept under: the
// pattern as Bind keeps it and, for a directory that can no longer be
// resolved, its absolute path.
func unbindKeys(kind, pattern string) ([]string, error) {
	p, err := BindPattern(kind, pattern)
	if err == nil {
		keys := []string{p}
		if kind == config.BindDir {
			if abs := pick.RealDir(pattern); abs != p {
				keys = append(keys, abs)
			}
		}
		return keys, nil
	}
	if kind != config.BindDir || pattern == "" {
		return nil, err
	}
	return []string{pick.RealDir(pattern)}, nil
}

// Bindings lists the bindings of host (a --host value), or of every host
// when host is "", each marked when its account is missing.
func (s *Session) Bindings(host string) ([]BindingInfo, error) {
	_, cfg, err := s.Config()
	if err != nil {
		return nil, err
	}
	name := ""
	if host != "" {
		h, _, err := s.ParseHost(host, cfg)
		if err != nil {
			return nil, err
		}
		name = h.Name
	}
	return bindingInfos(cfg, name), nil
}

// bindingInfos lists cfg's bindings of host ("" for all), marking those
// whose account is missing.
func bindingInfos(cfg *config.File, host string) []BindingInfo {
	out := []BindingInfo{}
	for _, b := range cfg.Bindings(host) {
		out = append(out, BindingInfo{Binding: b, Missing: cfg.Hosts[b.Host].Account(b.Login) == nil})
	}
	return out
}

// BindingsTo lists the bindings of host that name login (for logout, which
// says which bindings now name a missing account).
func (s *Session) BindingsTo(host, login string) ([]config.Binding, error) {
	_, cfg, err := s.Config()
	if err != nil {
		return nil, err
	}
	var out []config.Binding
	for _, b := range cfg.Bindings(host) {
		if b.Login == login {
			out = append(out, b)
		}
	}
	return out, nil
}

package config

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Binding kinds (Binding.Kind).
const (
	// BindOwner binds the repositories of an owner (a user or an
	// organisation), named by a glob.
	BindOwner = "owner"
	// BindDir binds the work under a directory.
	BindDir = "dir"
)

// Binding is one entry of a host's bindings: the account (Login) used for
// repositories whose owner matches Pattern (Kind BindOwner), or for work
// under the directory Pattern (Kind BindDir).
type Binding struct {
	Host    string `json:"host"`
	Kind    string `json:"kind"`
	Pattern string `json:"pattern"`
	Login   string `json:"user"`
}

// OwnerGlobError is an owner glob that cannot be used.
type OwnerGlobError struct {
	Glob   string
	Reason string
}

// Error says what is wrong with the glob.
func (e *OwnerGlobError) Error() string {
	return fmt.Sprintf("owner %q: %s", e.Glob, e.Reason)
}

// NormalizeOwnerGlob checks an owner glob and returns the spelling bindings
// keep: lower case, since GitHub's owner names are case-insensitive. A glob
// follows path.Match (*, ?, [a-z], \ escapes) and matches one owner name,
// so it holds no '/'; "my-org/*" (every repository of my-org) is read as
// "my-org". Errors are *OwnerGlobError.
func NormalizeOwnerGlob(glob string) (string, error) {
	g := strings.ToLower(strings.TrimSpace(glob))
	g = strings.TrimSuffix(g, "/*")
	switch {
	case g == "":
		return "", &OwnerGlobError{Glob: glob, Reason: "give an owner name or a glob such as my-org or my-org-*"}
	case len(g) > 100:
		return "", &OwnerGlobError{Glob: glob, Reason: "it is longer than 100 characters"}
	case strings.Contains(g, "/"):
		return "", &OwnerGlobError{Glob: glob, Reason: "an owner is one name, without '/' (for my-org/repo, bind the owner my-org)"}
	}
	for _, r := range g {
		if r <= ' ' || r == 0x7f {
			return "", &OwnerGlobError{Glob: glob, Reason: "it holds a space or a control character"}
		}
	}
	if _, err := path.Match(g, ""); err != nil {
		return "", &OwnerGlobError{Glob: glob, Reason: "it is not a valid glob (path.Match syntax: *, ?, [a-z], \\ to escape)"}
	}
	return g, nil
}

// MatchOwner reports whether owner matches a glob that NormalizeOwnerGlob
// returned, ignoring case as GitHub does.
func MatchOwner(glob, owner string) bool {
	if owner == "" {
		return false
	}
	ok, err := path.Match(glob, strings.ToLower(owner))
	return err == nil && ok
}

// CleanDir returns how a directory binding is kept: absolute, cleaned, and
// with symbolic links resolved, so that every spelling of a directory finds
// it. The directory must exist.
func CleanDir(dir string) (string, error) {
	if strings.TrimSpace(dir) == "" {
		return "", errors.New("give a directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", err
	}
	return filepath.Clean(real), nil
}

// DirContains reports whether dir (a binding's directory) is path or one
// of its parents. Both are absolute and cleaned; on macOS and Windows,
// whose file systems ignore case by default, so does the comparison.
func DirContains(dir, p string) bool {
	eq := func(a, b string) bool { return a == b }
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		eq = strings.EqualFold
	}
	if eq(dir, p) {
		return true
	}
	prefix := dir
	if !strings.HasSuffix(prefix, string(filepath.Separator)) {
		prefix += string(filepath.Separator)
	}
	return len(p) > len(prefix) && eq(p[:len(prefix)], prefix)
}

// HasBindings reports whether h holds a binding. h may be nil.
func (h *Host) HasBindings() bool {
	return h != nil && (len(h.OwnerBindings) > 0 || len(h.DirBindings) > 0)
}

// IsEmpty reports whether h holds nothing worth keeping: no setting, no
// account, no binding, no record of setup-git. h may be nil.
func (h *Host) IsEmpty() bool {
	return h == nil || !h.HasSettings() && !h.HasBindings() && h.Active == "" && len(h.Accounts) == 0 && !h.GitPathSet
}

// Bindings returns host's bindings, or every host's when host is "": owner
// bindings first, then directory bindings, each sorted by pattern.
func (f *File) Bindings(host string) []Binding {
	names := f.HostNames()
	if host != "" {
		names = []string{host}
	}
	out := []Binding{}
	for _, name := range names {
		h := f.Hosts[name]
		if h == nil {
			continue
		}
		for _, kind := range []string{BindOwner, BindDir} {
			m := h.OwnerBindings
			if kind == BindDir {
				m = h.DirBindings
			}
			pats := make([]string, 0, len(m))
			for p := range m {
				pats = append(pats, p)
			}
			sort.Strings(pats)
			for _, p := range pats {
				out = append(out, Binding{Host: name, Kind: kind, Pattern: p, Login: m[p]})
			}
		}
	}
	return out
}

// checkBindings validates a host's bindings as Parse reads them: owner
// globs are normalized (lower case), directories must be absolute, logins
// not empty.
func checkBindings(name string, h *Host) error {
	if len(h.OwnerBindings) > 0 {
		owners := make(map[string]string, len(h.OwnerBindings))
		for g, login := range h.OwnerBindings {
			n, err := NormalizeOwnerGlob(g)
			if err != nil {
				return fmt.Errorf("[hosts.%q.owner_bindings]: %v", name, err)
			}
			if strings.TrimSpace(login) == "" {
				return fmt.Errorf("[hosts.%q.owner_bindings]: owner %q names no account", name, g)
			}
			if prev, dup := owners[n]; dup && prev != login {
				return fmt.Errorf("[hosts.%q.owner_bindings]: %q is bound twice (owners ignore case)", name, n)
			}
			owners[n] = login
		}
		h.OwnerBindings = owners
	}
	if len(h.DirBindings) > 0 {
		dirs := make(map[string]string, len(h.DirBindings))
		for d, login := range h.DirBindings {
			if !filepath.IsAbs(d) {
				return fmt.Errorf("[hosts.%q.dir_bindings]: %q is not an absolute path", name, d)
			}
			if strings.TrimSpace(login) == "" {
				return fmt.Errorf("[hosts.%q.dir_bindings]: directory %q names no account", name, d)
			}
			dirs[filepath.Clean(d)] = login
		}
		h.DirBindings = dirs
	}
	return nil
}

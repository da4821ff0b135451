// Package gitrepo reads what ghlogin needs to know about a git work tree to
// choose an account: the URL of its origin remote (one cheap `git config`
// call, bounded in time), and the host, owner and name that a remote URL or
// a --repo value names.
package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/hosts"
)

// OriginTimeout bounds the git call that reads the origin remote's URL.
const OriginTimeout = 2 * time.Second

// Ref is a repository as a remote URL or a --repo value names it.
type Ref struct {
	// Host is the host's name as hosts.Normalize gives it for an https
	// or http URL (port kept unless it is the scheme's default), the bare
	// host name for an ssh URL, and "" for OWNER/NAME.
	Host string
	// Owner is the user or organisation that owns the repository.
	Owner string
	// Name is the repository's name, without ".git".
	Name string
	// User is the user name an https or http URL carries (what git sends
	// as username=); ssh URLs' user names ("git") are not accounts and
	// are left out.
	User string
	// SSH is set for ssh URLs (ssh://, scp-like user@host:owner/name).
	SSH bool
}

// Error is a remote URL or --repo value that names no hosted repository.
type Error struct {
	Input  string
	Reason string
}

// Error says why the value names no repository.
func (e *Error) Error() string { return fmt.Sprintf("%q: %s", e.Input, e.Reason) }

// ParseRemote reads a remote URL as git accepts them: scheme://[user@]host
// [:port]/OWNER/NAME[.git] (https, http, ssh, git, git+ssh), or scp-like
// [user@]host:OWNER/NAME[.git]. Local paths and file:// URLs name no host
// and give an *Error.
func ParseRemote(raw string) (Ref, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return Ref{}, &Error{Input: raw, Reason: "empty"}
	}
	if i := strings.Index(s, "://"); i > 0 {
		return parseURL(raw, s, strings.ToLower(s[:i]))
	}
	// scp-like syntax: a ':' before any '/', as git reads it.
	colon := strings.Index(s, ":")
	slash := strings.Index(s, "/")
	if colon <= 0 || (slash >= 0 && slash < colon) {
		return Ref{}, &Error{Input: raw, Reason: "a local path names no host"}
	}
	hostPart, p := s[:colon], s[colon+1:]
	if at := strings.LastIndex(hostPart, "@"); at >= 0 {
		hostPart = hostPart[at+1:]
	}
	name := hosts.Normalize(strings.Trim(hostPart, "[]"), "https")
	if name == "" || strings.Contains(name, ":") {
		return Ref{}, &Error{Input: raw, Reason: "not a valid host"}
	}
	ref, err := ownerName(raw, p)
	if err != nil {
		return Ref{}, err
	}
	ref.Host, ref.SSH = name, true
	return ref, nil
}

func parseURL(raw, s, scheme string) (Ref, error) {
	switch scheme {
	case "https", "http", "ssh", "git", "git+ssh", "ssh+git":
	default:
		return Ref{}, &Error{Input: raw, Reason: "not a URL of a hosted repository (" + scheme + "://)"}
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return Ref{}, &Error{Input: raw, Reason: "not a valid URL"}
	}
	var ref Ref
	switch scheme {
	case "https", "http":
		ref.Host = hosts.Normalize(u.Host, scheme)
		if u.User != nil {
			ref.User = u.User.Username()
		}
	default:
		ref.Host = hosts.Normalize(u.Hostname(), "https")
		ref.SSH = true
	}
	if ref.Host == "" {
		return Ref{}, &Error{Input: raw, Reason: "not a valid host"}
	}
	on, err := ownerName(raw, u.Path)
	if err != nil {
		return Ref{}, err
	}
	ref.Owner, ref.Name = on.Owner, on.Name
	return ref, nil
}

// ownerName reads OWNER/NAME[.git] from a URL path (leading and trailing
// slashes allowed; a longer path keeps its first and last parts).
func ownerName(raw, p string) (Ref, error) {
	parts := strings.FieldsFunc(p, func(r rune) bool { return r == '/' })
	if len(parts) < 2 {
		return Ref{}, &Error{Input: raw, Reason: "the path names no OWNER/NAME"}
	}
	owner, name := parts[0], strings.TrimSuffix(parts[len(parts)-1], ".git")
	if !ValidName(owner) || !ValidName(name) {
		return Ref{}, &Error{Input: raw, Reason: "the owner or repository name holds characters GitHub does not allow"}
	}
	return Ref{Owner: owner, Name: name}, nil
}

// ParseRepo reads a --repo value: OWNER/NAME, HOST/OWNER/NAME (as the GitHub
// CLI takes it) or a remote URL. Errors are *Error.
func ParseRepo(s string) (Ref, error) {
	v := strings.TrimSpace(s)
	if strings.Contains(v, "://") || (strings.Contains(v, "@") && strings.Contains(v, ":")) {
		return ParseRemote(v)
	}
	parts := strings.Split(strings.Trim(v, "/"), "/")
	var ref Ref
	switch len(parts) {
	case 2:
	case 3:
		ref.Host = hosts.Normalize(parts[0], "https")
		if ref.Host == "" {
			return Ref{}, &Error{Input: s, Reason: "not a valid host"}
		}
		parts = parts[1:]
	default:
		return Ref{}, &Error{Input: s, Reason: "use OWNER/NAME or HOST/OWNER/NAME"}
	}
	on, err := ownerName(s, strings.Join(parts, "/"))
	if err != nil {
		return Ref{}, &Error{Input: s, Reason: "use OWNER/NAME or HOST/OWNER/NAME with letters, digits, '.', '-' and '_'"}
	}
	ref.Owner, ref.Name = on.Owner, on.Name
	return ref, nil
}

// ValidName reports whether s can be a GitHub owner or repository name:
// letters, digits, '.', '-' and '_', at most 100 characters, and not "."
// or "..".
func ValidName(s string) bool {
	if s == "" || len(s) > 100 || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// OwnerOfPath returns the owner in the path git sends a credential helper
// when credential.useHttpPath is set ("my-org/x.git"), or "" when the path
// names no OWNER/NAME.
func OwnerOfPath(p string) string {
	ref, err := ownerName(p, p)
	if err != nil {
		return ""
	}
	return ref.Owner
}

// ErrNoGit means the git binary was not found; there is then no origin to read.
var ErrNoGit = errors.New("git is not installed")

// Origin returns the URL of the origin remote of the work tree holding dir
// ("" when dir is in no work tree or it has no origin), running
// `git config --get remote.origin.url` once, bounded by OriginTimeout.
// A git that is missing gives ErrNoGit; one that fails otherwise (a
// repository git refuses to read, a timeout) gives its error.
func Origin(ctx context.Context, dir string) (string, error) {
	gitBin, err := exec.LookPath("git")
	if err != nil {
		return "", ErrNoGit
	}
	ctx, cancel := context.WithTimeout(ctx, OriginTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, gitBin, "config", "--get", "remote.origin.url")
	cmd.Dir = dir
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return strings.TrimSpace(out.String()), nil
	case ctx.Err() != nil:
		return "", fmt.Errorf("git config --get remote.origin.url: %w", ctx.Err())
	case errors.As(err, &ee) && ee.ExitCode() == 1 && stderr.Len() == 0:
		return "", nil // not set (or not in a work tree)
	}
	return "", fmt.Errorf("git config --get remote.origin.url: %w: %s", err, strings.TrimSpace(stderr.String()))
}

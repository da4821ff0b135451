// Package pick holds the rules that pick where a request's token comes
// from: the host's token in the environment (EnvToken) and the stored
// account a request uses (Resolve: named account, owner binding, directory
// binding, active account). They read the configuration and the store's
// index and decide; they make no network call and draw no UI, so that
// package session, the git helper and the lean git-credential-ghlogin
// binary all follow the very same functions.
package pick

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/store"
)

// Reasons an account was chosen (Choice.Reason).
const (
	// ReasonNamed: the request named the account (--user, or git's
	// username= from the remote URL).
	ReasonNamed = "named"
	// ReasonOwner: an owner binding matched the repository's owner.
	ReasonOwner = "owner"
	// ReasonDir: a directory binding holds the working directory.
	ReasonDir = "dir"
	// ReasonActive: the host's active account.
	ReasonActive = "active"
)

// Where a named user came from (Query.UserFrom), for Choice.Why.
const (
	// UserFromFlag: --user.
	UserFromFlag = "--user"
	// UserFromGit: git's username=, which git takes from the remote URL.
	UserFromGit = "git"
	// UserFromOrigin: the user name in the origin remote's URL.
	UserFromOrigin = "origin"
)

// Query is what a request about a host knows about the work at hand. Every
// field may be empty.
type Query struct {
	// User names the account: --user, or git's username=.
	User string
	// UserFrom says where User came from (a UserFrom constant).
	UserFrom string
	// Owner is the repository's owner: from --repo, the origin remote, or
	// the path git sends.
	Owner string
	// Dir is the working directory, as the process sees it (symbolic
	// links are resolved here).
	Dir string
}

// Choice is the account a request uses and why.
type Choice struct {
	store.Account
	// Reason is a Reason constant.
	Reason string
	// UserFrom is the query's UserFrom (ReasonNamed).
	UserFrom string
	// Owner is the owner the binding matched (ReasonOwner).
	Owner string
	// Binding is the binding that chose the account (ReasonOwner,
	// ReasonDir).
	Binding config.Binding
}

// Why says in a sentence why the account was chosen: "owner my-org is bound
// to alice-work".
func (c Choice) Why() string {
	switch c.Reason {
	case ReasonNamed:
		switch c.UserFrom {
		case UserFromFlag:
			return "--user names " + c.Login
		case UserFromGit:
			return "the remote URL names " + c.Login
		case UserFromOrigin:
			return "the origin remote's URL names " + c.Login
		}
		return c.Login + " was asked for"
	case ReasonOwner, ReasonDir:
		return bindingPhrase(c.Binding, c.Owner) + " is bound to " + c.Login
	}
	return c.Login + " is the active account"
}

// Short is Why in a few words, for "here: alice-work (owner my-org)".
func (c Choice) Short() string {
	switch c.Reason {
	case ReasonNamed:
		switch c.UserFrom {
		case UserFromFlag:
			return "--user"
		case UserFromGit, UserFromOrigin:
			return "named in the remote URL"
		}
		return "named"
	case ReasonOwner, ReasonDir:
		return bindingPhrase(c.Binding, c.Owner)
	}
	return "active account"
}

// bindingPhrase names a binding: "owner my-org", "owner my-org (my-*)",
// "directory /home/alice/work".
func bindingPhrase(b config.Binding, owner string) string {
	if b.Kind == config.BindDir {
		return "directory " + b.Pattern
	}
	if owner == "" || strings.EqualFold(owner, b.Pattern) {
		return "owner " + b.Pattern
	}
	return "owner " + owner + " (" + b.Pattern + ")"
}

// BindingError is a binding that chose an account its host does not have
// (logged out, or never logged in): the request is refused rather than
// served with another account.
type BindingError struct {
	Binding config.Binding
	// Owner is the owner that matched an owner binding.
	Owner string
	// Err is the *store.NotLoggedInError for the missing account.
	Err error
}

// Error names the binding and the missing account.
func (e *BindingError) Error() string {
	return fmt.Sprintf("%s is bound to %s, which has no account on %s", bindingPhrase(e.Binding, e.Owner), e.Binding.Login, e.Binding.Host)
}

// Unwrap returns the *store.NotLoggedInError.
func (e *BindingError) Unwrap() error { return e.Err }

// AccountIndex is the part of the store that account resolution reads
// (*store.Store has it).
type AccountIndex interface {
	// ResolveIn finds host's account login, or the active one when login
	// is "", in cfg (*store.NotLoggedInError when there is none).
	ResolveIn(cfg *config.File, host, login string) (store.Account, error)
}

// Login returns the stored spelling of the account that login names on
// host (a configuration key). GitHub logins are case-insensitive, so on a
// GitHub host (github.com, GitHub Enterprise Server, the emulator:
// config.KindGitHub) "OCTOCAT" and git's "username=OctoCat" find the
// account stored as "octocat". On an OpenID Connect or other OAuth server
// the login is a subject or user name that may be case-sensitive, and must
// match exactly. An exact match wins; when no account matches, or several
// differ only in case, login is returned as given (and then names no
// account, or the one spelled exactly so).
func Login(cfg *config.File, host, login string) string {
	hc := cfg.Host(host)
	if hc == nil || login == "" || hc.Kind() != config.KindGitHub || hc.Accounts[login] != nil {
		return login
	}
	found := ""
	for stored := range hc.Accounts {
		if strings.EqualFold(stored, login) {
			if found != "" {
				return login
			}
			found = stored
		}
	}
	if found == "" {
		return login
	}
	return found
}

// Resolve is the one rule that picks the stored account a request about
// host (a configuration key) uses, in this order:
//
//  1. the account q.User names (--user, or git's username=), in any case
//     on a GitHub host (Login);
//  2. an owner binding matching q.Owner, ignoring case: a glob without
//     wildcards before one with, then the longest glob;
//  3. a directory binding holding q.Dir (symbolic links resolved): the
//     longest directory;
//  4. the host's active account.
//
// A binding whose account the host does not have gives a *BindingError
// (it unwraps to *store.NotLoggedInError); no account at all gives a
// *store.NotLoggedInError. Commands, the git helper and exec all choose here.
func Resolve(idx AccountIndex, cfg *config.File, host string, q Query) (Choice, error) {
	if q.User != "" {
		a, err := idx.ResolveIn(cfg, host, Login(cfg, host, q.User))
		if err != nil {
			return Choice{}, err
		}
		return Choice{Account: a, Reason: ReasonNamed, UserFrom: q.UserFrom}, nil
	}
	hc := cfg.Host(host)
	if b, ok := ownerBinding(hc, q.Owner); ok {
		b.Host = hostKey(host)
		return bound(idx, cfg, host, Choice{Reason: ReasonOwner, Owner: q.Owner, Binding: b})
	}
	if b, ok := dirBinding(hc, q.Dir); ok {
		b.Host = hostKey(host)
		return bound(idx, cfg, host, Choice{Reason: ReasonDir, Binding: b})
	}
	a, err := idx.ResolveIn(cfg, host, "")
	if err != nil {
		return Choice{}, err
	}
	return Choice{Account: a, Reason: ReasonActive}, nil
}

// bound resolves the account a binding names.
func bound(idx AccountIndex, cfg *config.File, host string, c Choice) (Choice, error) {
	a, err := idx.ResolveIn(cfg, host, Login(cfg, host, c.Binding.Login))
	var nl *store.NotLoggedInError
	if errors.As(err, &nl) {
		return Choice{}, &BindingError{Binding: c.Binding, Owner: c.Owner, Err: err}
	}
	if err != nil {
		return Choice{}, err
	}
	c.Account = a
	return c, nil
}

// ownerBinding finds the owner binding for owner.
func ownerBinding(hc *config.Host, owner string) (config.Binding, bool) {
	if hc == nil || owner == "" || len(hc.OwnerBindings) == 0 {
		return config.Binding{}, false
	}
	best, found := "", false
	for glob := range hc.OwnerBindings {
		if !config.MatchOwner(glob, owner) {
			continue
		}
		if !found || moreSpecific(glob, best) {
			best, found = glob, true
		}
	}
	if !found {
		return config.Binding{}, false
	}
	return config.Binding{Kind: config.BindOwner, Pattern: best, Login: hc.OwnerBindings[best]}, true
}

// moreSpecific orders matching globs: a literal name first, then the
// longer glob, then the smaller one (so the choice never depends on map
// order).
func moreSpecific(a, b string) bool {
	la, lb := !strings.ContainsAny(a, `*?[\`), !strings.ContainsAny(b, `*?[\`)
	if la != lb {
		return la
	}
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a < b
}

// dirBinding finds the directory binding holding dir: the longest bound
// directory that is dir or one of its parents.
func dirBinding(hc *config.Host, dir string) (config.Binding, bool) {
	if hc == nil || dir == "" || len(hc.DirBindings) == 0 {
		return config.Binding{}, false
	}
	p := RealDir(dir)
	best, found := "", false
	for d := range hc.DirBindings {
		if !config.DirContains(d, p) {
			continue
		}
		if !found || len(d) > len(best) || (len(d) == len(best) && d < best) {
			best, found = d, true
		}
	}
	if !found {
		return config.Binding{}, false
	}
	return config.Binding{Kind: config.BindDir, Pattern: best, Login: hc.DirBindings[best]}, true
}

// RealDir is dir made absolute with symbolic links resolved; a directory
// that cannot be resolved (removed meanwhile) is only cleaned.
func RealDir(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return filepath.Clean(dir)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	return abs
}

// hostKey is the configuration key for a host name as commands pass it.
func hostKey(host string) string {
	h, err := hosts.Parse(host)
	if err != nil {
		return host
	}
	return h.Name
}

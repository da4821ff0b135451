package session

import (
	"context"
	"fmt"
	"os"

	"github.com/ghlogin/ghlogin/internal/gitrepo"
	"github.com/ghlogin/ghlogin/internal/session/pick"
)

// Place is where a command runs, as far as choosing an account goes: the
// working directory and the repository known there.
type Place struct {
	// Dir is the working directory ("" when it cannot be read).
	Dir string
	// Repo is the repository --repo names, else the origin remote's; nil
	// when there is none.
	Repo *gitrepo.Ref
	// FromFlag is set when Repo came from --repo.
	FromFlag bool
}

// Place reads where a command runs: the working directory, and repo (the
// --repo value: OWNER/NAME, HOST/OWNER/NAME or a URL), else the origin
// remote of the work tree holding the directory. Reading the origin costs
// one bounded git call (Session.GitOrigin); without git, outside a work
// tree, or for a remote that names no hosted repository, there is none. A
// repo value that names no repository is an *InputError.
func (s *Session) Place(ctx context.Context, repo string) (Place, error) {
	p := Place{Dir: s.workingDir()}
	if repo != "" {
		ref, err := gitrepo.ParseRepo(repo)
		if err != nil {
			return Place{}, &InputError{Field: "repo", Err: err}
		}
		p.Repo, p.FromFlag = &ref, true
		return p, nil
	}
	if p.Dir == "" {
		return p, nil
	}
	if raw := s.gitOrigin(ctx, p.Dir); raw != "" {
		if ref, err := gitrepo.ParseRemote(raw); err == nil {
			p.Repo = &ref
		}
	}
	return p, nil
}

// Query is the query for a request about host (a host name) made here,
// with user the --user value ("" when not given). The repository's owner
// counts on its own host only (a --repo OWNER/NAME names no host and counts
// on any); an https origin URL that names a user (as in
// https://alice-work@github.com/my-org/x) names the account, as it does for
// git, unless user is given.
func (p Place) Query(host, user string) Query {
	q := Query{User: user, Dir: p.Dir}
	if user != "" {
		q.UserFrom = UserFromFlag
	}
	r := p.Repo
	if r == nil || (r.Host != "" && r.Host != host) {
		return q
	}
	q.Owner = r.Owner
	if q.User == "" && !p.FromFlag && !r.SSH && r.User != "" && r.User != EnvTokenUser {
		q.User, q.UserFrom = r.User, UserFromOrigin
	}
	return q
}

// Here returns the query for a command run in the current directory about
// t (see Place and Place.Query): user is --user, repo is --repo ("" when
// not given). A repo value that names no repository, or another host than
// t's, is an *InputError.
func (s *Session) Here(ctx context.Context, t *Target, user, repo string) (Query, error) {
	p, err := s.Place(ctx, repo)
	if err != nil {
		return Query{}, err
	}
	if p.FromFlag && p.Repo.Host != "" && p.Repo.Host != t.Host.Name {
		return Query{}, &InputError{Field: "repo", Err: fmt.Errorf("%q is on %s, but the command acts on %s (use --host %s, or leave --host out)", repo, p.Repo.Host, t.Host.Name, s.HostArg(p.Repo.Host, ""))}
	}
	return p.Query(t.Host.Name, user), nil
}

// EnvTokenUser is the user name git sends with a token from the
// environment (pick.EnvTokenUser).
const EnvTokenUser = pick.EnvTokenUser

// RepoHost returns the host a --repo value names ("" for OWNER/NAME or a
// value that names no repository), for a command given --repo without
// --host.
func RepoHost(repo string) string {
	if repo == "" {
		return ""
	}
	ref, err := gitrepo.ParseRepo(repo)
	if err != nil {
		return ""
	}
	return ref.Host
}

// workingDir is the process's working directory, or "" when it cannot be
// read (a removed directory).
func (s *Session) workingDir() string {
	getwd := s.Getwd
	if getwd == nil {
		getwd = os.Getwd
	}
	d, err := getwd()
	if err != nil {
		return ""
	}
	return d
}

// gitOrigin returns the origin remote's URL for the work tree holding dir,
// or "".
func (s *Session) gitOrigin(ctx context.Context, dir string) string {
	if s.GitOrigin != nil {
		return s.GitOrigin(ctx, dir)
	}
	u, err := gitrepo.Origin(ctx, dir)
	if err != nil {
		return ""
	}
	return u
}

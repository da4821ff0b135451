package session

import (
	"context"
	"fmt"
	"os"

	"github.com/ghlogin/ghlogin/internal/gitrepo"
)

// Here returns the query for a command run in the current directory about
// t: user is --user ("" when not given); repo is --repo (OWNER/NAME,
// HOST/OWNER/NAME or a URL; "" when not given). The owner comes from repo,
// else from the origin remote of the work tree holding the directory, when
// that remote is on t's host; an https origin URL that names a user (as in
// https://alice-work@github.com/my-org/x) names the account, as it does
// for git. Reading the origin costs one bounded git call (Session.GitOrigin);
// without git, or outside a work tree, there is no owner. A repo value that
// names no repository, or another host than t's, is an *InputError.
func (s *Session) Here(ctx context.Context, t *Target, user, repo string) (Query, error) {
	q := Query{User: user}
	if user != "" {
		q.UserFrom = UserFromFlag
	}
	q.Dir = s.workingDir()
	if repo != "" {
		ref, err := gitrepo.ParseRepo(repo)
		if err != nil {
			return Query{}, &InputError{Field: "repo", Err: err}
		}
		if ref.Host != "" && ref.Host != t.Host.Name {
			return Query{}, &InputError{Field: "repo", Err: fmt.Errorf("%q is on %s, but the command acts on %s (use --host %s, or leave --host out)", repo, ref.Host, t.Host.Name, ref.Host)}
		}
		q.Owner = ref.Owner
		return q, nil
	}
	if q.Dir == "" {
		return q, nil
	}
	raw := s.gitOrigin(ctx, q.Dir)
	if raw == "" {
		return q, nil
	}
	ref, err := gitrepo.ParseRemote(raw)
	if err != nil || ref.Host != t.Host.Name {
		return q, nil
	}
	q.Owner = ref.Owner
	if q.User == "" && !ref.SSH && ref.User != "" && ref.User != EnvTokenUser {
		q.User, q.UserFrom = ref.User, UserFromOrigin
	}
	return q, nil
}

// EnvTokenUser is the user name git sends with a token from the
// environment (GH_TOKEN and friends), as the GitHub CLI does; GitHub accepts
// any user name with a token, so it names no account.
const EnvTokenUser = "x-access-token"

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

package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator/internal/emuhttp"
)

// ErrInvalidName is returned by InitRepo for owner or repository names
// that GitHub would not accept (or that could escape the directory).
var ErrInvalidName = errors.New("invalid owner or repository name")

// gitRoute serves git smart HTTP when Config.GitRepos is set:
// /{owner}/{repo}[.git]/info/refs, git-upload-pack and git-receive-pack.
func (s *Server) gitRoute(w *emuhttp.Recorder, r *http.Request) (string, bool) {
	if s.cfg.GitRepos == "" {
		return "", false
	}
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	if len(parts) != 3 {
		return "", false
	}
	owner, repo, rest := parts[0], strings.TrimSuffix(parts[1], ".git"), parts[2]
	switch rest {
	case "info/refs", "git-upload-pack", "git-receive-pack":
	default:
		return "", false
	}
	if !emuhttp.ValidName(owner) || !emuhttp.ValidName(repo) {
		return "", false
	}
	s.serveGit(w, r, owner, repo, rest)
	return "/{owner}/{repo}/" + rest, true
}

// gitLogin returns the login of the token in the request's Basic auth
// password (any username), if the emulator issued it and it is valid.
func (s *Server) gitLogin(r *http.Request) (string, bool) {
	_, tok, ok := r.BasicAuth()
	if !ok {
		if tok, ok = emuhttp.Bearer(r); !ok {
			return "", false
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.lookupToken(tok)
	if !ok {
		return "", false
	}
	return t.login, true
}

// GitAccess is one authenticated git request: which user's token reached
// which repository, and whether it was served.
type GitAccess struct {
	Owner, Repo string
	// Login is the user the token belongs to.
	Login string
	// Service is the request: info/refs, git-upload-pack or git-receive-pack.
	Service string
	// Allowed is false when the repository is private to others.
	Allowed bool
}

// GitLog returns every authenticated git request so far, in order.
func (s *Server) GitLog() []GitAccess {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.gitLog)
}

// canRead reports whether login may use owner's repositories: always,
// unless Config.PrivateRepos; then when login is the owner or a member of
// the organisation owner (names compared ignoring case, as GitHub does).
func (s *Server) canRead(login, owner string) bool {
	if !s.cfg.PrivateRepos || strings.EqualFold(login, owner) {
		return true
	}
	for org, members := range s.cfg.Orgs {
		if !strings.EqualFold(org, owner) {
			continue
		}
		for _, m := range members {
			if strings.EqualFold(m, login) {
				return true
			}
		}
	}
	return false
}

func (s *Server) serveGit(w http.ResponseWriter, r *http.Request, owner, repo, rest string) {
	login, ok := s.gitLogin(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		http.Error(w, "Invalid username or token. Password authentication is not supported for Git operations.", http.StatusUnauthorized)
		return
	}
	allowed := s.canRead(login, owner)
	s.mu.Lock()
	s.gitLog = append(s.gitLog, GitAccess{Owner: owner, Repo: repo, Login: login, Service: rest, Allowed: allowed})
	s.mu.Unlock()
	if !allowed {
		// GitHub answers a private repository the token cannot see as
		// if it did not exist.
		http.Error(w, "Repository not found.", http.StatusNotFound)
		return
	}
	root, err := filepath.Abs(s.cfg.GitRepos)
	if err != nil {
		http.Error(w, "the emulator's repository directory is unusable", http.StatusInternalServerError)
		return
	}
	if fi, err := os.Stat(filepath.Join(root, owner, repo+".git")); err != nil || !fi.IsDir() {
		http.Error(w, "Repository not found.", http.StatusNotFound)
		return
	}
	gitBin, err := exec.LookPath("git")
	if err != nil {
		http.Error(w, "git is not installed where the emulator runs", http.StatusInternalServerError)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + owner + "/" + repo + ".git/" + rest
	r2.URL.RawPath = ""
	// The token must not reach git's environment (CGI passes headers as HTTP_*).
	r2.Header.Del("Authorization")
	logw := &lineLogger{logf: s.logf}
	defer logw.Flush()
	h := &cgi.Handler{
		Path: gitBin,
		Args: []string{"http-backend"},
		Root: "/",
		Env: []string{
			"GIT_PROJECT_ROOT=" + root,
			"GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER=" + login,
			"GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_GLOBAL=" + os.DevNull,
			"GIT_CONFIG_COUNT=1",
			"GIT_CONFIG_KEY_0=http.receivepack",
			"GIT_CONFIG_VALUE_0=true",
		},
		InheritEnv: []string{"PATH", "LANG", "TMPDIR"},
		Logger:     log.New(logw, "git http-backend: ", 0),
		Stderr:     logw,
	}
	h.ServeHTTP(w, r2)
}

// lineLogger sends git's stderr to Logf a line at a time.
type lineLogger struct {
	mu   sync.Mutex
	logf func(string, ...any)
	buf  []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.logf("git: %s", strings.TrimSpace(string(l.buf[:i])))
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > 4096 {
		l.flushLocked()
	}
	return len(p), nil
}

// Flush logs what is left.
func (l *lineLogger) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked()
}

func (l *lineLogger) flushLocked() {
	if len(l.buf) > 0 {
		l.logf("git: %s", strings.TrimSpace(string(l.buf)))
		l.buf = nil
	}
}

// InitRepo creates the bare repository dir/OWNER/NAME.git with one commit
// (README.md on branch main), using the git binary, for tests and demos.
func InitRepo(dir, owner, name string) error {
	if !emuhttp.ValidName(owner) || !emuhttp.ValidName(name) {
		return fmt.Errorf("init repo %q/%q: %w (use letters, digits, '.', '-' and '_')", owner, name, ErrInvalidName)
	}
	gitBin, err := exec.LookPath("git")
	if err != nil {
		return fmt.Errorf("init repo: git is not installed: %w; install git", err)
	}
	repo := filepath.Join(dir, owner, name+".git")
	if _, err := os.Stat(repo); err == nil {
		return fmt.Errorf("init repo %s: %w", repo, fs.ErrExist)
	}
	if err := os.MkdirAll(filepath.Dir(repo), 0o755); err != nil {
		return fmt.Errorf("init repo: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env := []string{
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_AUTHOR_NAME=Octocat", "GIT_AUTHOR_EMAIL=octocat@users.noreply.github.com",
		"GIT_COMMITTER_NAME=Octocat", "GIT_COMMITTER_EMAIL=octocat@users.noreply.github.com",
		"GIT_AUTHOR_DATE=2025-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2025-01-01T00:00:00Z",
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	run := func(stdin string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, gitBin, args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("init repo: git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
		}
		return strings.TrimSpace(string(out)), nil
	}
	if _, err := run("", "init", "--quiet", "--bare", repo); err != nil {
		return err
	}
	gd := "--git-dir=" + repo
	if _, err := run("", gd, "symbolic-ref", "HEAD", "refs/heads/main"); err != nil {
		return err
	}
	readme := fmt.Sprintf("# %s/%s\n\nA repository served by the ghlogin GitHub emulator.\n", owner, name)
	blob, err := run(readme, gd, "hash-object", "-w", "--stdin")
	if err != nil {
		return err
	}
	tree, err := run("100644 blob "+blob+"\tREADME.md\n", gd, "mktree")
	if err != nil {
		return err
	}
	commit, err := run("Initial commit\n", gd, "commit-tree", tree)
	if err != nil {
		return err
	}
	_, err = run("", gd, "update-ref", "refs/heads/main", commit)
	return err
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
)

// The GitHub CLI's OAuth app, as published in cli/cli
// internal/authflow/flow.go (the secret is public by design: "This value is
// safe to be embedded in version control"). The emulator registers it so
// that it accepts gh's device flow.
const (
	ghClientID     = "178c6fc778ccc68e1d6a"
	ghClientSecret = "34ddeff2b558a23d38fba8a6de74f086ede1cc0b"
)

// gh treats the host github.localhost as a development instance (cli/cli
// internal/ghinstance): OAuth at http://github.localhost/ and the API at
// http://api.github.localhost/, plain http on port 80. So the emulator must
// listen on 127.0.0.1:80 and both names must resolve to 127.0.0.1.
const (
	ghHost    = "github.localhost"
	ghAPIHost = "api.github.localhost"
	ghAddr    = "127.0.0.1:80"
)

const hostsFile = "/etc/hosts"

// hostsMarker ends the line the benchmark adds to /etc/hosts.
const hostsMarker = "# added by ghlogin tools/bench/deviceflow for this run"

// ensureHosts makes github.localhost and api.github.localhost resolve to
// 127.0.0.1 through /etc/hosts, adding one marked line when needed. The
// returned function removes that line again (and only it). added says
// whether the file was changed.
func ensureHosts(path string) (undo func() error, added bool, err error) {
	noop := func() error { return nil }
	orig, err := os.ReadFile(path)
	if err != nil {
		return noop, false, err
	}
	if hostsMaps(orig, ghHost) && hostsMaps(orig, ghAPIHost) {
		return noop, false, nil
	}
	line := fmt.Sprintf("127.0.0.1 %s %s %s\n", ghHost, ghAPIHost, hostsMarker)
	body := orig
	if len(body) > 0 && body[len(body)-1] != '\n' {
		body = append(body, '\n')
	}
	body = append(body, line...)
	if err := writeInPlace(path, body); err != nil {
		return noop, false, fmt.Errorf("cannot add %s to %s: %w (run as root, or add the line yourself: %q)", ghHost, path, err, strings.TrimSpace(line))
	}
	undo = func() error {
		cur, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return writeInPlace(path, removeMarked(cur))
	}
	return undo, true, nil
}

// writeInPlace rewrites path keeping its inode and mode (/etc/hosts may be
// a bind mount, which a rename would not update).
func writeInPlace(path string, body []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// hostsMaps reports whether a hosts file maps name to 127.0.0.1.
func hostsMaps(hosts []byte, name string) bool {
	for _, l := range strings.Split(string(hosts), "\n") {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		f := strings.Fields(l)
		if len(f) < 2 || f[0] != "127.0.0.1" {
			continue
		}
		for _, n := range f[1:] {
			if strings.EqualFold(n, name) {
				return true
			}
		}
	}
	return false
}

// removeMarked drops the lines the benchmark added.
func removeMarked(hosts []byte) []byte {
	var out []string
	for _, l := range strings.SplitAfter(string(hosts), "\n") {
		if !strings.Contains(l, hostsMarker) {
			out = append(out, l)
		}
	}
	return []byte(strings.Join(out, ""))
}

// ghShim serves what gh asks of api.github.localhost beyond the emulator:
// after the token arrives gh asks GraphQL for the viewer's login
// (POST /graphql, query UserCurrent{viewer{login}}). The shim answers it
// from the emulator's own GET /user, so a bad token still gets 401.
// Everything else goes to the emulator untouched.
func ghShim(emu http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/graphql" {
			emu.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var body struct {
			Query string `json:"query"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&body); err != nil || !strings.Contains(body.Query, "viewer") {
			writeShimJSON(w, http.StatusOK, map[string]any{"errors": []map[string]string{{"message": "the benchmark's GraphQL shim answers only viewer { login }"}}})
			return
		}
		req := httptest.NewRequestWithContext(r.Context(), http.MethodGet, "/user", nil)
		req.Host = r.Host
		req.Header.Set("Authorization", r.Header.Get("Authorization"))
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			writeShimJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
			return
		}
		var user struct {
			Login string `json:"login"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &user); err != nil || user.Login == "" {
			writeShimJSON(w, http.StatusBadGateway, map[string]string{"message": "the emulator's /user reply has no login"})
			return
		}
		w.Header().Set("X-OAuth-Scopes", rec.Header().Get("X-OAuth-Scopes"))
		writeShimJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"viewer": map[string]string{"login": user.Login}}})
	})
}

func writeShimJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// ghServer is the emulator, set up with gh's OAuth app, serving on
// 127.0.0.1:80 behind ghShim.
type ghServer struct {
	emu  *emulator.Server
	srv  *http.Server
	done chan struct{}
}

func startGHServer(ctx context.Context, cfg emulator.Config) (*ghServer, error) {
	cfg.Clients = []emulator.Client{{ID: ghClientID, Secret: ghClientSecret, Name: "GitHub CLI"}}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", ghAddr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s, where gh looks for %s: %w (run as root, and stop whatever holds port 80)", ghAddr, ghHost, err)
	}
	emu := emulator.New(cfg)
	s := &ghServer{
		emu:  emu,
		srv:  &http.Server{Handler: ghShim(emu), ReadHeaderTimeout: 10 * time.Second},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

func (s *ghServer) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s.srv.Shutdown(ctx) != nil {
		_ = s.srv.Close()
	}
	<-s.done
}

// ghVersion returns the first line of `gh --version`.
func ghVersion(ctx context.Context, bin string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--version")
	cmd.Env = cleanEnv(os.TempDir(), "GH_NO_UPDATE_NOTIFIER=1")
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	first, _, _ := bytes.Cut(out, []byte("\n"))
	v := strings.TrimSpace(string(first))
	if v == "" {
		return "", errors.New("gh --version printed nothing")
	}
	return v, nil
}

// ghEnv is gh's environment for one login: its own config directory, no
// browser, no prompts, no update check.
func ghEnv(home string) []string {
	return cleanEnv(home,
		"GH_CONFIG_DIR="+home+"/gh",
		"GH_BROWSER=true",
		"BROWSER=true",
		"GH_PROMPT_DISABLED=1",
		"GH_NO_UPDATE_NOTIFIER=1",
	)
}

// ghLoginArgs starts gh's device flow (--web; with no terminal gh prints the
// code and URL and polls without waiting for Enter).
var ghLoginArgs = []string{"auth", "login", "--hostname", ghHost, "--git-protocol", "https", "--web"}

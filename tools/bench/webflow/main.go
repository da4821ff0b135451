//go:build linux

// Command webflow measures ghlogin's loopback web flow with a real headless
// Chromium against the built-in emulator, beside the time Chromium alone
// takes to follow the same redirect chain (authorization page → 302 →
// loopback callback). The difference is what ghlogin itself costs: starting,
// listening, exchanging the code, asking /user who logged in and storing the
// token.
//
// Run it from the repository with:
//
//	go run ./tools/bench/webflow            # 10 runs of each, after 1 warm-up
//	go run ./tools/bench/webflow -n 30
//
// Each run uses a fresh Chromium profile and a fresh ghlogin config and file
// store; every Chromium is started in a process group of its own and stopped
// with it. Only loopback is used.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
)

func main() {
	n := flag.Int("n", 10, "measured runs of each kind")
	warmup := flag.Int("warmup", 1, "unmeasured runs of each kind first (page cache, first-run costs)")
	chromium := flag.String("chromium", "", "Chromium binary (default: GHLOGIN_TEST_CHROMIUM, then chromium on PATH)")
	bin := flag.String("ghlogin", "", "ghlogin binary to measure (default: build this module's)")
	timeout := flag.Duration("timeout", time.Minute, "limit for one run")
	flag.Parse()
	if *n < 1 || *warmup < 0 {
		fmt.Fprintln(os.Stderr, "webflow: -n must be at least 1 and -warmup at least 0")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *n, *warmup, *chromium, *bin, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "webflow:", err)
		os.Exit(1)
	}
}

// bench holds what every run shares.
type bench struct {
	work     string // scratch directory, removed at the end
	bin      string // ghlogin binary
	chromium string
	srv      *emulator.Server
	seen     *requestLog
	timeout  time.Duration
}

// requestLog records when the emulator answered each endpoint first since
// the last reset (from its Logf line, written once the reply is sent).
type requestLog struct {
	mu    sync.Mutex
	first map[string]time.Time
}

func (l *requestLog) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	f := strings.Fields(line)
	if len(f) < 2 {
		return
	}
	key := f[0] + " " + f[1]
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.first[key]; !ok {
		l.first[key] = now
	}
}

func (l *requestLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.first = map[string]time.Time{}
}

// since returns how long after start the emulator first answered key.
func (l *requestLog) since(key string, start time.Time) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	at, ok := l.first[key]
	if !ok {
		return 0, fmt.Errorf("the emulator never answered %s", key)
	}
	return at.Sub(start), nil
}

const (
	authorizeKey = "GET /login/oauth/authorize"
	exchangeKey  = "POST /login/oauth/access_token"
)

// ghloginTimes are one ghlogin run's milestones, from process start.
type ghloginTimes struct {
	ready     time.Duration // the authorize event: listening, browser about to open
	launched  time.Duration // the browser wrapper exec'd Chromium
	authorize time.Duration // the emulator sent Chromium the redirect with a code
	exchanged time.Duration // the emulator answered the code exchange
	stored    time.Duration // the success event: the token is stored
	exit      time.Duration // the process has exited
}

func run(ctx context.Context, n, warmup int, chromium, bin string, timeout time.Duration) error {
	var err error
	if chromium, err = findChromium(chromium); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "ghlogin-bench-webflow-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if bin == "" {
		bin = filepath.Join(work, "ghlogin")
		fmt.Fprintln(os.Stderr, "building ghlogin…")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/ghlogin/ghlogin")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building ghlogin (run this from the repository): %w", err)
		}
	}
	seen := &requestLog{first: map[string]time.Time{}}
	srv, err := emulator.Start(ctx, "127.0.0.1:0", emulator.Config{AutoApproveWeb: true, Logf: seen.logf})
	if err != nil {
		return fmt.Errorf("starting the emulator: %w", err)
	}
	defer srv.Close()
	b := &bench{work: work, bin: bin, chromium: chromium, srv: srv, seen: seen, timeout: timeout}

	var gl []ghloginTimes
	var alone []chromiumTimes
	// Interleave the two kinds so that drift in machine load hits both.
	for i := 0; i < warmup+n; i++ {
		fmt.Fprintf(os.Stderr, "\rrun %d/%d (%d warm-up)…", i+1, warmup+n, warmup)
		g, err := b.ghloginRun(ctx, i)
		if err != nil {
			return fmt.Errorf("ghlogin run %d: %w", i+1, err)
		}
		a, err := b.chromiumRun(ctx, i)
		if err != nil {
			return fmt.Errorf("chromium run %d: %w", i+1, err)
		}
		if i >= warmup {
			gl = append(gl, g)
			alone = append(alone, a)
		}
	}
	fmt.Fprintln(os.Stderr)
	report(os.Stdout, b.version(ctx), n, warmup, gl, alone)
	return nil
}

// findChromium returns the Chromium binary to use.
func findChromium(flagValue string) (string, error) {
	candidates := []string{"/usr/bin/chromium", "chromium", "chromium-browser"}
	if flagValue != "" {
		candidates = []string{flagValue}
	} else if env := os.Getenv("GHLOGIN_TEST_CHROMIUM"); env != "" {
		candidates = []string{env}
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium found (tried %s); install Debian's chromium or pass -chromium PATH", strings.Join(candidates, ", "))
}

// version returns Chromium's version line, or "" if it does not say.
func (b *bench) version(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, b.chromium, "--version").Output()
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// ghloginRun runs `ghlogin login --web --json` once with headless Chromium as
// the browser and checks that `ghlogin token` then prints a token.
func (b *bench) ghloginRun(ctx context.Context, i int) (ghloginTimes, error) {
	var t ghloginTimes
	dir := filepath.Join(b.work, fmt.Sprintf("ghlogin-%d", i))
	br, err := newBrowser(filepath.Join(dir, "browser"), b.chromium)
	if err != nil {
		return t, err
	}
	defer br.stop()
	env := []string{
		"HOME=" + dir,
		"PATH=" + os.Getenv("PATH"),
		"TMPDIR=" + os.TempDir(),
		"GHLOGIN_CONFIG_DIR=" + filepath.Join(dir, "config"),
		"GHLOGIN_STORE=file",
		"GHLOGIN_BROWSER=" + br.command,
		"GHLOGIN_CLIENT_SECRET=" + emulator.DefaultClientSecret,
		"NO_COLOR=1",
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.bin, "login", "--web", "--json", "--host", b.srv.URL(), "--client-id", emulator.DefaultClientID)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return t, err
	}
	b.seen.reset()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return t, err
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		at := time.Since(start)
		var ev struct {
			Event string `json:"event"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return t, fmt.Errorf("ghlogin wrote a line that is not JSON: %q", sc.Text())
		}
		switch ev.Event {
		case "authorize":
			t.ready = at
		case "success":
			t.stored = at
		}
	}
	err = cmd.Wait()
	t.exit = time.Since(start)
	if err != nil {
		return t, fmt.Errorf("ghlogin login --web: %v\n%s", err, stderr.String())
	}
	if t.ready == 0 || t.stored == 0 {
		return t, fmt.Errorf("ghlogin sent no authorize or success event\n%s", stderr.String())
	}
	at, err := br.launchedAt()
	if err != nil {
		return t, err
	}
	t.launched = at.Sub(start)
	if t.authorize, err = b.seen.since(authorizeKey, start); err != nil {
		return t, err
	}
	if t.exchanged, err = b.seen.since(exchangeKey, start); err != nil {
		return t, err
	}
	tok := exec.CommandContext(ctx, b.bin, "token", "--host", b.srv.URL())
	tok.Env = env
	out, err := tok.Output()
	if err != nil || !regexp.MustCompile(`^gho_[A-Za-z0-9]{36}\n?$`).Match(out) {
		return t, fmt.Errorf("ghlogin token did not print a stored gho_ token (%v)", err)
	}
	return t, nil
}

// chromiumTimes are one Chromium-alone run's milestones, from the start of
// the browser wrapper.
type chromiumTimes struct {
	launched  time.Duration // the wrapper exec'd Chromium
	authorize time.Duration // the emulator sent the redirect with a code
	callback  time.Duration // the callback arrived
}

// chromiumRun starts Chromium on the emulator's authorization URL with a
// redirect_uri pointing at a listener of its own, and times the arrival of
// the callback.
func (b *bench) chromiumRun(ctx context.Context, i int) (chromiumTimes, error) {
	var t chromiumTimes
	dir := filepath.Join(b.work, fmt.Sprintf("chromium-%d", i))
	br, err := newBrowser(filepath.Join(dir, "browser"), b.chromium)
	if err != nil {
		return t, err
	}
	defer br.stop()

	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return t, err
	}
	state, verifier := random(), random()
	sum := sha256.Sum256([]byte(verifier))
	type arrival struct {
		at  time.Time
		err error
	}
	arrived := make(chan arrival, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		a := arrival{at: time.Now()}
		q := r.URL.Query()
		switch {
		case q.Get("state") != state:
			a.err = errors.New("the callback's state does not match")
		case q.Get("code") == "":
			a.err = fmt.Errorf("the callback has no code (error %q)", q.Get("error"))
		}
		select {
		case arrived <- a:
		default:
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "done\n")
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()

	authorize := b.srv.URL() + "/login/oauth/authorize?" + url.Values{
		"client_id":             {emulator.DefaultClientID},
		"redirect_uri":          {"http://" + ln.Addr().String() + "/callback"},
		"scope":                 {"repo read:org gist"},
		"state":                 {state},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
		"response_type":         {"code"},
	}.Encode()

	cmd := exec.CommandContext(ctx, br.command, authorize)
	b.seen.reset()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return t, err
	}
	go cmd.Wait()
	select {
	case a := <-arrived:
		if a.err != nil {
			return t, a.err
		}
		t.callback = a.at.Sub(start)
	case <-time.After(b.timeout):
		return t, fmt.Errorf("no callback within %v\n%s", b.timeout, br.log())
	case <-ctx.Done():
		return t, ctx.Err()
	}
	at, err := br.launchedAt()
	if err != nil {
		return t, err
	}
	t.launched = at.Sub(start)
	if t.authorize, err = b.seen.since(authorizeKey, start); err != nil {
		return t, err
	}
	return t, nil
}

// random returns 32 random bytes in base64url.
func random() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Command gitcred measures how long git credential helpers take to answer
// `get` with a stored token, side by side in one run: the lean helper
// git-credential-ghlogin (file store, kernel keyring, OS keyring) and
// `ghlogin git-credential` (file store and OS keyring), git's own
// credential-store (the floor) and credential-cache, the GitHub CLI (`gh
// auth git-credential`), git-credential-oauth as its README configures it
// and a minimal Go program (gofloor). Each helper is run directly, as git
// runs it, and through `git credential fill` with the helper configured in
// a private global git config (the lean helper both by its path and by the
// name "ghlogin"). It also times `ghlogin token` beside `gh auth token` and
// the binary's bare start-up (`ghlogin version`).
//
// Runs are interleaved (one of each command per round) so that a busy
// machine slows every command alike. Every answer is checked: a helper that
// does not print the stored token fails the benchmark.
//
// Nothing touches the network or the user's own configuration: every
// command runs with a temporary HOME, GIT_CONFIG_GLOBAL, GHLOGIN_CONFIG_DIR
// and GH_CONFIG_DIR. The keyring case needs a private Secret Service
// (run under .ci/with-keyring, which sets GHLOGIN_TEST_KEYRING_SESSION=1);
// without one it is left out, and the report says so.
//
// Usage: see run.sh next to this file.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/store/oskeyring"
)

// compare is the -compare binary, if any; gofloor the -gofloor one; lean
// the lean helper git-credential-ghlogin; leanVariants other builds of it
// (-lean-variant), measured on the file store beside it.
var (
	compare, gofloor, lean string
	leanVariants           variants
	// only, when set, keeps the commands whose name it matches (-only).
	only *regexp.Regexp
)

// variants is a repeatable flag of LABEL=PATH pairs.
type variants []variant

type variant struct{ Label, Path string }

func (v *variants) String() string { return fmt.Sprint(*v) }

func (v *variants) Set(s string) error {
	// The path is after the last "=": a label may hold one.
	i := strings.LastIndex(s, "=")
	label, path := s[:max(i, 0)], s[i+1:]
	if i < 0 || label == "" || path == "" {
		return errors.New("want LABEL=PATH")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	*v = append(*v, variant{label, abs})
	return nil
}

// request is what git writes to a helper for `git clone https://github.com/octocat/hello`.
const request = "protocol=https\nhost=github.com\n\n"

// bench is one measured command.
type bench struct {
	Group string   `json:"group"` // "helper" (run directly) or "git" (git credential fill)
	Name  string   `json:"name"`
	Argv  []string `json:"argv"`
	// Env adds to the common environment.
	Env []string `json:"-"`
	// Stdin is the request; Want must appear in the answer ("" = no answer).
	Stdin string `json:"-"`
	Want  string `json:"-"`
	// Floor names the command the ratio is taken against.
	Floor string `json:"-"`

	Runs []time.Duration `json:"-"`
	CPU  []time.Duration `json:"-"` // user+system time of the process and its children
	Stat stats           `json:"stats"`
}

type stats struct {
	N      int     `json:"n"`
	Median float64 `json:"median_ms"`
	Mean   float64 `json:"mean_ms"`
	Min    float64 `json:"min_ms"`
	P90    float64 `json:"p90_ms"`
	CPU    float64 `json:"cpu_median_ms"` // user+system CPU time
	Ratio  float64 `json:"ratio"`         // median / the floor's median
}

func main() {
	ghlogin := flag.String("ghlogin", "", "path to the ghlogin binary to measure (required)")
	flag.StringVar(&gofloor, "gofloor", "", "path to the gofloor binary (tools/bench/gitcred/gofloor): the cost of starting any Go helper")
	runs := flag.Int("runs", 200, "measured runs of each command")
	warmup := flag.Int("warmup", 10, "unmeasured runs of each command first")
	keyring := flag.String("keyring", "auto", "measure the keyring store: auto (when GHLOGIN_TEST_KEYRING_SESSION=1), yes, no")
	jsonOut := flag.String("json", "", "also write the results as JSON to this file")
	flag.StringVar(&lean, "lean", "", "path to the lean helper git-credential-ghlogin (cmd/git-credential-ghlogin)")
	flag.StringVar(&compare, "compare", "", "another ghlogin binary (an older build) to measure on the file store too")
	onlyExpr := flag.String("only", "", "measure only the commands whose name matches this regular expression, with their group's floor")
	flag.Var(&leanVariants, "lean-variant", "LABEL=PATH: another build of the lean helper to measure on the file store (repeatable)")
	flag.Parse()
	if *onlyExpr != "" {
		re, err := regexp.Compile(*onlyExpr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gitcred bench: -only:", err)
			os.Exit(2)
		}
		only = re
	}
	if err := run(*ghlogin, *runs, *warmup, *keyring, *jsonOut); err != nil {
		fmt.Fprintln(os.Stderr, "gitcred bench:", err)
		os.Exit(1)
	}
}

func run(ghlogin string, runs, warmup int, keyringMode, jsonOut string) error {
	if ghlogin == "" {
		return errors.New("-ghlogin is required: build it with go build -o /tmp/ghlogin . (run.sh does)")
	}
	ghlogin, err := filepath.Abs(ghlogin)
	if err != nil {
		return err
	}
	withKeyring := keyringMode == "yes" || (keyringMode == "auto" && os.Getenv("GHLOGIN_TEST_KEYRING_SESSION") == "1")
	tmp, err := os.MkdirTemp("", "ghlogin-bench-gitcred-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fx, err := setup(tmp, ghlogin, withKeyring)
	if err != nil {
		return err
	}
	defer fx.cleanup()
	benches := fx.benches()

	// Check every command once before timing anything.
	for i := 0; i <= warmup; i++ {
		for _, b := range benches {
			if _, _, err := fx.once(b); err != nil {
				return err
			}
		}
	}
	for i := 0; i < runs; i++ {
		// Rotate the order each round so no command always follows another.
		for j := range benches {
			b := benches[(i+j)%len(benches)]
			d, cpu, err := fx.once(b)
			if err != nil {
				return err
			}
			b.Runs = append(b.Runs, d)
			b.CPU = append(b.CPU, cpu)
		}
	}
	medians := map[string]float64{}
	for _, b := range benches {
		b.Stat = summarize(b.Runs)
		b.Stat.CPU = summarize(b.CPU).Median
		medians[b.Name] = b.Stat.Median
	}
	for _, b := range benches {
		if f, ok := medians[b.Floor]; ok && f > 0 {
			b.Stat.Ratio = b.Stat.Median / f
		}
	}
	report(benches, fx, runs, withKeyring, keyringMode)
	if jsonOut != "" {
		doc := struct {
			Date     time.Time         `json:"date"`
			Machine  string            `json:"machine"`
			Versions map[string]string `json:"versions"`
			Runs     int               `json:"runs"`
			Benches  []*bench          `json:"benches"`
		}{time.Now().UTC(), machine(), fx.versions, runs, benches}
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// fixture holds the temporary configuration every helper reads.
type fixture struct {
	tmp, ghlogin, token string
	env                 []string
	keyring, kernel     bool
	cacheSocket         string
	versions            map[string]string
}

// randomToken returns a gho_ token of GitHub's shape. It is never sent anywhere.
func randomToken() (string, error) {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := []byte("gho_")
	for i := 0; i < 36; i++ {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		b = append(b, alphabet[n.Int64()])
	}
	return string(b), nil
}

func setup(tmp, ghlogin string, withKeyring bool) (*fixture, error) {
	tok, err := randomToken()
	if err != nil {
		return nil, err
	}
	fx := &fixture{tmp: tmp, ghlogin: ghlogin, token: tok, keyring: withKeyring, versions: map[string]string{}}
	home := filepath.Join(tmp, "home")
	bindir := filepath.Join(tmp, "bin")
	for _, d := range []string{home, bindir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	// ghlogin on PATH under its own name, as setup-git configures it.
	if err := os.Symlink(ghlogin, filepath.Join(bindir, "ghlogin")); err != nil {
		return nil, err
	}
	if lean != "" {
		// git runs it for the helper "ghlogin", from PATH.
		if err := os.Symlink(lean, filepath.Join(bindir, "git-credential-ghlogin")); err != nil {
			return nil, err
		}
	}
	fx.env = []string{
		"PATH=" + bindir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + home,
		"LANG=C",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + filepath.Join(tmp, "gitconfig-empty"),
		"GIT_TERMINAL_PROMPT=0",
		"GH_CONFIG_DIR=" + filepath.Join(tmp, "gh"),
		"GH_NO_UPDATE_NOTIFIER=1",
		"GH_PROMPT_DISABLED=1",
		"GHLOGIN_CONFIG_DIR=" + filepath.Join(tmp, "ghlogin-file"),
		"TMPDIR=" + tmp,
	}
	// The Secret Service session, when there is one.
	for _, k := range []string{"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "GNOME_KEYRING_CONTROL"} {
		if v, ok := os.LookupEnv(k); ok {
			fx.env = append(fx.env, k+"="+v)
		}
	}
	for _, p := range []string{"git", "gh", "git-credential-oauth"} {
		if _, err := exec.LookPath(p); err != nil {
			return nil, fmt.Errorf("%s is not installed (%v); install it: apt-get install -y git gh git-credential-oauth", p, err)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "gitconfig-empty"), nil, 0o600); err != nil {
		return nil, err
	}

	// ghlogin: one account per store, saved through the store API as
	// `ghlogin login` saves it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sec := &store.Secret{Token: tok, TokenType: "bearer", Scopes: []string{"repo", "read:org", "gist"}}
	backends := []string{store.BackendFile}
	if withKeyring {
		backends = append(backends, store.BackendKeyring)
	}
	if kst, err := store.Open(store.Options{Dir: filepath.Join(tmp, "probe-kernel")}); err == nil && kst.Probe(ctx, store.BackendKernel) == nil {
		backends = append(backends, store.BackendKernel)
		fx.kernel = true
	}
	for _, be := range backends {
		st, err := store.Open(store.Options{Dir: filepath.Join(tmp, "ghlogin-"+be), Keyring: oskeyring.Keyring{}})
		if err != nil {
			return nil, err
		}
		if err := st.Save(ctx, "github.com", "octocat", be, sec); err != nil {
			return nil, fmt.Errorf("storing the token in the %s store: %w", be, err)
		}
	}

	// git credential-store: its plain-text file.
	credFile := filepath.Join(tmp, "git-credentials")
	if err := os.WriteFile(credFile, []byte("https://octocat:"+tok+"@github.com\n"), 0o600); err != nil {
		return nil, err
	}
	// gh: the token in hosts.yml, as `gh auth login` writes it when no
	// keyring is used (gh 2.23 keeps it there).
	ghDir := filepath.Join(tmp, "gh")
	if err := os.MkdirAll(ghDir, 0o700); err != nil {
		return nil, err
	}
	hostsYML := "github.com:\n    oauth_token: " + tok + "\n    user: octocat\n    git_protocol: https\n"
	if err := os.WriteFile(filepath.Join(ghDir, "hosts.yml"), []byte(hostsYML), 0o600); err != nil {
		return nil, err
	}
	fx.cacheSocket = filepath.Join(tmp, "cache", "socket")

	// Global git configs, one per helper setup, written by each tool's own
	// setup command where it has one.
	cfgs := map[string][][]string{
		"ghlogin-file": {
			{"git", "config", "--global", "--add", "credential.https://github.com.helper", ""},
			{"git", "config", "--global", "--add", "credential.https://github.com.helper", "!ghlogin git-credential"},
		},
		"lean-file": {
			{"git", "config", "--global", "--add", "credential.https://github.com.helper", ""},
			{"git", "config", "--global", "--add", "credential.https://github.com.helper", lean},
		},
		// The name form: git runs "git credential-ghlogin", which finds
		// git-credential-ghlogin on PATH.
		"lean-name": {
			{"git", "config", "--global", "--add", "credential.https://github.com.helper", ""},
			{"git", "config", "--global", "--add", "credential.https://github.com.helper", "ghlogin"},
		},
		"gh":    {{"gh", "auth", "setup-git", "--hostname", "github.com"}},
		"store": {{"git", "config", "--global", "credential.helper", "store --file " + credFile}},
		"store+oauth": {
			{"git", "config", "--global", "--add", "credential.helper", ""},
			{"git", "config", "--global", "--add", "credential.helper", "store --file " + credFile},
			{"git", "config", "--global", "--add", "credential.helper", "oauth"},
		},
		"cache+oauth": {
			{"git", "config", "--global", "--add", "credential.helper", ""},
			{"git", "config", "--global", "--add", "credential.helper", "cache --timeout 7200 --socket " + fx.cacheSocket},
			{"git", "config", "--global", "--add", "credential.helper", "oauth"},
		},
	}
	if withKeyring {
		cfgs["ghlogin-keyring"] = cfgs["ghlogin-file"]
	}
	for name, cmds := range cfgs {
		env := fx.with("GIT_CONFIG_GLOBAL="+fx.gitConfig(name), "GHLOGIN_CONFIG_DIR="+fx.ghloginDir(name))
		for _, argv := range cmds {
			if _, err := fx.exec(env, "", argv...); err != nil {
				return nil, fmt.Errorf("configuring %s: %w", name, err)
			}
		}
	}
	// Prime git credential-cache the way git does after a successful push.
	approve := "protocol=https\nhost=github.com\nusername=octocat\npassword=" + tok + "\n\n"
	env := fx.with("GIT_CONFIG_GLOBAL=" + fx.gitConfig("cache+oauth"))
	if _, err := fx.exec(env, approve, "git", "credential", "approve"); err != nil {
		return nil, fmt.Errorf("priming git credential-cache: %w", err)
	}

	for name, argv := range map[string][]string{
		"ghlogin": {ghlogin, "--version"},
		"git":     {"git", "--version"},
		"gh":      {"gh", "--version"},
	} {
		out, err := fx.exec(fx.env, "", argv...)
		if err == nil {
			fx.versions[name] = strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
		}
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", "git-credential-oauth").Output(); err == nil {
		fx.versions["git-credential-oauth"] = "git-credential-oauth " + string(out)
	}
	return fx, nil
}

func (fx *fixture) gitConfig(name string) string {
	return filepath.Join(fx.tmp, "gitconfig-"+name)
}

func (fx *fixture) ghloginDir(name string) string {
	switch name {
	case "ghlogin-keyring", "keyring":
		return filepath.Join(fx.tmp, "ghlogin-keyring")
	case "kernel":
		return filepath.Join(fx.tmp, "ghlogin-kernel")
	}
	return filepath.Join(fx.tmp, "ghlogin-file")
}

// with returns the common environment with some variables replaced.
func (fx *fixture) with(vars ...string) []string {
	out := make([]string, 0, len(fx.env)+len(vars))
	for _, kv := range fx.env {
		k := kv[:strings.IndexByte(kv, '=')+1]
		if !slices.ContainsFunc(vars, func(v string) bool { return strings.HasPrefix(v, k) }) {
			out = append(out, kv)
		}
	}
	return append(out, vars...)
}

// cleanup stops git's credential-cache daemon, started by the priming.
func (fx *fixture) cleanup() {
	env := fx.with("GIT_CONFIG_GLOBAL=" + fx.gitConfig("cache+oauth"))
	_, _ = fx.exec(env, "", "git", "credential-cache", "--socket", fx.cacheSocket, "exit")
}

func (fx *fixture) exec(env []string, stdin string, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := argv[0]
	if name == "ghlogin" {
		name = fx.ghlogin
	}
	cmd := exec.CommandContext(ctx, name, argv[1:]...)
	cmd.Env = env
	cmd.Dir = fx.tmp
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// floors are what the ratios are taken against: for the helper alone, for
// git credential fill, and for ghlogin token.
var floors = []string{"git credential-store get", "git credential fill → store", "ghlogin version (start-up alone)"}

func (fx *fixture) benches() []*bench {
	want := "password=" + fx.token + "\n"
	storeFile := filepath.Join(fx.tmp, "git-credentials")
	var bs []*bench
	add := func(b *bench) { bs = append(bs, b) }

	add(&bench{Group: "helper", Name: "ghlogin git-credential get (file store)", Argv: []string{fx.ghlogin, "git-credential", "get"},
		Env: []string{"GHLOGIN_CONFIG_DIR=" + fx.ghloginDir("ghlogin-file")}, Want: want})
	if compare != "" {
		add(&bench{Group: "helper", Name: "ghlogin git-credential get (file store, -compare build)", Argv: []string{compare, "git-credential", "get"},
			Env: []string{"GHLOGIN_CONFIG_DIR=" + fx.ghloginDir("ghlogin-file")}, Want: want})
	}
	if fx.keyring {
		add(&bench{Group: "helper", Name: "ghlogin git-credential get (keyring store)", Argv: []string{fx.ghlogin, "git-credential", "get"},
			Env: []string{"GHLOGIN_CONFIG_DIR=" + fx.ghloginDir("ghlogin-keyring")}, Want: want})
	}
	if lean != "" {
		stores := []string{"file"}
		if fx.kernel {
			stores = append(stores, "kernel")
		}
		if fx.keyring {
			stores = append(stores, "keyring")
		}
		for _, st := range stores {
			name := "git-credential-ghlogin get (" + st + " store)"
			if st == "keyring" {
				name += ", handed to ghlogin"
			}
			add(&bench{Group: "helper", Name: name, Argv: []string{lean, "get"},
				Env: []string{"GHLOGIN_CONFIG_DIR=" + fx.ghloginDir(st)}, Want: want})
		}
	}
	for _, v := range leanVariants {
		add(&bench{Group: "helper", Name: "git-credential-ghlogin get (file store, " + v.Label + ")", Argv: []string{v.Path, "get"},
			Env: []string{"GHLOGIN_CONFIG_DIR=" + fx.ghloginDir("file")}, Want: want})
	}
	if gofloor != "" {
		floorFile := filepath.Join(fx.tmp, "gofloor-answer")
		if err := os.WriteFile(floorFile, []byte("username=octocat\n"+want), 0o600); err == nil {
			add(&bench{Group: "helper", Name: "gofloor get (a Go helper that only prints a file)", Argv: []string{gofloor, "get"},
				Env: []string{"GOFLOOR_FILE=" + floorFile}, Want: want})
		}
	}
	add(&bench{Group: "helper", Name: "git credential-store get", Argv: []string{"git", "credential-store", "--file", storeFile, "get"}, Want: want})
	add(&bench{Group: "helper", Name: "git credential-cache get", Argv: []string{"git", "credential-cache", "--socket", fx.cacheSocket, "get"}, Want: want})
	add(&bench{Group: "helper", Name: "gh auth git-credential get", Argv: []string{"gh", "auth", "git-credential", "get"}, Want: want})
	// git-credential-oauth stores nothing: asked for github.com it always
	// starts a browser login, so in its configuration a storage helper
	// listed before it answers and git never runs it. Asked for a host it
	// has no app for, it exits at once: the cost of starting it.
	add(&bench{Group: "helper", Name: "git-credential-oauth get (unknown host: answers nothing)", Argv: []string{"git-credential-oauth", "get"},
		Stdin: "protocol=https\nhost=example.org\n\n"})

	fill := []string{"git", "credential", "fill"}
	add(&bench{Group: "git", Name: "git credential fill → ghlogin (file store)", Argv: fill,
		Env: []string{"GIT_CONFIG_GLOBAL=" + fx.gitConfig("ghlogin-file"), "GHLOGIN_CONFIG_DIR=" + fx.ghloginDir("ghlogin-file")}, Want: want})
	if fx.keyring {
		add(&bench{Group: "git", Name: "git credential fill → ghlogin (keyring store)", Argv: fill,
			Env: []string{"GIT_CONFIG_GLOBAL=" + fx.gitConfig("ghlogin-keyring"), "GHLOGIN_CONFIG_DIR=" + fx.ghloginDir("ghlogin-keyring")}, Want: want})
	}
	if lean != "" {
		add(&bench{Group: "git", Name: "git credential fill → git-credential-ghlogin by path (file store)", Argv: fill,
			Env: []string{"GIT_CONFIG_GLOBAL=" + fx.gitConfig("lean-file"), "GHLOGIN_CONFIG_DIR=" + fx.ghloginDir("ghlogin-file")}, Want: want})
		add(&bench{Group: "git", Name: "git credential fill → git-credential-ghlogin by name, helper = ghlogin (file store)", Argv: fill,
			Env: []string{"GIT_CONFIG_GLOBAL=" + fx.gitConfig("lean-name"), "GHLOGIN_CONFIG_DIR=" + fx.ghloginDir("ghlogin-file")}, Want: want})
	}
	add(&bench{Group: "git", Name: "git credential fill → store", Argv: fill, Env: []string{"GIT_CONFIG_GLOBAL=" + fx.gitConfig("store")}, Want: want})
	add(&bench{Group: "git", Name: "git credential fill → store, oauth", Argv: fill, Env: []string{"GIT_CONFIG_GLOBAL=" + fx.gitConfig("store+oauth")}, Want: want})
	add(&bench{Group: "git", Name: "git credential fill → cache, oauth", Argv: fill, Env: []string{"GIT_CONFIG_GLOBAL=" + fx.gitConfig("cache+oauth")}, Want: want})
	add(&bench{Group: "git", Name: "git credential fill → gh", Argv: fill, Env: []string{"GIT_CONFIG_GLOBAL=" + fx.gitConfig("gh")}, Want: want})

	// ghlogin token, as scripts run it (GH_TOKEN=$(ghlogin token)), beside
	// the start-up of the same binary and gh's own command.
	add(&bench{Group: "token", Name: "ghlogin version (start-up alone)", Argv: []string{fx.ghlogin, "version"}, Want: "ghlogin version "})
	add(&bench{Group: "token", Name: "ghlogin token (file store)", Argv: []string{fx.ghlogin, "token"},
		Env: []string{"GHLOGIN_CONFIG_DIR=" + fx.ghloginDir("ghlogin-file")}, Want: fx.token + "\n"})
	if compare != "" {
		add(&bench{Group: "token", Name: "ghlogin token (file store, -compare build)", Argv: []string{compare, "token"},
			Env: []string{"GHLOGIN_CONFIG_DIR=" + fx.ghloginDir("ghlogin-file")}, Want: fx.token + "\n"})
	}
	add(&bench{Group: "token", Name: "gh auth token", Argv: []string{"gh", "auth", "token"}, Want: fx.token + "\n"})

	if only != nil {
		// Keep the matching commands, and the floor of each group that
		// still has one.
		groups := map[string]bool{}
		for _, b := range bs {
			if only.MatchString(b.Name) {
				groups[b.Group] = true
			}
		}
		bs = slices.DeleteFunc(bs, func(b *bench) bool {
			return !only.MatchString(b.Name) && !(slices.Contains(floors, b.Name) && groups[b.Group])
		})
	}
	for _, b := range bs {
		if b.Stdin == "" && b.Group != "token" {
			b.Stdin = request
		}
		b.Floor = floors[0]
		switch b.Group {
		case "git":
			b.Floor = floors[1]
		case "token":
			b.Floor = floors[2]
		}
		b.Env = fx.with(b.Env...)
	}
	return bs
}

// once runs b and returns its wall-clock time, from start to exit.
func (fx *fixture) once(b *bench) (time.Duration, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.Argv[0], b.Argv[1:]...)
	cmd.Env = b.Env
	cmd.Dir = fx.tmp
	cmd.Stdin = strings.NewReader(b.Stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w: %s", b.Name, err, strings.TrimSpace(errb.String()))
	}
	got := out.String()
	if b.Want == "" && strings.Contains(got, "password=") || b.Want != "" && !strings.Contains(got, b.Want) {
		return 0, 0, fmt.Errorf("%s answered %d bytes without the expected credential; stderr: %s", b.Name, len(got), strings.TrimSpace(errb.String()))
	}
	return d, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func summarize(ds []time.Duration) stats {
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return stats{N: n, Median: ms(med), Mean: ms(sum / time.Duration(n)), Min: ms(s[0]), P90: ms(s[(n*9)/10])}
}

func machine() string {
	cpu := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(l[strings.IndexByte(l, ':')+1:])
				break
			}
		}
	}
	return fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpu)
}

func report(bs []*bench, fx *fixture, runs int, withKeyring bool, mode string) {
	fmt.Printf("git credential helpers: `get` with a stored token for github.com (%d interleaved runs each)\n", runs)
	fmt.Printf("machine: %s\n", machine())
	for _, k := range []string{"ghlogin", "git", "gh", "git-credential-oauth"} {
		if v := fx.versions[k]; v != "" {
			fmt.Printf("  %s\n", v)
		}
	}
	if !withKeyring {
		fmt.Printf("keyring store: not measured (-keyring=%s and no private Secret Service; run under .ci/with-keyring)\n", mode)
	}
	for _, g := range []struct{ group, title string }{
		{"helper", "The helper alone, as git runs it (ratio: to git credential-store get)"},
		{"git", "What git sees: git credential fill with the helper configured (ratio: to credential.helper=store)"},
		{"token", "ghlogin token as scripts run it (ratio: to the same binary's start-up, ghlogin version)"},
	} {
		if !slices.ContainsFunc(bs, func(b *bench) bool { return b.Group == g.group }) {
			continue // left out by -only
		}
		fmt.Printf("\n%s\n\n", g.title)
		w := tabwriter.NewWriter(os.Stdout, 0, 0, 1, ' ', 0)
		fmt.Fprintln(w, "| command\t median ms\t ratio\t mean ms\t min ms\t p90 ms\t CPU ms\t|")
		fmt.Fprintln(w, "|---\t---:\t---:\t---:\t---:\t---:\t---:\t|")
		for _, b := range bs {
			if b.Group != g.group {
				continue
			}
			fmt.Fprintf(w, "| %s\t %.2f\t %.2fx\t %.2f\t %.2f\t %.2f\t %.2f\t|\n", b.Name, b.Stat.Median, b.Stat.Ratio, b.Stat.Mean, b.Stat.Min, b.Stat.P90, b.Stat.CPU)
		}
		w.Flush()
	}
}

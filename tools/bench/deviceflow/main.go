// Command deviceflow benchmarks device-flow logins against the built-in
// GitHub emulator, on loopback only: ghlogin, and side by side the GitHub
// CLI (gh) when it is installed and can be pointed at the emulator.
//
// For each client it runs N complete logins (the emulator approves each code
// at its K-th poll, so every login polls several times) and reports, from
// the emulator's server-side record of every poll:
//
//   - polls sent before the interval had passed (must be 0);
//   - how far past the interval consecutive polls came, as a percentage of
//     the interval (median, p90, max);
//
// and, from the client's own output:
//
//   - the time from process start to the user code on screen: in plain mode
//     the stderr line holding the code, with --json the code event on stdout.
//
// Usage, from the repository root:
//
//	go run ./tools/bench/deviceflow [-n 10] [-interval 1s] [-approve-after 4] [-gh gh|off]
//
// gh treats github.localhost as a development host served over plain http
// on port 80, so measuring gh needs root: the benchmark listens on
// 127.0.0.1:80 and, if needed, adds "127.0.0.1 github.localhost
// api.github.localhost" to /etc/hosts for the run (it says so, and removes
// that line when it ends). Without root, or with -gh off, it measures
// ghlogin alone.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
)

// options are the command's flags.
type options struct {
	n            int
	interval     time.Duration
	approveAfter int
	ghlogin      string
	gh           string
	timeout      time.Duration
	verbose      bool
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 10, "logins per client and mode")
	flag.DurationVar(&o.interval, "interval", time.Second, "polling interval the emulator announces (whole seconds)")
	flag.IntVar(&o.approveAfter, "approve-after", 4, "the emulator approves each code at this poll (so each login polls this many times)")
	flag.StringVar(&o.ghlogin, "ghlogin", "", "ghlogin binary to measure (default: build the repository's)")
	flag.StringVar(&o.gh, "gh", "gh", `GitHub CLI binary to compare with, or "off"`)
	flag.DurationVar(&o.timeout, "timeout", 270*time.Second, "bound on the whole run")
	flag.BoolVar(&o.verbose, "v", false, "print each login as it finishes")
	flag.Parse()
	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "deviceflow:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "deviceflow:", err)
		os.Exit(1)
	}
}

func (o options) check() error {
	switch {
	case o.n < 1:
		return errors.New("-n must be at least 1")
	case o.interval < time.Second || o.interval%time.Second != 0:
		return errors.New("-interval must be a whole number of seconds (the protocol carries seconds), at least 1s")
	case o.approveAfter < 2:
		return errors.New("-approve-after must be at least 2, so that there are consecutive polls to measure")
	}
	return nil
}

// result is one client's measurements.
type result struct {
	name    string
	skipped string // why the client was not measured, if it was not
	plain   durations
	json    durations
	jsonNA  bool // the client has no JSON output
	done    int  // logins that completed
	tried   int
	polls   pollFigures
	failed  []string
}

func run(ctx context.Context, o options, out, log io.Writer) error {
	tmp, err := os.MkdirTemp("", "ghlogin-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	bin := o.ghlogin
	if bin == "" {
		fmt.Fprintln(log, "building ghlogin…")
		if bin, err = buildGhlogin(ctx, tmp); err != nil {
			return err
		}
	}
	cfg := emulator.Config{Interval: o.interval, AutoApproveAfter: o.approveAfter}
	perLogin := o.interval*time.Duration(o.approveAfter+2) + 30*time.Second

	gl := benchGhlogin(ctx, o, bin, tmp, cfg, perLogin, log)
	results := []*result{gl}
	if o.gh != "off" {
		results = append(results, benchGH(ctx, o, tmp, cfg, perLogin, log))
	}
	if ctx.Err() != nil {
		fmt.Fprintf(log, "warning: the run was cut short (%v); the figures cover what finished\n", ctx.Err())
	}
	printTable(out, o, results)
	for _, r := range results {
		for _, f := range r.failed {
			fmt.Fprintf(log, "%s: %s\n", r.name, f)
		}
	}
	for _, r := range results {
		if r.skipped == "" && (r.done < r.tried || r.polls.Early > 0) && r.name == "ghlogin" {
			return fmt.Errorf("ghlogin: %d of %d logins completed, %d early polls", r.done, r.tried, r.polls.Early)
		}
	}
	return nil
}

// buildGhlogin builds the repository's ghlogin into dir.
func buildGhlogin(ctx context.Context, dir string) (string, error) {
	root, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("finding the module root (run from inside the repository): %w", err)
	}
	bin := filepath.Join(dir, "ghlogin")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = strings.TrimSpace(string(root))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building ghlogin: %w", err)
	}
	return bin, nil
}

// warm runs a binary once, unmeasured, so that the first measured start
// does not pay for reading it from disk.
func warm(ctx context.Context, bin string, env []string, args ...string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	_ = cmd.Run()
}

func benchGhlogin(ctx context.Context, o options, bin, tmp string, cfg emulator.Config, perLogin time.Duration, log io.Writer) *result {
	r := &result{name: "ghlogin"}
	srv, err := emulator.Start(ctx, "127.0.0.1:0", cfg)
	if err != nil {
		r.skipped = err.Error()
		return r
	}
	defer srv.Close()
	warm(ctx, bin, cleanEnv(tmp), "--help")
	var codes []string
	for _, mode := range []watch{watchStderr, watchJSON} {
		for i := 0; i < o.n && ctx.Err() == nil; i++ {
			home, err := os.MkdirTemp(tmp, "home-")
			if err != nil {
				r.failed = append(r.failed, err.Error())
				continue
			}
			env := cleanEnv(home,
				"GHLOGIN_CONFIG_DIR="+home+"/config",
				"GHLOGIN_STORE=file",
				"GHLOGIN_BROWSER=none",
			)
			args := []string{"login", "--host", srv.URL(), "--client-id", emulator.DefaultClientID}
			success := "Logged in to"
			if mode == watchJSON {
				args = append(args, "--json")
				success = `"event":"success"`
			}
			lctx, cancel := context.WithTimeout(ctx, perLogin)
			l := runLogin(lctx, bin, args, env, mode, success)
			cancel()
			r.record(l, mode, &codes, log, o.verbose)
		}
	}
	r.polls = analyse(srv.Stats(), cfg.Interval, codes)
	return r
}

func benchGH(ctx context.Context, o options, tmp string, cfg emulator.Config, perLogin time.Duration, log io.Writer) *result {
	r := &result{name: "gh", jsonNA: true}
	bin, err := exec.LookPath(o.gh)
	if err != nil {
		r.skipped = fmt.Sprintf("%s not found (%v)", o.gh, err)
		return r
	}
	if v, err := ghVersion(ctx, bin); err == nil {
		// "gh version 2.23.0 (2023-02-27 Debian 2.23.0+dfsg1-1)" → "gh 2.23.0"
		if f := strings.Fields(strings.TrimPrefix(v, "gh version ")); len(f) > 0 {
			r.name = "gh " + f[0]
		}
	}
	undo, added, err := ensureHosts(hostsFile)
	if err != nil {
		r.skipped = err.Error()
		return r
	}
	if added {
		fmt.Fprintf(log, "note: added \"127.0.0.1 %s %s\" to %s for this run (gh reaches its development host there); it is removed at exit\n", ghHost, ghAPIHost, hostsFile)
		defer func() {
			if err := undo(); err != nil {
				fmt.Fprintf(log, "warning: could not remove the benchmark's line from %s: %v\n", hostsFile, err)
			}
		}()
	}
	srv, err := startGHServer(ctx, cfg)
	if err != nil {
		r.skipped = err.Error()
		return r
	}
	defer srv.Close()
	warm(ctx, bin, ghEnv(tmp), "--version")
	var codes []string
	for i := 0; i < o.n && ctx.Err() == nil; i++ {
		home, err := os.MkdirTemp(tmp, "gh-home-")
		if err != nil {
			r.failed = append(r.failed, err.Error())
			continue
		}
		lctx, cancel := context.WithTimeout(ctx, perLogin)
		l := runLogin(lctx, bin, ghLoginArgs, ghEnv(home), watchStderr, "Logged in as "+emulator.DefaultUsers()[0])
		cancel()
		r.record(l, watchStderr, &codes, log, o.verbose)
	}
	r.polls = analyse(srv.emu.Stats(), cfg.Interval, codes)
	return r
}

// record adds one login's outcome.
func (r *result) record(l login, mode watch, codes *[]string, log io.Writer, verbose bool) {
	r.tried++
	if l.UserCode != "" {
		*codes = append(*codes, l.UserCode)
		if mode == watchJSON {
			r.json = append(r.json, l.TimeToCode)
		} else {
			r.plain = append(r.plain, l.TimeToCode)
		}
	}
	if l.Err != nil {
		r.failed = append(r.failed, fmt.Sprintf("login %d: %v", r.tried, l.Err))
	} else {
		r.done++
	}
	if verbose {
		status := "ok"
		if l.Err != nil {
			status = "FAILED"
		}
		fmt.Fprintf(log, "%s login %d: code after %v, done after %v, %s\n", r.name, r.tried, l.TimeToCode.Round(time.Millisecond), l.Elapsed.Round(time.Millisecond), status)
	}
}

func printTable(out io.Writer, o options, results []*result) {
	fmt.Fprintf(out, "\nDevice flow on loopback: %d logins per client and mode, interval %v, approved at poll %d\n\n", o.n, o.interval, o.approveAfter)
	tw := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	row := func(label string, f func(r *result) string) {
		cells := []string{label}
		for _, r := range results {
			if r.skipped != "" {
				cells = append(cells, "—")
				continue
			}
			cells = append(cells, f(r))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	head := []string{""}
	for _, r := range results {
		head = append(head, r.name)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	row("logins completed", func(r *result) string { return fmt.Sprintf("%d/%d", r.done, r.tried) })
	row("polls received", func(r *result) string { return fmt.Sprint(r.polls.Polls) })
	row("polls earlier than the interval", func(r *result) string { return fmt.Sprint(r.polls.Early) })
	row("overshoot between polls, median", func(r *result) string { return pct(percentile(r.polls.Overshoots, 50), o.interval) })
	row("overshoot between polls, p90", func(r *result) string { return pct(percentile(r.polls.Overshoots, 90), o.interval) })
	row("overshoot between polls, max", func(r *result) string { return pct(percentile(r.polls.Overshoots, 100), o.interval) })
	row("first poll after the code, median", func(r *result) string { return pct(percentile(r.polls.FirstWaits, 50), o.interval) })
	row("time to code (plain, stderr), median", func(r *result) string { return ms(percentile(r.plain.seconds(), 50)) })
	row("time to code (plain, stderr), p90", func(r *result) string { return ms(percentile(r.plain.seconds(), 90)) })
	row("time to code (--json, stdout), median", func(r *result) string {
		if r.jsonNA {
			return "n/a"
		}
		return ms(percentile(r.json.seconds(), 50))
	})
	row("time to code (--json, stdout), p90", func(r *result) string {
		if r.jsonNA {
			return "n/a"
		}
		return ms(percentile(r.json.seconds(), 90))
	})
	tw.Flush()
	fmt.Fprintln(out, "\nOvershoot: (gap between consecutive polls − interval) / interval, from the emulator's receive times;")
	fmt.Fprintln(out, "first poll: (first poll − code issued − interval) / interval. Time to code: process start to the line read.")
	for _, r := range results {
		if r.skipped != "" {
			fmt.Fprintf(out, "%s not measured: %s\n", r.name, r.skipped)
		}
		if r.jsonNA && r.skipped == "" {
			fmt.Fprintf(out, "%s has no machine-readable login output, so it has no --json figure.\n", r.name)
		}
		if r.polls.Rebuilt != r.polls.Early {
			fmt.Fprintf(out, "%s: the timestamps show %d early polls, the emulator counted %d\n", r.name, r.polls.Rebuilt, r.polls.Early)
		}
	}
}

// pct formats a fraction of the interval as a percentage with the absolute time.
func pct(frac float64, interval time.Duration) string {
	if math.IsNaN(frac) {
		return "—"
	}
	d := time.Duration(frac * float64(interval))
	return fmt.Sprintf("%.1f%% (%d ms)", frac*100, d.Milliseconds())
}

func ms(sec float64) string {
	if math.IsNaN(sec) {
		return "—"
	}
	return fmt.Sprintf("%.1f ms", sec*1000)
}

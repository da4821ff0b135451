package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"
)

// userCodeRE matches a GitHub user code such as WDJB-MJHT.
var userCodeRE = regexp.MustCompile(`\b[A-Z0-9]{4}-[A-Z0-9]{4}\b`)

// watch says where the user code shows up.
type watch int

const (
	watchStderr watch = iota // a plain line on stderr that holds the code
	watchJSON                // a {"event":"code",…} line on stdout
)

// login is one measured login.
type login struct {
	UserCode   string
	TimeToCode time.Duration // process start → code line read from the pipe
	Elapsed    time.Duration // process start → exit
	Err        error
}

// runLogin starts bin with args and env, and times how long the user code
// takes to appear where w says. It waits for the process to exit, at most
// until ctx ends (the process is then killed). The login counts as done
// when the process exits 0 and its output holds success. Output is kept
// only to check and explain; tokens never appear in it (neither client
// prints one).
func runLogin(ctx context.Context, bin string, args, env []string, w watch, success string) login {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader("") // no terminal, nobody to press Enter
	cmd.WaitDelay = 2 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return login{Err: err}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return login{Err: err}
	}
	var (
		mu     sync.Mutex
		res    login
		logBuf strings.Builder
		wg     sync.WaitGroup
	)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return login{Err: err}
	}
	read := func(r io.Reader, isWatched bool, match func(string) string) {
		defer wg.Done()
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			now := time.Now()
			if line != "" {
				mu.Lock()
				if isWatched && res.UserCode == "" {
					if code := match(line); code != "" {
						res.UserCode, res.TimeToCode = code, now.Sub(start)
					}
				}
				if logBuf.Len() < 64<<10 {
					logBuf.WriteString(line)
				}
				mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}
	wg.Add(2)
	go read(stderr, w == watchStderr, plainCode)
	go read(stdout, w == watchJSON, jsonCode)
	wg.Wait()
	err = cmd.Wait()
	res.Elapsed = time.Since(start)
	switch {
	case ctx.Err() != nil:
		res.Err = fmt.Errorf("did not finish in time (%w); output:\n%s", ctx.Err(), indent(logBuf.String()))
	case err != nil:
		res.Err = fmt.Errorf("%w; output:\n%s", err, indent(logBuf.String()))
	case res.UserCode == "":
		res.Err = errors.New("no user code seen; output:\n" + indent(logBuf.String()))
	case !strings.Contains(logBuf.String(), success):
		res.Err = fmt.Errorf("exited 0 without %q; output:\n%s", success, indent(logBuf.String()))
	}
	return res
}

// plainCode returns the user code in a line of plain output, or "".
func plainCode(line string) string { return userCodeRE.FindString(line) }

// jsonCode returns the user code of a {"event":"code"} line, or "".
func jsonCode(line string) string {
	var e struct {
		Event    string `json:"event"`
		UserCode string `json:"user_code"`
	}
	if json.Unmarshal([]byte(line), &e) != nil || e.Event != "code" {
		return ""
	}
	return e.UserCode
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "    (nothing)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// cleanEnv is a minimal environment for a client under test: its own home,
// no proxy (everything stays on loopback), no colour, no terminal.
func cleanEnv(home string, extra ...string) []string {
	env := []string{
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"TMPDIR=" + os.TempDir(),
		"XDG_CONFIG_HOME=" + home + "/.config",
		"XDG_STATE_HOME=" + home + "/.local/state",
		"XDG_DATA_HOME=" + home + "/.local/share",
		"XDG_CACHE_HOME=" + home + "/.cache",
		"NO_PROXY=*",
		"no_proxy=*",
		"NO_COLOR=1",
		"TERM=dumb",
		"LANG=C.UTF-8",
	}
	return append(env, extra...)
}

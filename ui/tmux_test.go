package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/deviceflow"
)

// testProgramEnv makes the test binary run the TUI instead of the tests:
// tmux runs it that way to show the login screen on a real terminal.
const testProgramEnv = "GHLOGIN_UI_TEST_PROGRAM"

func TestMain(m *testing.M) {
	switch os.Getenv(testProgramEnv) {
	case "device":
		os.Exit(runTestProgram())
	case "prompt":
		os.Exit(runTestPrompt())
	case "paste":
		os.Exit(runTestPasteProgram())
	}
	os.Exit(m.Run())
}

// The demo's banner and the keyring question, as the command layer prints
// them, for TestPromptWrapsInTmux.
const (
	testBanner   = "ghlogin demo: a GitHub emulator is running at http://127.0.0.1:37821 (nothing leaves this machine). Press Enter to open the emulator's page, enter the code and approve it as any user."
	testQuestion = "The OS keyring is not available (no keyring service on this machine).\nKeep the token in /tmp/ghlogin-1234/credentials.json instead (a file readable only by you)?"
)

// runTestPrompt prints the banner and asks the question on this process's
// terminal, then says what was answered.
func runTestPrompt() int {
	if err := PrintWrapped(os.Stderr, testBanner); err != nil {
		return 1
	}
	ok, err := Confirm(context.Background(), os.Stdin, os.Stderr, testQuestion)
	if err != nil {
		return 1
	}
	fmt.Fprintf(os.Stderr, "answer=%v\n", ok)
	return 0
}

// testProgramOptions are the options of the program tmux runs, and of the
// model the test lays out to know what the terminal should show.
func testProgramOptions() Options {
	return Options{Mode: TUI, Host: "github.com", Clock: newFakeNow(), NoColor: true, NoHyperlink: true,
		Opener: &recorder{}, Clipboard: func(string) error { return nil }}
}

// runTestProgram shows the device screen on this process's terminal until
// q is pressed.
func runTestProgram() int {
	opts := testProgramOptions()
	_, err := Run(context.Background(), opts, func(ctx context.Context, emit func(any)) (*Result, error) {
		emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(opts.Clock.Now(), false)})
		<-ctx.Done()
		return nil, ctx.Err()
	})
	if errors.Is(err, context.Canceled) {
		return 0
	}
	fmt.Fprintln(os.Stderr, err)
	return 1
}

// spinnerFrame matches the spinner's frames (braille patterns), which move.
var spinnerFrame = regexp.MustCompile(`[\x{2800}-\x{28FF}]`)

// expectedScreen is what a w×h terminal shows of the test program: its view
// at that size from the top, then blank lines.
func expectedScreen(t *testing.T, w, h int) []string {
	opts := testProgramOptions().withDefaults()
	m := newModel(opts, func() {})
	m.resize(w, h)
	dispatch(m, Code{UserCode: "WDJB-MJHT", VerificationURI: "https://github.com/login/device",
		ExpiresAt: opts.Clock.Now().Add(15 * time.Minute), Interval: 5 * time.Second}, nil)
	lines := strings.Split(m.View(), "\n")
	for len(lines) < h {
		lines = append(lines, "")
	}
	return normalizeScreen(lines)
}

func normalizeScreen(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = spinnerFrame.ReplaceAllString(strings.TrimRight(l, " "), "*")
	}
	return out
}

// tmuxSession is a tmux server of the test's own running the test binary
// as a program (testProgramEnv) in a w×h window.
type tmuxSession struct {
	t    *testing.T
	tmux string
	sock string
}

func startTmux(t *testing.T, program string, w, h int) *tmuxSession {
	t.Helper()
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is not installed (apt-get install tmux)")
		}
		t.Skip("tmux is not installed (apt-get install tmux)")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ts := &tmuxSession{t: t, tmux: tmux, sock: filepath.Join(t.TempDir(), "tmux.sock")}
	start := exec.Command(tmux, "-S", ts.sock, "-f", "/dev/null", "new-session", "-d", "-s", "ui", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h),
		fmt.Sprintf("env %s=%s '%s' -test.run='^$'; sleep 600", testProgramEnv, program, self))
	start.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "TERM=xterm-256color"}
	if out, err := start.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(tmux, "-S", ts.sock, "kill-server").Run() })
	return ts
}

func (ts *tmuxSession) run(args ...string) string {
	ts.t.Helper()
	out, err := exec.Command(ts.tmux, append([]string{"-S", ts.sock}, args...)...).CombinedOutput()
	if err != nil {
		ts.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// screen is the window's lines as the terminal shows them (not joined).
func (ts *tmuxSession) screen() []string {
	out := strings.TrimSuffix(ts.run("capture-pane", "-p", "-t", "ui"), "\n")
	return normalizeScreen(strings.Split(out, "\n"))
}

// waitScreen waits until cond holds for the screen, and returns it.
func (ts *tmuxSession) waitScreen(what string, cond func([]string) bool) []string {
	ts.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		sc := ts.screen()
		if cond(sc) {
			return sc
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("the terminal does not show %s; it shows:\n%s", what, strings.Join(sc, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPromptWrapsInTmux prints the demo's banner and the keyring question
// in a 40-column terminal: words (the path, the URL) are never cut, by
// ghlogin or by the terminal folding a line, since the text breaks at
// spaces only and before the edge.
func TestPromptWrapsInTmux(t *testing.T) {
	ts := startTmux(t, "prompt", 40, 20)
	sc := ts.waitScreen("the question", func(sc []string) bool { return strings.Contains(strings.Join(sc, "\n"), "[y/N]") })
	var words []string
	for _, l := range sc {
		words = append(words, strings.Fields(l)...)
	}
	want := strings.Fields(testBanner + " " + testQuestion + " [y/N]")
	if strings.Join(words, " ") != strings.Join(want, " ") {
		t.Errorf("the words on screen are not the text's words (one was cut):\n%s", strings.Join(sc, "\n"))
	}
	for _, l := range []string{"Keep the token in", "/tmp/ghlogin-1234/credentials.json", "instead (a file readable only by you)?"} {
		found := false
		for _, s := range sc {
			found = found || s == l
		}
		if !found {
			t.Errorf("no line %q in:\n%s", l, strings.Join(sc, "\n"))
		}
	}
	ts.run("send-keys", "-t", "ui", "y", "Enter")
	ts.waitScreen("the answer", func(sc []string) bool { return strings.Contains(strings.Join(sc, "\n"), "answer=true") })
}

// TestResizeInTmux runs the TUI in tmux, a terminal that folds its lines
// when the window narrows, and resizes the window: 80×24, 40×12, 120×40,
// then 80×24 again. After each resize the terminal must show exactly the
// view for the new size: no fragment of an earlier layout and no second
// header.
func TestResizeInTmux(t *testing.T) {
	ts := startTmux(t, "device", 80, 24)
	for i, size := range []struct{ w, h int }{{80, 24}, {40, 12}, {120, 40}, {80, 24}} {
		if i > 0 {
			ts.run("resize-window", "-t", "ui", "-x", fmt.Sprint(size.w), "-y", fmt.Sprint(size.h))
		}
		want := strings.Join(expectedScreen(t, size.w, size.h), "\n")
		got := ts.waitScreen(fmt.Sprintf("the %d×%d view:\n%s\n", size.w, size.h, want), func(sc []string) bool {
			return strings.Join(sc, "\n") == want
		})
		if n := strings.Count(strings.Join(got, "\n"), "Logging in to"); n != 1 {
			t.Errorf("%d×%d: the header is on screen %d times", size.w, size.h, n)
		}
	}
	ts.run("send-keys", "-t", "ui", "q")
}

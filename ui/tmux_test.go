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
	if os.Getenv(testProgramEnv) == "device" {
		os.Exit(runTestProgram())
	}
	os.Exit(m.Run())
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

// TestResizeInTmux runs the TUI in tmux, a terminal that folds its lines
// when the window narrows, and resizes the window: 80×24, 40×12, 120×40,
// then 80×24 again. After each resize the terminal must show exactly the
// view for the new size: no fragment of an earlier layout and no second
// header.
func TestResizeInTmux(t *testing.T) {
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
	sock := filepath.Join(t.TempDir(), "tmux.sock")
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(tmux, append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	start := exec.Command(tmux, "-S", sock, "-f", "/dev/null", "new-session", "-d", "-s", "ui", "-x", "80", "-y", "24",
		fmt.Sprintf("env %s=device '%s' -test.run='^$'", testProgramEnv, self))
	start.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "TERM=xterm-256color"}
	if out, err := start.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(tmux, "-S", sock, "kill-server").Run() })

	screen := func() []string {
		out := strings.TrimSuffix(run("capture-pane", "-p", "-t", "ui"), "\n")
		return normalizeScreen(strings.Split(out, "\n"))
	}
	for i, size := range []struct{ w, h int }{{80, 24}, {40, 12}, {120, 40}, {80, 24}} {
		if i > 0 {
			run("resize-window", "-t", "ui", "-x", fmt.Sprint(size.w), "-y", fmt.Sprint(size.h))
		}
		want := expectedScreen(t, size.w, size.h)
		var got []string
		deadline := time.Now().Add(10 * time.Second)
		for {
			got = screen()
			if strings.Join(got, "\n") == strings.Join(want, "\n") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d×%d: the terminal shows\n%s\nwant\n%s", size.w, size.h, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			time.Sleep(50 * time.Millisecond)
		}
		if n := strings.Count(strings.Join(got, "\n"), "Logging in to"); n != 1 {
			t.Errorf("%d×%d: the header is on screen %d times", size.w, size.h, n)
		}
	}
	run("send-keys", "-t", "ui", "q")
}

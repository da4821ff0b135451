package ui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func TestChoose(t *testing.T) {
	opts := []string{"kernel keyring", "file", "cancel"}
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"1\n", 0}, {"2\r\n", 1}, {"3\n", -1}, {"\n2\n", 1}, {"x\n0\n4\n1\n", 0}, {"", -1}, {"9\n", -1},
	} {
		var out bytes.Buffer
		got, err := Choose(context.Background(), strings.NewReader(tc.in), &out, "Where?", opts, true)
		if err != nil || got != tc.want {
			t.Errorf("Choose(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
		if !strings.HasPrefix(out.String(), "Where?\n  1) kernel keyring\n  2) file\n  3) cancel\nChoose 1-3: ") {
			t.Errorf("Choose(%q) printed %q", tc.in, out.String())
		}
	}
	// Only the answer's line is read.
	r := strings.NewReader("2\nprotocol=https\n")
	if got, _ := Choose(context.Background(), r, io.Discard, "?", opts, true); got != 1 {
		t.Fatalf("got %d", got)
	}
	if rest, _ := io.ReadAll(r); string(rest) != "protocol=https\n" {
		t.Errorf("Choose consumed more than its line; left %q", rest)
	}
}

// Every prompt ends as soon as its context does (Ctrl-C cancels the
// command's context), whatever the input does meanwhile: a reader that
// never answers, or a terminal or pipe (an *os.File).
func TestPromptsEndWithTheirContext(t *testing.T) {
	prompts := map[string]func(ctx context.Context, in io.Reader, out io.Writer) error{
		"Choose": func(ctx context.Context, in io.Reader, out io.Writer) error {
			_, err := Choose(ctx, in, out, "Where?", []string{"file", "cancel"}, true)
			return err
		},
		"Confirm": func(ctx context.Context, in io.Reader, out io.Writer) error {
			_, err := Confirm(ctx, in, out, "Sure?")
			return err
		},
		// A token or secret piped in (login --with-token, config set
		// client_secret -).
		"ReadLine": func(ctx context.Context, in io.Reader, out io.Writer) error {
			_, err := ReadLine(ctx, in, 4096)
			io.WriteString(out, "\n")
			return err
		},
	}
	for name, ask := range prompts {
		for _, kind := range []string{"io.Pipe", "os.Pipe"} {
			var in io.Reader
			var feed io.Writer
			switch kind {
			case "io.Pipe":
				pr, pw := io.Pipe()
				t.Cleanup(func() { pw.Close() })
				in, feed = pr, pw
			case "os.Pipe":
				pr, pw, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { pr.Close(); pw.Close() })
				in, feed = pr, pw
			}
			ctx, cancel := context.WithCancel(context.Background())
			var out bytes.Buffer
			done := make(chan error, 1)
			go func() { done <- ask(ctx, in, &out) }()
			time.AfterFunc(20*time.Millisecond, cancel)
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("%s on %s: err = %v, want context.Canceled", name, kind, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s on %s: still waiting 5 s after its context ended", name, kind)
			}
			if !strings.HasSuffix(out.String(), "\n") {
				t.Errorf("%s on %s: the prompt's line was not ended: %q", name, kind, out.String())
			}
			if kind == "os.Pipe" {
				// The interrupted read took nothing: what comes next is
				// there for the next reader.
				go func() { _, _ = io.WriteString(feed, "later\n") }()
				line, _, err := readLine(in)
				if err != nil || line != "later" {
					t.Errorf("%s on %s: after cancelling, the next read got %q, %v", name, kind, line, err)
				}
			}
		}
	}
}

func TestReadLine(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		max      int
	}{
		{"gho_abc\nrest", "gho_abc", 100}, {"gho_abc\r\n", "gho_abc", 100}, {"no newline", "no newline", 100},
		{"", "", 100}, {"0123456789", "01234", 5},
	} {
		r := strings.NewReader(tc.in)
		got, err := ReadLine(context.Background(), r, tc.max)
		if err != nil || got != tc.want {
			t.Errorf("ReadLine(%q, %d) = %q, %v; want %q", tc.in, tc.max, got, err, tc.want)
		}
	}
}

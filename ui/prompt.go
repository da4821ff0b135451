package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/muesli/cancelreader"
	"golang.org/x/term"
)

// The prompts here read from a terminal in its ordinary line mode, where
// Ctrl-C is a SIGINT that cancels the command's context: each read returns
// ctx.Err() as soon as ctx ends, the terminal as it was, so a person can
// always stop ghlogin at a question (exit 130).

// Confirm asks a yes/no question on a terminal and reads one line of answer;
// only "y" or "yes" (any case) is yes. End of input means no; ctx ending
// first returns ctx.Err(). It reads byte by byte so nothing after the
// answer's line is consumed. The question is word-wrapped to out's width
// when out is a terminal.
func Confirm(ctx context.Context, in io.Reader, out io.Writer, question string) (bool, error) {
	return ConfirmWidth(ctx, in, out, question, TerminalWidth(out))
}

// ConfirmWidth is Confirm with the question word-wrapped to width columns
// (0: not wrapped), for callers that know the terminal's width.
func ConfirmWidth(ctx context.Context, in io.Reader, out io.Writer, question string, width int) (bool, error) {
	if in == nil {
		return false, errors.New("cannot ask for confirmation: no input")
	}
	if out != nil {
		// The answer is typed after "[y/N] ", so that stays on the
		// question's last line.
		q := Wrap(sanitizeLines(question)+" [y/N]", width)
		if _, err := fmt.Fprint(out, q+" "); err != nil {
			return false, err
		}
	}
	line, eof, err := readLineContext(ctx, in)
	if err != nil {
		endLine(out)
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, fmt.Errorf("reading the answer: %w", err)
	}
	if eof {
		endLine(out)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// maxChooseTries bounds how often Choose asks again after an answer that is
// not one of the numbers.
const maxChooseTries = 5

// Choose asks question on a terminal with numbered options and reads one
// line of answer: the option's number. It returns the option's index, or
// -1 when the person chose the last option while cancel is set, or input
// ended; ctx ending first (Ctrl-C) returns ctx.Err(). An answer that is
// not a number of the list (an empty line included: nothing is chosen by
// default) asks again, up to 5 times. It reads byte by byte so nothing
// after the answer's line is consumed. Each option is word-wrapped to
// out's width when out is a terminal, and indented under its number.
func Choose(ctx context.Context, in io.Reader, out io.Writer, question string, options []string, cancel bool) (int, error) {
	if in == nil {
		return -1, errors.New("cannot ask: no input")
	}
	if len(options) == 0 {
		return -1, errors.New("cannot ask: no options")
	}
	width := TerminalWidth(out)
	var b strings.Builder
	b.WriteString(Wrap(sanitizeLines(question), width) + "\n")
	for i, o := range options {
		num := fmt.Sprintf("  %d) ", i+1)
		pad := strings.Repeat(" ", len(num))
		w := 0
		if width > 0 {
			w = max(width-len(num), 20)
		}
		lines := strings.Split(Wrap(sanitizeLines(o), w), "\n")
		for j, l := range lines {
			if j == 0 {
				b.WriteString(num + l + "\n")
			} else {
				b.WriteString(pad + l + "\n")
			}
		}
	}
	prompt := fmt.Sprintf("Choose 1-%d: ", len(options))
	if out != nil {
		if _, err := fmt.Fprint(out, b.String()+prompt); err != nil {
			return -1, err
		}
	}
	for try := 0; try < maxChooseTries; try++ {
		line, eof, err := readLineContext(ctx, in)
		if err != nil {
			endLine(out)
			if ctx.Err() != nil {
				return -1, ctx.Err()
			}
			return -1, fmt.Errorf("reading the answer: %w", err)
		}
		var n int
		if _, serr := fmt.Sscanf(strings.TrimSpace(line), "%d", &n); serr == nil && n >= 1 && n <= len(options) && strings.TrimSpace(line) == fmt.Sprint(n) {
			if cancel && n == len(options) {
				return -1, nil
			}
			return n - 1, nil
		}
		if eof {
			endLine(out)
			return -1, nil
		}
		if out != nil {
			fmt.Fprintf(out, "Type a number from 1 to %d and press Enter: ", len(options))
		}
	}
	return -1, nil
}

// endLine ends the prompt's line on out (after ^C or the end of input), so
// what is printed next starts on a line of its own.
func endLine(out io.Writer) {
	if out != nil {
		fmt.Fprintln(out)
	}
}

// ReadLine reads the first line of in (at most max bytes; what follows on
// a longer line is left unread), without its line ending, and returns
// ctx.Err() as soon as ctx ends (Ctrl-C), as the prompts do: for a token or
// secret piped in. Input that ends before a line break gives what was
// read.
func ReadLine(ctx context.Context, in io.Reader, max int) (string, error) {
	line, _, err := readLineContextMax(ctx, in, max)
	return line, err
}

// readLineContext is readLine that returns ctx.Err() as soon as ctx ends.
// On a terminal or pipe (an *os.File) on Linux, macOS and the BSDs the
// pending read is interrupted (github.com/muesli/cancelreader, which
// bubbletea uses for the same purpose), so no byte typed later is taken;
// elsewhere the reading goroutine ends with the next line or the end of
// input.
func readLineContext(ctx context.Context, in io.Reader) (string, bool, error) {
	return readLineContextMax(ctx, in, maxLine)
}

// readLineContextMax is readLineContext for lines of up to max bytes.
func readLineContextMax(ctx context.Context, in io.Reader, max int) (string, bool, error) {
	if ctx == nil || ctx.Done() == nil {
		return readLineMax(in, max)
	}
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	if f, ok := in.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			// A file never blocks (and epoll refuses one).
			return readLineMax(in, max)
		}
	}
	r := in
	var cr cancelreader.CancelReader
	if c, err := cancelreader.NewReader(in); err == nil {
		r, cr = c, c
		defer cr.Close()
	}
	type result struct {
		line string
		eof  bool
		err  error
	}
	done := make(chan result, 1)
	go func() {
		line, eof, err := readLineMax(r, max)
		done <- result{line, eof, err}
	}()
	select {
	case res := <-done:
		return res.line, res.eof, res.err
	case <-ctx.Done():
		if cr != nil && cr.Cancel() {
			<-done // the read has let go of in
		}
		return "", false, ctx.Err()
	}
}

// maxLine bounds an answer to a prompt.
const maxLine = 1024

// readLine reads one line a byte at a time (at most maxLine bytes),
// without its line ending; eof is set when input ended.
func readLine(in io.Reader) (line string, eof bool, err error) {
	return readLineMax(in, maxLine)
}

// readLineMax is readLine for lines of up to max bytes.
func readLineMax(in io.Reader, max int) (line string, eof bool, err error) {
	var b []byte
	buf := make([]byte, 1)
	for len(b) < max {
		n, err := in.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return strings.TrimSuffix(string(b), "\r"), false, nil
			}
			b = append(b, buf[0])
			continue
		}
		if errors.Is(err, io.EOF) {
			return string(b), true, nil
		}
		if err != nil {
			return "", false, err
		}
	}
	return string(b), false, nil
}

// ReadHidden asks question on prompt and reads one line from the terminal
// fd with echo off, as the GitHub CLI reads a token (golang.org/x/term), so
// what is typed or pasted never shows on the screen or in a recording of
// it. Ctrl-C still interrupts: ctx ends, the terminal's state is restored,
// the read is abandoned, and ctx.Err() is returned.
func ReadHidden(ctx context.Context, fd int, prompt io.Writer, question string) (string, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return "", err
	}
	fmt.Fprint(prompt, question)
	type read struct {
		b   []byte
		err error
	}
	done := make(chan read, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- read{b, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(prompt)
		return string(r.b), r.err
	case <-ctx.Done():
		// term.ReadPassword restores the terminal only when its read
		// returns; this one is abandoned (the command is ending).
		_ = term.Restore(fd, state)
		fmt.Fprintln(prompt)
		return "", ctx.Err()
	}
}

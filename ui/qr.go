package ui

import (
	"io"
	"strings"
	"time"

	"github.com/skip2/go-qrcode"
)

// qrQuiet is the quiet zone around the code, in modules. The standard asks
// for 4; 2 scans fine with phone cameras and saves terminal rows.
const qrQuiet = 2

// qrLines renders a QR code of content with half-block characters, two
// modules a character cell (rows of the result are cells).
//
// With colour (dark true) the dark modules are drawn as blocks and the caller
// paints the lines black on white, which scans on any terminal theme. Without
// colour the light modules are drawn instead (dark false), which gives a
// correct code on the usual dark terminal background.
func qrLines(content string, dark bool) ([]string, error) {
	q, err := qrcode.New(content, qrcode.Low)
	if err != nil {
		return nil, err
	}
	q.DisableBorder = true
	bm := q.Bitmap()
	n := len(bm) + 2*qrQuiet
	at := func(y, x int) bool { // true = the module is dark
		y, x = y-qrQuiet, x-qrQuiet
		if y < 0 || x < 0 || y >= len(bm) || x >= len(bm[y]) {
			return false
		}
		return bm[y][x]
	}
	ink := func(y, x int) bool { return at(y, x) == dark }
	var lines []string
	for y := 0; y < n; y += 2 {
		var b strings.Builder
		for x := 0; x < n; x++ {
			top, bottom := ink(y, x), ink(y+1, x)
			if y+1 >= n {
				bottom = false // below the last row: blank in either scheme
			}
			switch {
			case top && bottom:
				b.WriteRune('█')
			case top:
				b.WriteRune('▀')
			case bottom:
				b.WriteRune('▄')
			default:
				b.WriteByte(' ')
			}
		}
		lines = append(lines, b.String())
	}
	return lines, nil
}

// qrPrinter prints a QR code for each new code or URL on a line-oriented
// writer (plain and JSON modes, Options.QR).
type qrPrinter struct {
	w io.Writer
	// color paints the code black on white with SGR sequences; without it
	// the light modules are drawn, for a dark background.
	color bool
	last  string // the key of the QR code last printed
}

// newQRPrinter returns the printer for o, or nil when o does not ask for QR
// codes.
func newQRPrinter(o Options) *qrPrinter {
	if !o.QR {
		return nil
	}
	return &qrPrinter{w: o.Err, color: !o.NoColor && isTerminal(o.Err) && o.Getenv("TERM") != "dumb"}
}

// print writes the QR code of u unless key is that of the last one printed
// (the same event again), or u is not a URL fit to open. The key is what
// makes the code new, not the URL alone: under --wait each new user code
// gets its own QR code even when it leads to the same verification URL, so
// a console that scrolled (journalctl -f) shows one next to each code.
func (q *qrPrinter) print(key, u string) {
	if q == nil || key == q.last || !linkable(u) {
		return
	}
	lines, err := qrLines(u, q.color)
	if err != nil {
		return
	}
	q.last = key
	var b strings.Builder
	for _, l := range lines {
		if q.color {
			l = "\x1b[30;107m" + l + "\x1b[0m"
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	_, _ = io.WriteString(q.w, b.String())
}

// qrTarget is the URL a QR code of c leads to: the complete verification
// URL (which fills in the code) when the server sent one.
func qrTarget(c Code) string {
	if c.VerificationURIComplete != "" {
		return c.VerificationURIComplete
	}
	return c.VerificationURI
}

// codeKey tells codes apart: a new code (under --wait) has a new user code
// and expiry, while the same event seen again has neither.
func codeKey(c Code) string {
	return c.UserCode + "\x00" + c.ExpiresAt.UTC().Format(time.RFC3339Nano) + "\x00" + qrTarget(c)
}

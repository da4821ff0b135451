package ui

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/deviceflow"
	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/webflow"
)

// qrBlock is the QR code of u as the plain and JSON modes print it (no
// colour: light modules drawn).
func qrBlock(t *testing.T, u string) string {
	t.Helper()
	lines, err := qrLines(u, false)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n") + "\n"
}

const halfBlocks = "█▀▄"

// waitScript is what a device-flow login under --wait emits when the
// first code expires unapproved: the same code event seen twice (printed
// once), then two new codes leading to the same URL, as GitHub's and the
// emulator's do (no verification_uri_complete).
func waitScript(clock *clock.Fake) (script []any, codes []*deviceflow.Code) {
	first := testCode(clock.Now(), true)
	second := testCode(clock.Now(), false)
	second.UserCode = "ABCD-EFGH"
	third := testCode(clock.Now(), false)
	third.UserCode = "KLMN-PQRS"
	return []any{
		deviceflow.Event{Kind: deviceflow.KindCode, Code: first},
		deviceflow.Event{Kind: deviceflow.KindPending},
		deviceflow.Event{Kind: deviceflow.KindCode, Code: first}, // the same event again
		deviceflow.Event{Kind: deviceflow.KindPending},
		deviceflow.Event{Kind: deviceflow.KindCode, Code: second},
		deviceflow.Event{Kind: deviceflow.KindPending},
		deviceflow.Event{Kind: deviceflow.KindCode, Code: third},
		deviceflow.Event{Kind: deviceflow.KindPending},
		deviceflow.Event{Kind: deviceflow.KindSuccess},
	}, []*deviceflow.Code{first, second, third}
}

// --qr in plain mode: the QR code of the complete verification URL follows
// the URLs on stderr. Under --wait each new code is printed exactly as the
// first was: its QR code (though the URL is the same as the last code's)
// and its waiting line; the same event seen again prints no second QR code.
func TestPlainQR(t *testing.T) {
	clock := newFakeNow()
	script, codes := waitScript(clock)
	var out, errb bytes.Buffer
	if _, err := Run(context.Background(), Options{Mode: Plain, Host: "github.com", Out: &out, Err: &errb, Clock: clock, QR: true},
		scriptTask(script, octocat, nil)); err != nil {
		t.Fatal(err)
	}
	qr1, qr2 := qrBlock(t, codes[0].VerificationURIComplete), qrBlock(t, codes[1].VerificationURI)
	want := "First copy your one-time code: WDJB-MJHT\n" +
		"Then open: https://github.com/login/device\n" +
		"(or open https://github.com/login/device?user_code=WDJB-MJHT, which fills in the code)\n" +
		qr1 +
		"Waiting for approval (the code expires in 15 minutes)…\n" +
		"First copy your one-time code: WDJB-MJHT\n" +
		"Then open: https://github.com/login/device\n" +
		"(or open https://github.com/login/device?user_code=WDJB-MJHT, which fills in the code)\n" +
		"First copy your one-time code: ABCD-EFGH\n" +
		"Then open: https://github.com/login/device\n" +
		qr2 +
		"Waiting for approval (the code expires in 15 minutes)…\n" +
		"First copy your one-time code: KLMN-PQRS\n" +
		"Then open: https://github.com/login/device\n" +
		qr2 +
		"Waiting for approval (the code expires in 15 minutes)…\n" +
		"Approved.\n" +
		"Logged in to github.com as octocat (token kept in the keyring)\n"
	if got := errb.String(); got != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", got, want)
	}
	if out.Len() != 0 {
		t.Errorf("stdout: %q", out.String())
	}

	// Without --qr: no QR code, and still a waiting line for each code.
	errb.Reset()
	if _, err := Run(context.Background(), Options{Mode: Plain, Host: "github.com", Out: &out, Err: &errb, Clock: clock},
		scriptTask(script, octocat, nil)); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(errb.String(), halfBlocks) {
		t.Errorf("QR code without QR:\n%s", errb.String())
	}
	if n := strings.Count(errb.String(), "Waiting for approval (the code expires in 15 minutes)…\n"); n != 3 {
		t.Errorf("%d waiting lines for 3 codes:\n%s", n, errb.String())
	}
}

// --qr --json: stdout holds only the events, the QR code goes to stderr,
// one for each new code under --wait, even when the URL is the same.
func TestJSONQR(t *testing.T) {
	clock := newFakeNow()
	code := testCode(clock.Now(), false)
	var out, errb bytes.Buffer
	if _, err := Run(context.Background(), Options{Mode: JSON, Host: "github.com", Out: &out, Err: &errb, Clock: clock, QR: true},
		scriptTask([]any{deviceflow.Event{Kind: deviceflow.KindCode, Code: code}, deviceflow.Event{Kind: deviceflow.KindSuccess}}, octocat, nil)); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(out.String(), halfBlocks) || !strings.Contains(out.String(), `"event":"code"`) {
		t.Errorf("stdout:\n%s", out.String())
	}
	if errb.String() != qrBlock(t, code.VerificationURI) {
		t.Errorf("stderr:\n%s", errb.String())
	}

	script, codes := waitScript(clock)
	out.Reset()
	errb.Reset()
	if _, err := Run(context.Background(), Options{Mode: JSON, Host: "github.com", Out: &out, Err: &errb, Clock: clock, QR: true},
		scriptTask(script, octocat, nil)); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), `"event":"code"`); n != 4 {
		t.Errorf("%d code events, want 4:\n%s", n, out.String())
	}
	if want := qrBlock(t, codes[0].VerificationURIComplete) + qrBlock(t, codes[1].VerificationURI) + qrBlock(t, codes[2].VerificationURI); errb.String() != want {
		t.Errorf("stderr:\n%s\nwant one QR code for each of the 3 codes:\n%s", errb.String(), want)
	}
}

// The web flow: a QR code of the authorization URL.
func TestPlainQRWeb(t *testing.T) {
	clock := newFakeNow()
	u := "https://github.com/login/oauth/authorize?client_id=Iv1.x&redirect_uri=http%3A%2F%2F127.0.0.1%3A43127%2Fcallback&state=abc"
	var out, errb bytes.Buffer
	if _, err := Run(context.Background(), Options{Mode: Plain, Flow: FlowWeb, Host: "github.com", Out: &out, Err: &errb, Clock: clock, QR: true},
		scriptTask([]any{webflow.Event{Kind: webflow.KindAuthorize, URL: u, ExpiresAt: clock.Now().Add(5 * time.Minute)}, webflow.Event{Kind: webflow.KindSuccess}}, octocat, nil)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errb.String(), u+"\n"+qrBlock(t, u)) {
		t.Errorf("stderr:\n%s", errb.String())
	}
}

// A URL unfit to open (a server's javascript: URL) gets no QR code.
func TestQRPrinterRefusesUnsafeURL(t *testing.T) {
	var b bytes.Buffer
	q := &qrPrinter{w: &b}
	q.print("a", "javascript:alert(1)")
	q.print("b", "http://evil.example/device")
	if b.Len() != 0 {
		t.Errorf("printed:\n%s", b.String())
	}
	// In colour: black on white, each line reset.
	q = &qrPrinter{w: &b, color: true}
	q.print("c", "https://github.com/login/device")
	lines, _ := qrLines("https://github.com/login/device", true)
	for i, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if l != "\x1b[30;107m"+lines[i]+"\x1b[0m" {
			t.Fatalf("line %d = %q", i, l)
		}
	}
}

// --qr in the TUI shows the QR code from the start.
func TestTUIQROption(t *testing.T) {
	tm := newTestModel(t, Options{QR: true})
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), false)})
	tm.mustShow("Scan to open on your phone")
}

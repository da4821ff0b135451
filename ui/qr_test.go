package ui

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/deviceflow"
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

// --qr in plain mode: the QR code of the complete verification URL follows
// the URLs on stderr, once per URL; a new code (under --wait) gets its own.
func TestPlainQR(t *testing.T) {
	clock := newFakeNow()
	first := testCode(clock.Now(), true)
	second := testCode(clock.Now().Add(15*time.Minute), false)
	second.UserCode = "ABCD-EFGH"
	script := []any{
		deviceflow.Event{Kind: deviceflow.KindCode, Code: first},
		deviceflow.Event{Kind: deviceflow.KindPending},
		deviceflow.Event{Kind: deviceflow.KindCode, Code: first},
		deviceflow.Event{Kind: deviceflow.KindCode, Code: second},
		deviceflow.Event{Kind: deviceflow.KindSuccess},
	}
	var out, errb bytes.Buffer
	if _, err := Run(context.Background(), Options{Mode: Plain, Host: "github.com", Out: &out, Err: &errb, Clock: clock, QR: true},
		scriptTask(script, octocat, nil)); err != nil {
		t.Fatal(err)
	}
	got := errb.String()
	qr1, qr2 := qrBlock(t, first.VerificationURIComplete), qrBlock(t, second.VerificationURI)
	if strings.Count(got, qr1) != 1 || strings.Count(got, qr2) != 1 {
		t.Fatalf("want each QR code once:\n%s", got)
	}
	// Under the URLs, before the waiting line.
	want := "(or open " + first.VerificationURIComplete + ", which fills in the code)\n" + qr1 + "Waiting for approval"
	if !strings.Contains(got, want) {
		t.Errorf("QR code not under the URLs:\n%s", got)
	}
	if out.Len() != 0 {
		t.Errorf("stdout: %q", out.String())
	}

	// Without --qr: no QR code.
	errb.Reset()
	if _, err := Run(context.Background(), Options{Mode: Plain, Host: "github.com", Out: &out, Err: &errb, Clock: clock},
		scriptTask(script, octocat, nil)); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(errb.String(), halfBlocks) {
		t.Errorf("QR code without QR:\n%s", errb.String())
	}
}

// --qr --json: stdout holds only the events, the QR code goes to stderr.
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
	q.print("javascript:alert(1)")
	q.print("http://evil.example/device")
	if b.Len() != 0 {
		t.Errorf("printed:\n%s", b.String())
	}
	// In colour: black on white, each line reset.
	q = &qrPrinter{w: &b, color: true}
	q.print("https://github.com/login/device")
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

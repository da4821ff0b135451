package webflow

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/oauth"
)

// paster is a Paste that hands out what the test sends, and reports each
// call (asked) and its end (done: nil, or why it returned).
type paster struct {
	lines chan string
	asked chan int
	done  chan error
	calls int
}

func newPaster() *paster {
	return &paster{lines: make(chan string), asked: make(chan int, 100), done: make(chan error, 100)}
}

func (p *paster) paste(ctx context.Context) (string, error) {
	p.calls++
	p.asked <- p.calls
	select {
	case s := <-p.lines:
		p.done <- nil
		return s, nil
	case <-ctx.Done():
		p.done <- ctx.Err()
		return "", ctx.Err()
	}
}

// send waits for the flow to ask, then pastes s.
func (p *paster) send(t *testing.T, s string) {
	t.Helper()
	select {
	case <-p.asked:
	case <-time.After(10 * time.Second):
		t.Fatal("the flow did not ask for a paste")
	}
	select {
	case p.lines <- s:
	case <-time.After(10 * time.Second):
		t.Fatal("the paste was not read")
	}
}

// otherDevice is a browser on another device: it follows the authorization
// URL until the server sends it to the loopback callback, which on that
// device leads nowhere, and returns that address.
func otherDevice(t *testing.T, authorize string) *url.URL {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Hostname() == "127.0.0.1" && req.URL.Path == CallbackPath {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := c.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("the server did not send the browser back (HTTP %d): %v", resp.StatusCode, err)
	}
	return loc
}

// pasteRun starts a login with p as its Paste.
func pasteRun(t *testing.T, cfg *Config, p *paster) (*run, *url.URL) {
	t.Helper()
	cfg.Paste = p.paste
	r := start(t, context.Background(), cfg)
	return r, r.authorizeURL(t)
}

func (r *run) rejections() []*PasteError {
	var out []*PasteError
	for _, ev := range r.eventList() {
		if ev.Kind == KindPasteRejected {
			var pe *PasteError
			if !errors.As(ev.Err, &pe) {
				panic("paste_rejected without a *PasteError")
			}
			out = append(out, pe)
		}
	}
	return out
}

func has(kinds []Kind, k Kind) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

func TestPasteFullAddress(t *testing.T) {
	f := newFakeGitHub(t)
	p := newPaster()
	r, auth := pasteRun(t, f.config(), p)
	landed := otherDevice(t, auth.String())
	p.send(t, "  "+landed.String()+"\r\n")
	tok, err := r.wait(t)
	if err != nil || tok.AccessToken != canaryToken {
		t.Fatalf("Login = %v, %v", tok, err)
	}
	// The exchange is the callback's: the code, this login's redirect URI
	// and PKCE verifier (the fake checks both).
	calls := f.tokenCalls()
	if len(calls) != 1 || calls[0].Get("code") != testCode || calls[0].Get("code_verifier") == "" || calls[0].Get("redirect_uri") != redirectURI(t, auth) {
		t.Fatalf("token requests %v", calls)
	}
	kinds := r.kinds()
	if !has(kinds, KindPasteAccepted) || has(kinds, KindCallback) || kinds[len(kinds)-1] != KindSuccess {
		t.Errorf("events %v", kinds)
	}
	r.checkNoSecrets(t, testCode, auth.Query().Get("state"), calls[0].Get("code_verifier"), canaryToken)
}

func TestPasteCodeOnly(t *testing.T) {
	f := newFakeGitHub(t)
	p := newPaster()
	r, auth := pasteRun(t, f.config(), p)
	landed := otherDevice(t, auth.String())
	p.send(t, landed.Query().Get("code"))
	if tok, err := r.wait(t); err != nil || tok.AccessToken != canaryToken {
		t.Fatalf("Login = %v, %v", tok, err)
	}
	if calls := f.tokenCalls(); len(calls) != 1 || calls[0].Get("code_verifier") == "" {
		t.Fatalf("token requests %v", calls)
	}
}

// Just the query ("code=…&state=…", or from "?" on) is an address too.
func TestPasteQueryOnly(t *testing.T) {
	for _, form := range []func(u *url.URL) string{
		func(u *url.URL) string { return u.RawQuery },
		func(u *url.URL) string { return "?" + u.RawQuery },
		func(u *url.URL) string { return u.Path + "?" + u.RawQuery },
	} {
		f := newFakeGitHub(t)
		p := newPaster()
		r, auth := pasteRun(t, f.config(), p)
		p.send(t, form(otherDevice(t, auth.String())))
		if _, err := r.wait(t); err != nil {
			t.Fatalf("Login: %v", err)
		}
	}
}

// A wrong paste says why and the flow asks again; the right one then wins.
func TestPasteWrongStateThenRight(t *testing.T) {
	f := newFakeGitHub(t)
	p := newPaster()
	r, auth := pasteRun(t, f.config(), p)
	landed := otherDevice(t, auth.String())
	forged := *landed
	q := forged.Query()
	q.Set("state", "not-the-state-of-this-login")
	forged.RawQuery = q.Encode()
	p.send(t, forged.String())
	noState := *landed
	q = noState.Query()
	q.Del("state")
	noState.RawQuery = q.Encode()
	p.send(t, noState.String())
	p.send(t, landed.String())
	if _, err := r.wait(t); err != nil {
		t.Fatalf("Login: %v", err)
	}
	rej := r.rejections()
	if len(rej) != 2 || rej[0].Reason != PasteWrongState || rej[1].Reason != PasteNoState || rej[0].Attempt != 1 || rej[1].Attempt != 2 || rej[1].Max != DefaultPasteAttempts || !rej[1].Retryable() {
		t.Fatalf("rejections %+v", rej)
	}
	if len(f.tokenCalls()) != 1 {
		t.Errorf("a rejected paste reached the token endpoint")
	}
	r.checkNoSecrets(t, testCode, auth.Query().Get("state"))
}

// error= in a pasted address (with the right state) ends the login as in a
// callback.
func TestPasteError(t *testing.T) {
	f := newFakeGitHub(t)
	f.callbackParams = url.Values{"error": {"access_denied"}, "error_description": {"The user has denied your application access."}}
	p := newPaster()
	r, auth := pasteRun(t, f.config(), p)
	p.send(t, otherDevice(t, auth.String()).String())
	_, err := r.wait(t)
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Code != "access_denied" || oe.Description != "The user has denied your application access." {
		t.Fatalf("Login = %v", err)
	}
	if len(f.tokenCalls()) != 0 {
		t.Error("token endpoint called")
	}
}

// Garbage of every kind is rejected with a reason, never quoted; after
// PasteAttempts rejections the login ends with the last *PasteError.
func TestPasteGarbage(t *testing.T) {
	f := newFakeGitHub(t)
	p := newPaster()
	cfg := f.config()
	cfg.PasteAttempts = 7
	r, auth := pasteRun(t, cfg, p)
	landed := otherDevice(t, auth.String())
	elsewhere := *landed
	elsewhere.Host = "evil.example"
	wrongPort := *landed
	wrongPort.Host = "127.0.0.1:1"
	cases := []struct{ paste, reason string }{
		{"yes", PasteNotCode},
		{"cancel please", PasteNotCode},
		{"<script>alert(1)</script>", PasteNotCode},
		{elsewhere.String(), PasteWrongPlace},
		{wrongPort.String(), PasteWrongPlace},
		{strings.Repeat("A", MaxPasteLen+1), PasteTooLong},
		{"state=" + auth.Query().Get("state") + "&code=bad%20code", PasteBadCode},
	}
	for _, c := range cases {
		p.send(t, c.paste)
	}
	_, err := r.wait(t)
	var pe *PasteError
	if !errors.As(err, &pe) || pe.Attempt != 7 || pe.Max != 7 || pe.Retryable() || !strings.HasSuffix(err.Error(), "(7 attempts; giving up)") {
		t.Fatalf("Login = %v", err)
	}
	rej := r.rejections()
	if len(rej) != len(cases) {
		t.Fatalf("%d rejections", len(rej))
	}
	for i, c := range cases {
		if !strings.HasPrefix(rej[i].Reason, c.reason) {
			t.Errorf("paste %d: reason %q, want %q", i, rej[i].Reason, c.reason)
		}
		if len(c.paste) < 100 && strings.Contains(rej[i].Error(), c.paste) {
			t.Errorf("paste %d quoted in %q", i, rej[i].Error())
		}
	}
	if !strings.Contains(rej[3].Reason, "http://"+landed.Host+"/callback") {
		t.Errorf("wrong-place reason does not name the expected address: %q", rej[3].Reason)
	}
	if len(f.tokenCalls()) != 0 {
		t.Error("garbage reached the token endpoint")
	}
	// Blank lines are not attempts.
	if p.calls != len(cases) {
		t.Errorf("%d calls", p.calls)
	}
}

// A code the server refuses (mistyped) is a rejected paste, not the end:
// the person pastes again.
func TestPasteRefusedCodeAsksAgain(t *testing.T) {
	f := newFakeGitHub(t)
	p := newPaster()
	r, auth := pasteRun(t, f.config(), p)
	landed := otherDevice(t, auth.String())
	p.send(t, "")
	p.send(t, "code-5d1e7a9b3X") // one character off
	p.send(t, landed.Query().Get("code"))
	if _, err := r.wait(t); err != nil {
		t.Fatalf("Login: %v", err)
	}
	rej := r.rejections()
	var oe *oauth.Error
	if len(rej) != 1 || rej[0].Reason != PasteCodeRefused || !errors.As(rej[0], &oe) || oe.Code != "bad_verification_code" {
		t.Fatalf("rejections %+v", rej)
	}
	if n := len(f.tokenCalls()); n != 2 {
		t.Errorf("%d token requests", n)
	}
	if got := r.kinds(); strings.Count(strings.Join(kindStrings(got), " "), string(KindPasteAccepted)) != 2 {
		t.Errorf("events %v", got)
	}
}

func kindStrings(ks []Kind) []string {
	var out []string
	for _, k := range ks {
		out = append(out, string(k))
	}
	return out
}

// The browser on this machine reaches the loopback listener first: the
// login ends with its token and the paste prompt is cancelled.
func TestPasteLoopbackWins(t *testing.T) {
	f := newFakeGitHub(t)
	p := newPaster()
	r, auth := pasteRun(t, f.config(), p)
	select {
	case <-p.asked:
	case <-time.After(10 * time.Second):
		t.Fatal("no paste prompt")
	}
	page := browserGet(auth.String())
	if tok, err := r.wait(t); err != nil || tok.AccessToken != canaryToken {
		t.Fatalf("Login = %v, %v", tok, err)
	}
	if page.status != http.StatusOK {
		t.Errorf("page %d", page.status)
	}
	select {
	case err := <-p.done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the paste prompt ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the paste prompt was not cancelled")
	}
	kinds := r.kinds()
	if !has(kinds, KindCallback) || has(kinds, KindPasteAccepted) || has(kinds, KindPasteRejected) {
		t.Errorf("events %v", kinds)
	}
}

// Input that ends (no terminal, empty stdin) leaves the loopback listener
// waiting.
func TestPasteEOFKeepsWaiting(t *testing.T) {
	f := newFakeGitHub(t)
	cfg := f.config()
	cfg.Paste = func(context.Context) (string, error) { return "", io.EOF }
	r := start(t, context.Background(), cfg)
	auth := r.authorizeURL(t)
	browserGet(auth.String())
	if _, err := r.wait(t); err != nil {
		t.Fatalf("Login: %v", err)
	}
}

// LinePaster on a pipe, as under --json: one line each; an oversize line is
// cut (and rejected by the flow); Close interrupts a pending read.
func TestLinePaster(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	lp := NewLinePaster(pr)
	go func() {
		io.WriteString(pw, "first\r\n"+strings.Repeat("x", 3*MaxPasteLen)+"\nthird\n")
	}()
	ctx := context.Background()
	for _, want := range []string{"first", strings.Repeat("x", MaxPasteLen+1), "third"} {
		got, err := lp.Paste(ctx)
		if err != nil || got != want {
			t.Fatalf("Paste = %.40q (%d bytes), %v; want %.40q", got, len(got), err, want)
		}
	}
	// A cancelled wait keeps the line for the next call.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	if _, err := lp.Paste(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Paste = %v", err)
	}
	cancel()
	io.WriteString(pw, "fourth\n")
	if got, err := lp.Paste(ctx); got != "fourth" || err != nil {
		t.Fatalf("Paste = %q, %v", got, err)
	}
	// Close while a read is pending: Paste returns EOF at once, and the
	// reading goroutine ends (the pipe's next line is not consumed).
	go func() { time.Sleep(50 * time.Millisecond); lp.Close() }()
	if _, err := lp.Paste(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("after Close: %v", err)
	}
	lp.Close()

	// End of input: the last unterminated line, then EOF.
	lp2 := NewLinePaster(strings.NewReader("only line"))
	if got, err := lp2.Paste(ctx); got != "only line" || err != nil {
		t.Fatalf("Paste = %q, %v", got, err)
	}
	if _, err := lp2.Paste(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("at EOF: %v", err)
	}
}

// The flow with a LinePaster over a pipe, as login --json reads stdin.
func TestPasteFromStdinPipe(t *testing.T) {
	f := newFakeGitHub(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	lp := NewLinePaster(pr)
	defer lp.Close()
	cfg := f.config()
	cfg.Paste = lp.Paste
	r := start(t, context.Background(), cfg)
	auth := r.authorizeURL(t)
	landed := otherDevice(t, auth.String())
	io.WriteString(pw, strings.Repeat("y", MaxPasteLen+10)+"\n"+landed.String()+"\n")
	if _, err := r.wait(t); err != nil {
		t.Fatalf("Login: %v", err)
	}
	if rej := r.rejections(); len(rej) != 1 || rej[0].Reason != PasteTooLong {
		t.Fatalf("rejections %+v", rej)
	}
}

func TestPlausibleCode(t *testing.T) {
	for s, want := range map[string]bool{
		"3584d83530557fdd1f46":                        true, // GitHub
		"Jx3b5Qk1-9zrT8wWmE0vC2yL_4uHfN6sDaPqRoXgIeK": true, // base64url
		"4/0AeaYSHB+x/abc==":                          true,
		"short":                                       false,
		"yes please":                                  false,
		"abc==========":                               false,
		"https://example.com/":                        false,
		strings.Repeat("a", maxCodeLen+1):             false,
	} {
		if got := plausibleCode(s); got != want {
			t.Errorf("plausibleCode(%q) = %v", s, got)
		}
	}
}

package webflow

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/opener"
	"github.com/ghlogin/ghlogin/oauth"
)

const (
	testClientID     = "Ov23liTESTCLIENT"
	testClientSecret = "test-client-secret-0123456789"
	canaryToken      = "gho_CANARY0123456789abcdefCANARY"
	testCode         = "code-5d1e7a9b3c"
)

var base64URL43 = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// fakeGitHub is an authorization server and token endpoint that behave as
// GitHub documents them, with knobs for the error cases.
type fakeGitHub struct {
	t   *testing.T
	srv *httptest.Server

	mu             sync.Mutex
	authorizeCalls []url.Values
	tokenForms     []url.Values
	lastCallback   string
	// callbackParams, when set, replace code= in the redirect (e.g. error=).
	callbackParams url.Values
	// omitState leaves state out of the redirect.
	omitState bool
	// tokenReply, when set, writes the token endpoint's reply.
	tokenReply func(w http.ResponseWriter, form url.Values)
	// tokenEntered is closed when the token endpoint is first called;
	// tokenGate, when set, holds its reply until closed.
	tokenEntered chan struct{}
	tokenGate    chan struct{}
	enteredOnce  sync.Once
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{t: t, tokenEntered: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", f.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", f.token)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) authorizeURL() string { return f.srv.URL + "/login/oauth/authorize" }
func (f *fakeGitHub) tokenURL() string     { return f.srv.URL + "/login/oauth/access_token" }

func (f *fakeGitHub) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.authorizeCalls = append(f.authorizeCalls, q)
	ru, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || ru.Scheme != "http" || ru.Hostname() != "127.0.0.1" || ru.Path != "/callback" {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	if q.Get("client_id") != testClientID {
		http.Error(w, "unknown client", http.StatusNotFound)
		return
	}
	params := url.Values{"code": {testCode}}
	if f.callbackParams != nil {
		params = url.Values{}
		for k, v := range f.callbackParams {
			params[k] = v
		}
	}
	if !f.omitState {
		params.Set("state", q.Get("state"))
	}
	ru.RawQuery = params.Encode()
	f.lastCallback = ru.String()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeGitHub) token(w http.ResponseWriter, r *http.Request) {
	f.enteredOnce.Do(func() { close(f.tokenEntered) })
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	form := r.PostForm
	f.mu.Lock()
	f.tokenForms = append(f.tokenForms, form)
	var auth url.Values
	if n := len(f.authorizeCalls); n > 0 {
		auth = f.authorizeCalls[n-1]
	}
	reply, gate := f.tokenReply, f.tokenGate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	if reply != nil {
		reply(w, form)
		return
	}
	ghErr := func(code, desc string) {
		writeJSON(w, http.StatusOK, map[string]string{"error": code, "error_description": desc,
			"error_uri": "https://docs.github.com/apps/troubleshooting"})
	}
	switch {
	case form.Get("client_id") != testClientID || form.Get("client_secret") != testClientSecret:
		ghErr("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
	case form.Get("grant_type") != "authorization_code" || form.Get("code") != testCode:
		ghErr("bad_verification_code", "The code passed is incorrect or expired.")
	case auth == nil || form.Get("redirect_uri") != auth.Get("redirect_uri"):
		ghErr("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.")
	case auth.Get("code_challenge") != "" && s256(form.Get("code_verifier")) != auth.Get("code_challenge"):
		ghErr("bad_verification_code", "The code_verifier does not match the code_challenge.")
	default:
		writeJSON(w, http.StatusOK, map[string]string{"access_token": canaryToken, "token_type": "bearer", "scope": "repo,read:org"})
	}
}

func (f *fakeGitHub) set(fn func(f *fakeGitHub)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeGitHub) tokenCalls() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.tokenForms...)
}

func (f *fakeGitHub) authorizeQuery() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.authorizeCalls) == 0 {
		return nil
	}
	return f.authorizeCalls[len(f.authorizeCalls)-1]
}

func (f *fakeGitHub) callbackURL() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastCallback
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// browserPage is what the simulated browser ended on.
type browserPage struct {
	status int
	header http.Header
	body   string
	err    error
}

// browserGet does what a browser does with a URL: GET it, following redirects.
func browserGet(u string) browserPage {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return browserPage{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return browserPage{status: resp.StatusCode, header: resp.Header, body: string(b), err: err}
}

// browserOpener returns an Opener that acts as the browser and reports the
// final page on the channel.
func browserOpener() (opener.Opener, <-chan browserPage) {
	ch := make(chan browserPage, 1)
	return opener.Func(func(u string) error {
		ch <- browserGet(u)
		return nil
	}), ch
}

// run is one Login running in the background.
type run struct {
	authURL chan string
	done    chan struct{}
	tok     *oauth.Token
	err     error

	mu     sync.Mutex
	events []Event
}

func (f *fakeGitHub) config() *Config {
	return &Config{
		Client:       &oauth.Client{Timeout: 10 * time.Second},
		Credentials:  oauth.Credentials{ClientID: testClientID, ClientSecret: testClientSecret},
		AuthorizeURL: f.authorizeURL(),
		TokenURL:     f.tokenURL(),
		Scopes:       []string{"repo", "read:org"},
		Timeout:      time.Minute,
	}
}

func start(t *testing.T, ctx context.Context, cfg *Config) *run {
	t.Helper()
	r := &run{authURL: make(chan string, 1), done: make(chan struct{})}
	cfg.OnEvent = func(ev Event) {
		r.mu.Lock()
		r.events = append(r.events, ev)
		r.mu.Unlock()
		if ev.Kind == KindAuthorize {
			r.authURL <- ev.URL
		}
	}
	go func() {
		defer close(r.done)
		r.tok, r.err = cfg.Login(ctx)
	}()
	return r
}

// authorizeURL waits for the KindAuthorize event.
func (r *run) authorizeURL(t *testing.T) *url.URL {
	t.Helper()
	select {
	case s := <-r.authURL:
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("authorize URL %q: %v", s, err)
		}
		return u
	case <-r.done:
		// An opener that completes the login at once can end it before
		// this select runs: the event was still emitted.
		select {
		case s := <-r.authURL:
			u, err := url.Parse(s)
			if err != nil {
				t.Fatalf("authorize URL %q: %v", s, err)
			}
			return u
		default:
		}
		t.Fatalf("Login ended before listening: %v", r.err)
	case <-time.After(10 * time.Second):
		t.Fatal("no authorize event")
	}
	return nil
}

func (r *run) wait(t *testing.T) (*oauth.Token, error) {
	t.Helper()
	select {
	case <-r.done:
		return r.tok, r.err
	case <-time.After(15 * time.Second):
		t.Fatal("Login did not return")
	}
	return nil, nil
}

func (r *run) kinds() []Kind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ks []Kind
	for _, ev := range r.events {
		ks = append(ks, ev.Kind)
	}
	return ks
}

func (r *run) eventList() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// checkNoSecrets fails if a secret appears in any event or the error.
func (r *run) checkNoSecrets(t *testing.T, secrets ...string) {
	t.Helper()
	var texts []string
	for _, ev := range r.eventList() {
		if ev.Kind != KindAuthorize && ev.URL != "" {
			texts = append(texts, ev.URL)
		}
		texts = append(texts, fmt.Sprintf("%v %+v %#v", ev.Kind, ev.ExpiresAt, ev.Err))
		if ev.Err != nil {
			texts = append(texts, ev.Err.Error())
		}
	}
	if r.err != nil {
		texts = append(texts, r.err.Error(), fmt.Sprintf("%+v %#v", r.err, r.err))
	}
	if r.tok != nil {
		texts = append(texts, fmt.Sprintf("%v %+v %#v", r.tok, r.tok, r.tok))
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, txt := range texts {
			if strings.Contains(txt, s) {
				t.Errorf("secret %q leaked into %q", s, txt)
			}
		}
	}
}

func redirectURI(t *testing.T, auth *url.URL) string {
	t.Helper()
	return auth.Query().Get("redirect_uri")
}

// callbackURL builds a callback on the flow's server with params.
func callbackURL(t *testing.T, auth *url.URL, params url.Values) string {
	t.Helper()
	return redirectURI(t, auth) + "?" + params.Encode()
}

var (
	srcHref = regexp.MustCompile(`(?i)\b(src|href|action|srcset|poster|data)\s*=`)
	styleRe = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
)

// checkPage asserts the loopback server's security headers and that the
// page is self-contained and free of secrets.
func checkPage(t *testing.T, p browserPage, secrets ...string) {
	t.Helper()
	if p.err != nil {
		t.Fatalf("browser: %v", p.err)
	}
	h := p.header
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'none'", "base-uri 'none'", "style-src 'sha256-"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "script-src") || strings.Contains(csp, "*") || strings.Contains(csp, "http") {
		t.Errorf("CSP %q allows more than it should", csp)
	}
	for k, want := range map[string]string{
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
		"Content-Type":           "text/html; charset=utf-8",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	body := p.body
	lower := strings.ToLower(body)
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "<object", "<embed", "<form", "<a ", "@import", "url(", "javascript:"} {
		if strings.Contains(lower, bad) {
			t.Errorf("page contains %q:\n%s", bad, body)
		}
	}
	if m := srcHref.FindString(body); m != "" {
		t.Errorf("page has an attribute that loads or links something (%q):\n%s", m, body)
	}
	m := styleRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("page has no <style>:\n%s", body)
	}
	sum := sha256.Sum256([]byte(m[1]))
	if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) {
		t.Errorf("CSP %q does not allow the page's style (hash %s)", csp, want)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(body, s) {
			t.Errorf("page contains secret %q", s)
		}
	}
}

// checkRefused asserts nothing listens on the redirect URI's port any more.
func checkRefused(t *testing.T, redirect string) {
	t.Helper()
	u, err := url.Parse(redirect)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp4", u.Host, 2*time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after the flow ended", u.Host)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s after the flow: %v, want connection refused", u.Host, err)
	}
}

func TestLoginHappyPath(t *testing.T) {
	gh := newFakeGitHub(t)
	cfg := gh.config()
	cfg.ExtraParams = url.Values{"login": {"octocat"}, "allow_signup": {"false"}}
	op, pages := browserOpener()
	cfg.Opener = op
	r := start(t, context.Background(), cfg)
	auth := r.authorizeURL(t)
	tok, err := r.wait(t)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if tok.AccessToken != canaryToken || tok.TokenType != "bearer" || tok.Scope != "repo,read:org" {
		t.Fatalf("token = %v", tok)
	}

	// The authorization request.
	q := gh.authorizeQuery()
	if q == nil {
		t.Fatal("the browser never reached the authorization endpoint")
	}
	if got := auth.Query(); got.Encode() != q.Encode() {
		t.Errorf("the event's URL %v differs from what the browser sent %v", got, q)
	}
	for k, want := range map[string]string{
		"client_id":             testClientID,
		"scope":                 "repo read:org",
		"code_challenge_method": "S256",
		"response_type":         "code",
		"login":                 "octocat",
		"allow_signup":          "false",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("authorize %s = %q, want %q", k, got, want)
		}
	}
	ru, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || ru.Scheme != "http" || ru.Hostname() != "127.0.0.1" || ru.Path != "/callback" || ru.RawQuery != "" {
		t.Errorf("redirect_uri = %q, want http://127.0.0.1:PORT/callback", q.Get("redirect_uri"))
	}
	if port, _ := strconv.Atoi(ru.Port()); port <= 0 {
		t.Errorf("redirect_uri %q has no port", q.Get("redirect_uri"))
	}
	state := q.Get("state")
	if !base64URL43.MatchString(state) {
		t.Errorf("state %q is not 32 random bytes in base64url", state)
	}
	if !base64URL43.MatchString(q.Get("code_challenge")) {
		t.Errorf("code_challenge %q is not a base64url SHA-256", q.Get("code_challenge"))
	}

	// The token request.
	forms := gh.tokenCalls()
	if len(forms) != 1 {
		t.Fatalf("%d token requests, want 1", len(forms))
	}
	form := forms[0]
	verifier := form.Get("code_verifier")
	for k, want := range map[string]string{
		"grant_type":    "authorization_code",
		"code":          testCode,
		"redirect_uri":  q.Get("redirect_uri"),
		"client_id":     testClientID,
		"client_secret": testClientSecret,
	} {
		if got := form.Get(k); got != want {
			t.Errorf("token request %s = %q, want %q", k, got, want)
		}
	}
	if !base64URL43.MatchString(verifier) {
		t.Errorf("code_verifier %q is not 43 base64url characters", verifier)
	}
	if s256(verifier) != q.Get("code_challenge") {
		t.Errorf("code_challenge %q is not base64url(sha256(verifier))", q.Get("code_challenge"))
	}
	if strings.Contains(auth.String(), verifier) {
		t.Error("the authorize URL contains the verifier")
	}

	// What the browser showed.
	p := <-pages
	checkPage(t, p, canaryToken, testCode, verifier, state, testClientSecret)
	if p.status != http.StatusOK || !strings.Contains(p.body, "Logged in") || !strings.Contains(p.body, "close this tab") {
		t.Errorf("success page: %d %s", p.status, p.body)
	}

	// Events.
	ks := r.kinds()
	if len(ks) < 3 || ks[0] != KindAuthorize || ks[len(ks)-1] != KindSuccess {
		t.Errorf("events %v: want authorize first and success last", ks)
	}
	var sawCallback bool
	for _, ev := range r.eventList() {
		switch ev.Kind {
		case KindCallback:
			sawCallback = true
		case KindAuthorize:
			if d := time.Until(ev.ExpiresAt); d <= 0 || d > time.Minute {
				t.Errorf("ExpiresAt is %v away, want within the 1m timeout", d)
			}
		}
	}
	if !sawCallback {
		t.Errorf("no callback event in %v", ks)
	}
	r.checkNoSecrets(t, canaryToken, testCode, verifier, testClientSecret)
	checkRefused(t, q.Get("redirect_uri"))
}

func TestLoginStateAndVerifierDifferPerRun(t *testing.T) {
	gh := newFakeGitHub(t)
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		r := start(t, ctx, gh.config())
		q := r.authorizeURL(t).Query()
		cancel()
		if _, err := r.wait(t); !errors.Is(err, context.Canceled) {
			t.Fatalf("Login after cancel: %v", err)
		}
		for _, k := range []string{"state", "code_challenge"} {
			v := q.Get(k)
			if !base64URL43.MatchString(v) {
				t.Errorf("%s %q is not 43 base64url characters", k, v)
			}
			if seen[v] {
				t.Errorf("%s %q repeated across runs", k, v)
			}
			seen[v] = true
		}
	}
}

func TestLoginKeepsAuthorizeURLQuery(t *testing.T) {
	gh := newFakeGitHub(t)
	cfg := gh.config()
	cfg.AuthorizeURL = gh.authorizeURL() + "?tenant=acme&prompt=select_account#frag"
	cfg.Scopes = nil
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := start(t, ctx, cfg)
	auth := r.authorizeURL(t)
	cancel()
	r.wait(t)
	q := auth.Query()
	if q.Get("tenant") != "acme" || q.Get("prompt") != "select_account" || q.Get("client_id") != testClientID {
		t.Errorf("authorize URL %v lost the configured query", auth)
	}
	if q.Has("scope") {
		t.Errorf("authorize URL %v has a scope although none was asked for", auth)
	}
	if auth.Fragment != "" || auth.Path != "/login/oauth/authorize" || auth.Host != gh.srv.Listener.Addr().String() {
		t.Errorf("authorize URL %v: wrong place", auth)
	}
}

func TestLoginDisablePKCE(t *testing.T) {
	gh := newFakeGitHub(t)
	cfg := gh.config()
	cfg.DisablePKCE = true
	op, pages := browserOpener()
	cfg.Opener = op
	r := start(t, context.Background(), cfg)
	auth := r.authorizeURL(t)
	if _, err := r.wait(t); err != nil {
		t.Fatalf("Login: %v", err)
	}
	<-pages
	for _, k := range []string{"code_challenge", "code_challenge_method"} {
		if auth.Query().Has(k) {
			t.Errorf("authorize URL has %s with PKCE off", k)
		}
	}
	if f := gh.tokenCalls()[0]; f.Has("code_verifier") {
		t.Errorf("token request has code_verifier with PKCE off: %v", f)
	}
}

func TestLoginWrongOrMissingStateKeepsWaiting(t *testing.T) {
	gh := newFakeGitHub(t)
	r := start(t, context.Background(), gh.config())
	auth := r.authorizeURL(t)
	state := auth.Query().Get("state")

	forged := []url.Values{
		{"code": {"attacker-code"}, "state": {"wrong-state"}},
		{"code": {"attacker-code"}},                                          // missing state
		{"code": {"attacker-code"}, "state": {""}},                           // empty state
		{"code": {"attacker-code"}, "state": {state[:42]}},                   // a prefix
		{"code": {"attacker-code"}, "state": {state + "x"}},                  // longer
		{"code": {"attacker-code"}, "state": {"wrong", state}},               // duplicated
		{"error": {"access_denied"}, "state": {"wrong-state"}},               // a forged denial
		{"error": {"access_denied"}, "error_description": {"forged denial"}}, // without state
	}
	for _, params := range forged {
		p := browserGet(callbackURL(t, auth, params))
		checkPage(t, p, state)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "still waiting") {
			t.Errorf("forged callback %v: %d %s", params, p.status, p.body)
		}
	}
	// A query that does not parse is treated the same.
	p := browserGet(redirectURI(t, auth) + "?state=" + url.QueryEscape(state) + "&code=x;y")
	if p.status != http.StatusBadRequest {
		t.Errorf("unparsable callback: %d", p.status)
	}
	select {
	case <-r.done:
		t.Fatalf("a forged callback ended the flow: %v", r.err)
	default:
	}
	if n := len(gh.tokenCalls()); n != 0 {
		t.Fatalf("forged callbacks caused %d token requests", n)
	}

	// The real browser comes back: the flow succeeds.
	p = browserGet(auth.String())
	checkPage(t, p, canaryToken)
	if p.status != http.StatusOK {
		t.Errorf("real callback: %d %s", p.status, p.body)
	}
	if _, err := r.wait(t); err != nil {
		t.Fatalf("Login: %v", err)
	}
	if forms := gh.tokenCalls(); len(forms) != 1 || forms[0].Get("code") != testCode {
		t.Errorf("token requests %v, want one with the real code", forms)
	}
}

func TestLoginErrorCallback(t *testing.T) {
	cases := []struct {
		params url.Values
		code   string
	}{
		{url.Values{"error": {"access_denied"}, "error_description": {"The user has denied your application access."},
			"error_uri": {"https://docs.github.com/apps/troubleshooting#access-denied"}}, "access_denied"},
		{url.Values{"error": {"redirect_uri_mismatch"}, "error_description": {"The redirect_uri MUST match the registered callback URL for this application."},
			"error_uri": {"https://docs.github.com/apps/troubleshooting#redirect-uri-mismatch"}}, "redirect_uri_mismatch"},
		{url.Values{"error": {"application_suspended"}, "error_description": {`Your application has been suspended. <script>alert("x")</script>`}}, "application_suspended"},
		// A code outside RFC 6749's grammar (here OSC 52, which writes the
		// clipboard) is never shown: it becomes a fixed placeholder.
		{url.Values{"error": {"\x1b]52;c;ZXZpbA==\x07access_denied"}, "error_description": {"denied"}}, oauth.InvalidErrorCode},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			gh := newFakeGitHub(t)
			gh.callbackParams = tc.params
			cfg := gh.config()
			op, pages := browserOpener()
			cfg.Opener = op
			r := start(t, context.Background(), cfg)
			r.authorizeURL(t)
			_, err := r.wait(t)
			var oe *oauth.Error
			if !errors.As(err, &oe) {
				t.Fatalf("Login = %v, want *oauth.Error", err)
			}
			desc := tc.params.Get("error_description")
			if oe.Code != tc.code || oe.Description != desc || oe.URI != tc.params.Get("error_uri") {
				t.Errorf("error = %+v, want the server's code, description and URI", oe)
			}
			if !strings.Contains(err.Error(), desc) {
				t.Errorf("message %q lacks the server's description", err)
			}
			if oauth.ErrorCode(err) != tc.code {
				t.Errorf("ErrorCode = %q", oauth.ErrorCode(err))
			}
			if n := len(gh.tokenCalls()); n != 0 {
				t.Errorf("an error callback led to %d token requests", n)
			}
			p := <-pages
			checkPage(t, p)
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Login failed") ||
				!strings.Contains(p.body, htmlEscape(desc)) || !strings.Contains(p.body, "close this tab") {
				t.Errorf("page: %d %s", p.status, p.body)
			}
			if ks := r.kinds(); ks[len(ks)-1] != KindError {
				t.Errorf("events %v: want error last", ks)
			}
			for _, k := range r.kinds() {
				if k == KindCallback || k == KindSuccess {
					t.Errorf("events %v: an error callback is not a code", r.kinds())
				}
			}
			checkRefused(t, gh.callbackURL())
		})
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestLoginRightStateWithoutCode(t *testing.T) {
	for name, params := range map[string]url.Values{
		"no code":        {"foo": {"bar"}},
		"empty code":     {"code": {""}},
		"two codes":      {"code": {"a", "b"}},
		"code with a CR": {"code": {"abc\rdef"}},
		"huge code":      {"code": {strings.Repeat("a", 5000)}},
	} {
		t.Run(name, func(t *testing.T) {
			gh := newFakeGitHub(t)
			gh.callbackParams = params
			cfg := gh.config()
			op, pages := browserOpener()
			cfg.Opener = op
			r := start(t, context.Background(), cfg)
			r.authorizeURL(t)
			_, err := r.wait(t)
			var ce *CallbackError
			if !errors.As(err, &ce) || ce.Reason == "" || !strings.HasPrefix(err.Error(), "the authorization server sent the browser back ") {
				t.Fatalf("Login = %v, want *CallbackError saying what was wrong", err)
			}
			if n := len(gh.tokenCalls()); n != 0 {
				t.Errorf("%d token requests", n)
			}
			p := <-pages
			checkPage(t, p)
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Login failed") {
				t.Errorf("page: %d %s", p.status, p.body)
			}
		})
	}
}

func TestLoginServesOnlyGETCallback(t *testing.T) {
	gh := newFakeGitHub(t)
	r := start(t, context.Background(), gh.config())
	auth := r.authorizeURL(t)
	base := strings.TrimSuffix(redirectURI(t, auth), "/callback")
	state := auth.Query().Get("state")
	good := url.Values{"state": {state}, "code": {testCode}}.Encode()

	c := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, u string, host string) browserPage {
		req, err := http.NewRequest(method, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return browserPage{status: resp.StatusCode, header: resp.Header, body: string(b)}
	}
	for _, path := range []string{"/", "/favicon.ico", "/callback/", "/Callback", "/callback/x", "/login"} {
		p := do(http.MethodGet, base+path+"?"+good, "")
		checkPage(t, p, state)
		if p.status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, p.status)
		}
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead, http.MethodOptions, http.MethodPatch} {
		p := do(m, base+"/callback?"+good, "")
		if p.status != http.StatusMethodNotAllowed || p.header.Get("Allow") != http.MethodGet {
			t.Errorf("%s /callback = %d (Allow %q), want 405 with Allow: GET", m, p.status, p.header.Get("Allow"))
		}
		if m != http.MethodHead {
			checkPage(t, p, state)
		}
	}
	// A request addressed to another host name (DNS rebinding) is refused.
	p := do(http.MethodGet, base+"/callback?"+good, "evil.example:"+mustParse(t, base).Port())
	if p.status != http.StatusMisdirectedRequest {
		t.Errorf("GET with a foreign Host = %d, want 421", p.status)
	}
	select {
	case <-r.done:
		t.Fatalf("a bad request ended the flow: %v", r.err)
	default:
	}
	if n := len(gh.tokenCalls()); n != 0 {
		t.Fatalf("%d token requests from bad requests", n)
	}
	p = browserGet(auth.String())
	if p.status != http.StatusOK {
		t.Fatalf("real callback: %d %s", p.status, p.body)
	}
	if _, err := r.wait(t); err != nil {
		t.Fatal(err)
	}
}

func TestLoginSecondCallback(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.tokenGate = make(chan struct{})
	r := start(t, context.Background(), gh.config())
	auth := r.authorizeURL(t)
	host := mustParse(t, redirectURI(t, auth)).Host

	// A connection accepted before the flow ends, used only afterwards.
	early, err := net.Dial("tcp4", host)
	if err != nil {
		t.Fatal(err)
	}
	defer early.Close()

	first := make(chan browserPage, 1)
	go func() { first <- browserGet(auth.String()) }()
	<-gh.tokenEntered

	// While the code is being exchanged, the same callback again (a reload,
	// or an attacker who saw the URL) is not used.
	p := browserGet(gh.callbackURL())
	checkPage(t, p, testCode)
	if p.status != http.StatusConflict || !strings.Contains(p.body, "already finished") {
		t.Errorf("second callback during the exchange: %d %s", p.status, p.body)
	}
	close(gh.tokenGate)
	if _, err := r.wait(t); err != nil {
		t.Fatalf("Login: %v", err)
	}
	if p := <-first; p.status != http.StatusOK {
		t.Errorf("first callback: %d %s", p.status, p.body)
	}

	// After the end, on the connection opened before it.
	req := "GET " + mustParse(t, gh.callbackURL()).RequestURI() + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n"
	if _, err := io.WriteString(early, req); err != nil {
		t.Fatal(err)
	}
	_ = early.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(early), nil)
	if err != nil {
		t.Fatalf("reading the late reply: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(b), "already finished") {
		t.Errorf("callback after the end: %d %s", resp.StatusCode, b)
	}
	if n := len(gh.tokenCalls()); n != 1 {
		t.Errorf("%d token requests, want exactly 1", n)
	}
	// And new connections are refused.
	checkRefused(t, redirectURI(t, auth))
}

func TestLoginTimeout(t *testing.T) {
	gh := newFakeGitHub(t)
	cfg := gh.config()
	cfg.Timeout = 100 * time.Millisecond
	r := start(t, context.Background(), cfg)
	auth := r.authorizeURL(t)
	_, err := r.wait(t)
	var te *oauth.TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("Login = %v, want *oauth.TimeoutError", err)
	}
	want := "no answer from the browser within 100ms"
	if err.Error() != want || te.Flow != oauth.FlowWeb || te.After != 100*time.Millisecond {
		t.Errorf("error %#v, want %q from the web flow after 100ms", te, want)
	}
	if oauth.ErrorCode(err) != "timeout" {
		t.Errorf("ErrorCode = %q", oauth.ErrorCode(err))
	}
	evs := r.eventList()
	if last := evs[len(evs)-1]; last.Kind != KindError || !errors.As(last.Err, &te) {
		t.Errorf("last event %+v, want the timeout error", last)
	}
	checkRefused(t, redirectURI(t, auth))
}

func TestLoginDefaultTimeout(t *testing.T) {
	gh := newFakeGitHub(t)
	cfg := gh.config()
	cfg.Timeout = 0
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before := time.Now()
	r := start(t, ctx, cfg)
	r.authorizeURL(t)
	cancel()
	r.wait(t)
	exp := r.eventList()[0].ExpiresAt
	if d := exp.Sub(before); d < DefaultTimeout || d > DefaultTimeout+10*time.Second {
		t.Errorf("ExpiresAt is %v after the start, want %v", d, DefaultTimeout)
	}
}

func TestLoginTimeoutDuringExchange(t *testing.T) {
	// A callback that arrived in time is not cut off by the timeout while
	// its code is being exchanged.
	gh := newFakeGitHub(t)
	gh.tokenGate = make(chan struct{})
	cfg := gh.config()
	cfg.Timeout = 300 * time.Millisecond
	op, pages := browserOpener()
	cfg.Opener = op
	r := start(t, context.Background(), cfg)
	r.authorizeURL(t)
	<-gh.tokenEntered
	time.Sleep(2 * cfg.Timeout) // let the timer fire during the exchange
	close(gh.tokenGate)
	tok, err := r.wait(t)
	if err != nil || tok.AccessToken != canaryToken {
		t.Fatalf("Login = %v, %v; want the token", tok, err)
	}
	if p := <-pages; p.status != http.StatusOK {
		t.Errorf("page %d", p.status)
	}
}

func TestLoginCancel(t *testing.T) {
	gh := newFakeGitHub(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := start(t, ctx, gh.config())
	auth := r.authorizeURL(t)
	cancel()
	began := time.Now()
	_, err := r.wait(t)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Login = %v, want context.Canceled", err)
	}
	if d := time.Since(began); d > time.Second {
		t.Errorf("Login took %v to notice the cancellation", d)
	}
	if oauth.ErrorCode(err) != "cancelled" {
		t.Errorf("ErrorCode = %q", oauth.ErrorCode(err))
	}
	if ks := r.kinds(); ks[len(ks)-1] != KindError {
		t.Errorf("events %v: want error last", ks)
	}
	checkRefused(t, redirectURI(t, auth))
}

func TestLoginCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	gh := newFakeGitHub(t)
	if _, err := gh.config().Login(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Login = %v", err)
	}
}

func TestLoginCancelDuringExchange(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.tokenGate = make(chan struct{})
	defer close(gh.tokenGate)
	cfg := gh.config()
	op, pages := browserOpener()
	cfg.Opener = op
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := start(t, ctx, cfg)
	auth := r.authorizeURL(t)
	<-gh.tokenEntered
	cancel()
	if _, err := r.wait(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("Login = %v, want context.Canceled", err)
	}
	checkRefused(t, redirectURI(t, auth))
	p := <-pages
	checkPage(t, p, testCode)
	if p.status == http.StatusOK || !strings.Contains(p.body, "cancelled") {
		t.Errorf("page after cancel: %d %s", p.status, p.body)
	}
}

func TestLoginExchangeErrors(t *testing.T) {
	cases := []struct {
		name   string
		status int
		reply  map[string]string
		check  func(t *testing.T, err error)
		onPage string
	}{
		{"incorrect_client_credentials", 200, map[string]string{"error": "incorrect_client_credentials",
			"error_description": "The client_id and/or client_secret passed are incorrect.",
			"error_uri":         "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#incorrect-client-credentials"},
			nil, "The client_id and/or client_secret passed are incorrect."},
		{"bad_verification_code", 200, map[string]string{"error": "bad_verification_code",
			"error_description": "The code passed is incorrect or expired.",
			"error_uri":         "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code"},
			nil, "The code passed is incorrect or expired."},
		{"redirect_uri_mismatch", 200, map[string]string{"error": "redirect_uri_mismatch",
			"error_description": "The redirect_uri MUST match the registered callback URL for this application.",
			"error_uri":         "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#redirect-uri-mismatch2"},
			nil, "The redirect_uri MUST match the registered callback URL for this application."},
		{"server error", 503, map[string]string{"message": "unavailable"}, func(t *testing.T, err error) {
			var he *oauth.HTTPError
			if !errors.As(err, &he) || he.StatusCode != 503 {
				t.Errorf("Login = %v, want *oauth.HTTPError 503", err)
			}
		}, "HTTP 503"},
		{"no access_token", 200, map[string]string{"token_type": "bearer"}, func(t *testing.T, err error) {
			var he *oauth.HTTPError
			if !errors.As(err, &he) {
				t.Errorf("Login = %v, want *oauth.HTTPError", err)
			}
		}, "no access_token"},
		{"description echoing the code", 200, map[string]string{"error": "bad_verification_code",
			"error_description": "The code " + testCode + " is incorrect or expired."}, func(t *testing.T, err error) {
			if strings.Contains(err.Error(), testCode) {
				t.Errorf("the error shows the code: %v", err)
			}
		}, "[redacted]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gh := newFakeGitHub(t)
			gh.tokenReply = func(w http.ResponseWriter, _ url.Values) { writeJSON(w, tc.status, tc.reply) }
			cfg := gh.config()
			op, pages := browserOpener()
			cfg.Opener = op
			r := start(t, context.Background(), cfg)
			auth := r.authorizeURL(t)
			_, err := r.wait(t)
			if err == nil {
				t.Fatal("Login succeeded")
			}
			if tc.check != nil {
				tc.check(t, err)
			} else {
				var oe *oauth.Error
				if !errors.As(err, &oe) || oe.Code != tc.name || oe.Description != tc.reply["error_description"] || oe.URI != tc.reply["error_uri"] || oe.StatusCode != 200 {
					t.Errorf("Login = %#v, want the server's *oauth.Error", err)
				}
				if want := "the server answered " + tc.name + ": " + tc.reply["error_description"]; err.Error() != want {
					t.Errorf("message %q, want %q", err, want)
				}
			}
			evs := r.eventList()
			if last := evs[len(evs)-1]; last.Kind != KindError || last.Err != err {
				t.Errorf("last event %+v, want the returned error", last)
			}
			p := <-pages
			checkPage(t, p, testCode, auth.Query().Get("state"))
			if p.status != http.StatusBadGateway || !strings.Contains(p.body, "Login failed") || !strings.Contains(p.body, htmlEscape(tc.onPage)) {
				t.Errorf("page: %d %s", p.status, p.body)
			}
			if strings.Contains(p.body, "Logged in") {
				t.Error("a failed exchange shows success")
			}
			r.checkNoSecrets(t, testCode, gh.tokenCalls()[0].Get("code_verifier"), testClientSecret)
		})
	}
}

func TestLoginBindsLoopbackOnly(t *testing.T) {
	gh := newFakeGitHub(t)
	r := start(t, context.Background(), gh.config())
	auth := r.authorizeURL(t)
	ru := mustParse(t, redirectURI(t, auth))
	if ru.Hostname() != "127.0.0.1" {
		t.Fatalf("redirect_uri host %q, want 127.0.0.1", ru.Hostname())
	}
	port := ru.Port()
	c, err := net.DialTimeout("tcp4", "127.0.0.1:"+port, 2*time.Second)
	if err != nil {
		t.Fatalf("the server does not listen on 127.0.0.1:%s: %v", port, err)
	}
	c.Close()
	// Not on IPv6 loopback, nor on any other address of this machine.
	others := []string{"[::1]:" + port}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
			others = append(others, net.JoinHostPort(ipn.IP.String(), port))
		}
	}
	for _, addr := range others {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("the callback server accepts connections on %s", addr)
		}
	}
	if _, err := net.Listen("tcp4", "127.0.0.1:"+port); err == nil {
		t.Error("the port is free: the server did not bind 127.0.0.1")
	}
	browserGet(auth.String())
	if _, err := r.wait(t); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func TestLoginFixedPort(t *testing.T) {
	gh := newFakeGitHub(t)
	cfg := gh.config()
	cfg.Port = freePort(t)
	op, pages := browserOpener()
	cfg.Opener = op
	r := start(t, context.Background(), cfg)
	auth := r.authorizeURL(t)
	if want := fmt.Sprintf("http://127.0.0.1:%d/callback", cfg.Port); redirectURI(t, auth) != want {
		t.Errorf("redirect_uri %q, want %q", redirectURI(t, auth), want)
	}
	if _, err := r.wait(t); err != nil {
		t.Fatal(err)
	}
	<-pages
}

func TestLoginPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	gh := newFakeGitHub(t)
	cfg := gh.config()
	cfg.Port = ln.Addr().(*net.TCPAddr).Port
	var events []Event
	cfg.OnEvent = func(ev Event) { events = append(events, ev) }
	_, err = cfg.Login(context.Background())
	var le *ListenError
	if !errors.As(err, &le) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Login = %v, want *ListenError wrapping EADDRINUSE", err)
	}
	if want := fmt.Sprintf("127.0.0.1:%d", cfg.Port); le.Addr != want {
		t.Errorf("Addr = %q, want %q", le.Addr, want)
	}
	if len(events) != 1 || events[0].Kind != KindError {
		t.Errorf("events %+v, want one error", events)
	}
}

func TestLoginConfigErrors(t *testing.T) {
	gh := newFakeGitHub(t)
	cases := map[string]func(c *Config){
		"no client id":         func(c *Config) { c.Credentials.ClientID = "" },
		"relative authorize":   func(c *Config) { c.AuthorizeURL = "/login/oauth/authorize" },
		"ftp authorize":        func(c *Config) { c.AuthorizeURL = "ftp://example.com/authorize" },
		"no token url":         func(c *Config) { c.TokenURL = "" },
		"negative port":        func(c *Config) { c.Port = -1 },
		"port too big":         func(c *Config) { c.Port = 70000 },
		"extra state":          func(c *Config) { c.ExtraParams = url.Values{"state": {"fixed"}} },
		"extra redirect_uri":   func(c *Config) { c.ExtraParams = url.Values{"redirect_uri": {"https://evil.example/"}} },
		"extra code_challenge": func(c *Config) { c.ExtraParams = url.Values{"code_challenge": {"x"}} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := gh.config()
			mutate(cfg)
			_, err := cfg.Login(context.Background())
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Login = %v, want *ConfigError", err)
			}
		})
	}
}

func TestLoginOpenerDoesNotBlock(t *testing.T) {
	gh := newFakeGitHub(t)
	cfg := gh.config()
	release := make(chan struct{})
	defer close(release)
	cfg.Opener = opener.Func(func(string) error { <-release; return nil })
	r := start(t, context.Background(), cfg)
	auth := r.authorizeURL(t)
	// The browser opener has not returned; the person pastes the URL instead.
	if p := browserGet(auth.String()); p.status != http.StatusOK {
		t.Fatalf("callback: %d %s", p.status, p.body)
	}
	if _, err := r.wait(t); err != nil {
		t.Fatal(err)
	}
	for _, k := range r.kinds() {
		if k == KindBrowser {
			t.Error("a browser event although the opener never returned")
		}
	}
}

func TestLoginOpenerFailureIsReported(t *testing.T) {
	gh := newFakeGitHub(t)
	cfg := gh.config()
	cfg.Opener = opener.System{Getenv: func(k string) string {
		if k == "GHLOGIN_BROWSER" {
			return "none"
		}
		return ""
	}}
	r := start(t, context.Background(), cfg)
	auth := r.authorizeURL(t)
	deadline := time.After(10 * time.Second)
	for {
		var got *Event
		for _, ev := range r.eventList() {
			if ev.Kind == KindBrowser {
				got = &ev
			}
		}
		if got != nil {
			if !errors.Is(got.Err, opener.ErrDisabled) {
				t.Errorf("browser event error %v, want opener.ErrDisabled", got.Err)
			}
			break
		}
		select {
		case <-deadline:
			t.Fatal("no browser event")
		case <-time.After(5 * time.Millisecond):
		}
	}
	// The flow goes on: the person opens the URL by hand.
	if p := browserGet(auth.String()); p.status != http.StatusOK {
		t.Fatalf("callback: %d", p.status)
	}
	if _, err := r.wait(t); err != nil {
		t.Fatal(err)
	}
}

func TestLoginNilOnEventAndClient(t *testing.T) {
	gh := newFakeGitHub(t)
	cfg := gh.config()
	cfg.Client = nil
	urls := make(chan string, 1)
	cfg.Opener = opener.Func(func(u string) error { urls <- u; return nil })
	done := make(chan error, 1)
	go func() {
		_, err := cfg.Login(context.Background())
		done <- err
	}()
	browserGet(<-urls)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestPageRenderEscapes(t *testing.T) {
	body := string(newPages("ghlogin").failure(`<b onmouseover="x">&'`).render())
	if strings.Contains(body, "<b ") || !strings.Contains(body, "&lt;b onmouseover=&#34;x&#34;&gt;&amp;&#39;") {
		t.Errorf("not escaped: %s", body)
	}
}

// TestCallbackErrorSanitized: what the callback's error fields hold reaches
// the error only through the code's grammar check and safe.Short (no
// escapes, no bidi controls, short).
func TestCallbackErrorSanitized(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.callbackParams = url.Values{"error": {"access_denied\x1b[2J"}, "error_description": {"a\r\nb\x1b[31m\u202ec" + strings.Repeat("é", 200)}}
	cfg := gh.config()
	op, pages := browserOpener()
	cfg.Opener = op
	r := start(t, context.Background(), cfg)
	r.authorizeURL(t)
	_, err := r.wait(t)
	var oe *oauth.Error
	// The code has a grammar (RFC 6749 §4.1.2.1): one that breaks it is
	// replaced, not cleaned.
	if !errors.As(err, &oe) || oe.Code != oauth.InvalidErrorCode {
		t.Fatalf("Login = %#v", err)
	}
	if !strings.HasPrefix(oe.Description, "a  bc") || strings.ContainsAny(oe.Description, "\x1b\r\n\u202e") || len(oe.Description) > 300+len("…") || !strings.HasSuffix(oe.Description, "é…") {
		t.Errorf("description %q", oe.Description)
	}
	<-pages
}

// A program that uses the package names itself on the browser pages.
func TestPagesNameTheApp(t *testing.T) {
	ps := newPages("acme-cli")
	for _, p := range []page{ps.success, ps.badState, ps.ended, ps.misdirected, ps.failure("x")} {
		body := string(p.render())
		if strings.Contains(body, "ghlogin") || !strings.Contains(body, "<title>acme-cli: ") {
			t.Errorf("page %q names the wrong program:\n%s", p.title, body)
		}
	}
	if c := (&Config{}); c.appName() != "ghlogin" {
		t.Errorf("default app name %q", c.appName())
	}
}

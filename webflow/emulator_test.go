package webflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/opener"
	"github.com/ghlogin/ghlogin/oauth"
)

// These tests run the flow against the built-in GitHub emulator, with a Go
// http.Client as the browser.

func startEmulator(t *testing.T, cfg emulator.Config) *emulator.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := emulator.Start(ctx, "127.0.0.1:0", cfg)
	if err != nil {
		cancel()
		t.Fatalf("starting the emulator: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		srv.Close()
	})
	return srv
}

func emulatorConfig(em *emulator.Server) *Config {
	return &Config{
		Client:       &oauth.Client{Timeout: 10 * time.Second},
		Credentials:  oauth.Credentials{ClientID: emulator.DefaultClientID, ClientSecret: emulator.DefaultClientSecret},
		AuthorizeURL: em.URL() + "/login/oauth/authorize",
		TokenURL:     em.URL() + "/login/oauth/access_token",
		Scopes:       []string{"repo", "read:org"},
		Timeout:      time.Minute,
	}
}

// visit is the page a browser ended on, and that page's URL.
type visit struct {
	browserPage
	final *url.URL
}

// browse follows u like a browser.
func browse(u string) visit {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Timeout: 10 * time.Second, Jar: jar}
	resp, err := c.Get(u)
	if err != nil {
		return visit{browserPage: browserPage{err: err}}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return visit{browserPage: browserPage{status: resp.StatusCode, header: resp.Header, body: string(b), err: err}, final: resp.Request.URL}
}

// emulatorOpener is a browser that first passes the URL through rewrite.
func emulatorOpener(rewrite func(*url.URL)) (opener.Opener, <-chan visit) {
	ch := make(chan visit, 1)
	return opener.Func(func(raw string) error {
		u, err := url.Parse(raw)
		if err != nil {
			return err
		}
		if rewrite != nil {
			rewrite(u)
		}
		ch <- browse(u.String())
		return nil
	}), ch
}

func userLogin(t *testing.T, em *emulator.Server, token string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, em.URL()+"/user", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var u struct {
		Login string `json:"login"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&u); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /user: %d %v", resp.StatusCode, err)
	}
	return u.Login
}

func TestEmulatorLogin(t *testing.T) {
	em := startEmulator(t, emulator.Config{AutoApproveWeb: true})
	cfg := emulatorConfig(em)
	cfg.ExtraParams = url.Values{"login": {"hubot"}}
	op, visits := emulatorOpener(nil)
	cfg.Opener = op
	r := start(t, context.Background(), cfg)
	r.authorizeURL(t)
	tok, err := r.wait(t)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if !strings.HasPrefix(tok.AccessToken, "gho_") || tok.TokenType != "bearer" {
		t.Errorf("token %v", tok)
	}
	if got := userLogin(t, em, tok.AccessToken); got != "hubot" {
		t.Errorf("the token belongs to %q, want hubot (the login hint)", got)
	}
	v := <-visits
	checkPage(t, v.browserPage, tok.AccessToken, v.final.Query().Get("code"))
	if v.status != http.StatusOK || !strings.Contains(v.body, "Logged in") {
		t.Errorf("page %d %s", v.status, v.body)
	}
	r.checkNoSecrets(t, tok.AccessToken, v.final.Query().Get("code"))
}

func TestEmulatorPKCEMismatchRejected(t *testing.T) {
	// Someone swaps the code_challenge in the authorization request (or
	// injects a code obtained with their own challenge): the emulator
	// refuses the exchange, because ghlogin's verifier does not match.
	em := startEmulator(t, emulator.Config{AutoApproveWeb: true})
	cfg := emulatorConfig(em)
	other, err := randomString(32)
	if err != nil {
		t.Fatal(err)
	}
	op, visits := emulatorOpener(func(u *url.URL) {
		q := u.Query()
		q.Set("code_challenge", s256(other))
		u.RawQuery = q.Encode()
	})
	cfg.Opener = op
	r := start(t, context.Background(), cfg)
	r.authorizeURL(t)
	_, err = r.wait(t)
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Code != "bad_verification_code" || !strings.Contains(oe.Description, "code_verifier") {
		t.Fatalf("Login = %v, want bad_verification_code about the code_verifier", err)
	}
	if !strings.HasPrefix(err.Error(), "the server answered bad_verification_code: ") {
		t.Errorf("message %q does not give the server's answer", err)
	}
	v := <-visits
	checkPage(t, v.browserPage, v.final.Query().Get("code"))
	if v.status != http.StatusBadGateway || !strings.Contains(v.body, "Login failed") || !strings.Contains(v.body, "code_verifier") {
		t.Errorf("page %d %s", v.status, v.body)
	}
	r.checkNoSecrets(t, v.final.Query().Get("code"))
}

func TestEmulatorReplayedCodeRejected(t *testing.T) {
	em := startEmulator(t, emulator.Config{AutoApproveWeb: true})
	cfg := emulatorConfig(em)
	// PKCE off, and the second flow on the same port: the replayed code then
	// differs from a fresh one in nothing but having been used.
	cfg.DisablePKCE = true
	cfg.Port = freePort(t)
	op, visits := emulatorOpener(nil)
	cfg.Opener = op
	r := start(t, context.Background(), cfg)
	r.authorizeURL(t)
	if _, err := r.wait(t); err != nil {
		t.Fatalf("first login: %v", err)
	}
	first := <-visits
	code := first.final.Query().Get("code")
	if code == "" || first.status != http.StatusOK {
		t.Fatalf("first login ended on %v (%d)", first.final, first.status)
	}
	redirect := fmt.Sprintf("http://127.0.0.1:%d/callback", cfg.Port)

	// Replayed at the token endpoint directly.
	_, err := cfg.Client.Exchange(context.Background(), cfg.TokenURL, cfg.Credentials, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
	})
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Code != "bad_verification_code" {
		t.Fatalf("replaying the code at the token endpoint: %v, want bad_verification_code", err)
	}

	// Replayed into a new login: the callback carries the new state but the
	// old code.
	cfg2 := emulatorConfig(em)
	cfg2.DisablePKCE, cfg2.Port = true, cfg.Port
	r2 := start(t, context.Background(), cfg2)
	auth := r2.authorizeURL(t)
	if redirectURI(t, auth) != redirect {
		t.Fatalf("second flow's redirect_uri %q, want %q", redirectURI(t, auth), redirect)
	}
	p := browserGet(callbackURL(t, auth, url.Values{"state": {auth.Query().Get("state")}, "code": {code}}))
	_, err = r2.wait(t)
	if !errors.As(err, &oe) || oe.Code != "bad_verification_code" {
		t.Fatalf("second login with the replayed code: %v, want bad_verification_code", err)
	}
	checkPage(t, p, code)
	if p.status != http.StatusBadGateway || !strings.Contains(p.body, "Login failed") {
		t.Errorf("page %d %s", p.status, p.body)
	}
	r2.checkNoSecrets(t, code)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

func TestEmulatorDenied(t *testing.T) {
	// The person presses Cancel on the emulator's authorization page.
	em := startEmulator(t, emulator.Config{})
	cfg := emulatorConfig(em)
	pages := make(chan visit, 1)
	cfg.Opener = opener.Func(func(raw string) error {
		v := browse(raw)
		form := url.Values{"action": {"deny"}, "login": {"octocat"}}
		for _, m := range hiddenInput.FindAllStringSubmatch(v.body, -1) {
			form.Set(m[1], m[2])
		}
		if !form.Has("authenticity_token") {
			pages <- visit{browserPage: browserPage{err: fmt.Errorf("no form on the authorization page: %d %s", v.status, v.body)}}
			return nil
		}
		c := &http.Client{Timeout: 10 * time.Second}
		resp, err := c.PostForm(em.URL()+"/login/oauth/authorize", form)
		if err != nil {
			pages <- visit{browserPage: browserPage{err: err}}
			return nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		pages <- visit{browserPage: browserPage{status: resp.StatusCode, header: resp.Header, body: string(b)}, final: resp.Request.URL}
		return nil
	})
	r := start(t, context.Background(), cfg)
	r.authorizeURL(t)
	_, err := r.wait(t)
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Code != "access_denied" || oe.Description == "" {
		t.Fatalf("Login = %v, want access_denied with the server's description", err)
	}
	v := <-pages
	checkPage(t, v.browserPage)
	if v.status != http.StatusBadRequest || !strings.Contains(v.body, htmlEscape(oe.Description)) {
		t.Errorf("page %d %s", v.status, v.body)
	}
	if got := v.final.Port(); got != strconv.Itoa(mustParsePort(t, redirectURIFromEvents(t, r))) {
		t.Errorf("the denial landed on port %s", got)
	}
}

func redirectURIFromEvents(t *testing.T, r *run) string {
	t.Helper()
	for _, ev := range r.eventList() {
		if ev.Kind == KindAuthorize {
			return redirectURI(t, mustParse(t, ev.URL))
		}
	}
	t.Fatal("no authorize event")
	return ""
}

func mustParsePort(t *testing.T, raw string) int {
	t.Helper()
	p, err := strconv.Atoi(mustParse(t, raw).Port())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

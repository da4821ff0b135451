package interop

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/webflow"
)

// Web login from another device (paste-back) against oidc-provider: the
// browser is elsewhere, oidc-provider sends it to ghlogin's loopback
// callback on that device, where nothing listens, and the person pastes the
// address (or only the code) into the terminal. These drive package webflow
// directly, with a Paste that hands over what the test pastes.

// approveElsewhere plays the person on another device: it logs in and
// consents as approveWeb does, but the redirect to the loopback callback
// leads nowhere there; it returns that address, as the browser's address
// bar would show it.
func approveElsewhere(ctx context.Context, t *testing.T, p *provider, authorizeURL, login string) *url.URL {
	t.Helper()
	b := newBrowser(ctx, t)
	issuer, err := url.Parse(p.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	var landed *url.URL
	follow := b.client.CheckRedirect
	b.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != issuer.Host {
			landed = req.URL
			return http.ErrUseLastResponse
		}
		return follow(req, via)
	}
	pg := b.Get(authorizeURL)
	for range 8 {
		if landed != nil {
			return landed
		}
		if f, ok := pg.Form(func(f htmlForm) bool { return f.Fields.Get("prompt") == "login" }); ok {
			pg = b.Submit(pg, f, url.Values{"login": {login}, "password": {"any password"}})
			continue
		}
		if f, ok := pg.Form(func(f htmlForm) bool { return f.Fields.Get("prompt") == "consent" }); ok {
			pg = b.Submit(pg, f, nil)
			continue
		}
		t.Fatalf("unexpected page: %s\nprovider log:\n%s", pg, p.Logs())
	}
	t.Fatalf("the provider never sent the browser back; last page %s", pg)
	return nil
}

// pasteLogin is a webflow login against p whose pastes come from the test.
type pasteLogin struct {
	authorize chan string
	pastes    chan string
	rejected  chan *webflow.PasteError
	done      chan struct{}
	tok       *oauth.Token
	err       error
}

func startPasteLogin(ctx context.Context, p *provider) *pasteLogin {
	l := &pasteLogin{authorize: make(chan string, 1), pastes: make(chan string), rejected: make(chan *webflow.PasteError, 10), done: make(chan struct{})}
	cfg := &webflow.Config{
		Client:       &oauth.Client{Timeout: httpTimeout},
		Credentials:  oauth.Credentials{ClientID: publicClient},
		AuthorizeURL: p.Endpoint("/auth"),
		TokenURL:     p.Endpoint("/token"),
		Scopes:       []string{"openid", "profile"},
		Timeout:      loginTimeout,
		Paste: func(ctx context.Context) (string, error) {
			select {
			case s := <-l.pastes:
				return s, nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		},
		OnEvent: func(ev webflow.Event) {
			switch ev.Kind {
			case webflow.KindAuthorize:
				l.authorize <- ev.URL
			case webflow.KindPasteRejected:
				var pe *webflow.PasteError
				if errors.As(ev.Err, &pe) {
					l.rejected <- pe
				}
			}
		},
	}
	go func() {
		defer close(l.done)
		l.tok, l.err = cfg.Login(ctx)
	}()
	return l
}

func (l *pasteLogin) wait(t *testing.T, ctx context.Context) (*oauth.Token, error) {
	t.Helper()
	select {
	case <-l.done:
		return l.tok, l.err
	case <-ctx.Done():
		t.Fatal("the login did not end")
	}
	return nil, nil
}

func (l *pasteLogin) paste(t *testing.T, ctx context.Context, s string) {
	t.Helper()
	select {
	case l.pastes <- s:
	case <-ctx.Done():
		t.Fatal("the login did not ask for a paste")
	}
}

func TestPasteBackFullAddress(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
	defer cancel()
	l := startPasteLogin(ctx, p)
	authorize := <-l.authorize
	landed := approveElsewhere(ctx, t, p, authorize, "alice")
	if landed.Hostname() != "127.0.0.1" || landed.Path != "/callback" || landed.Query().Get("code") == "" {
		t.Fatalf("the browser ended on %s", landed.Redacted())
	}
	// A paste with another login's state is refused, and the login asks
	// again.
	forged := *landed
	q := forged.Query()
	q.Set("state", "state-of-another-login")
	forged.RawQuery = q.Encode()
	l.paste(t, ctx, forged.String())
	if pe := <-l.rejected; pe.Reason != webflow.PasteWrongState || !pe.Retryable() {
		t.Fatalf("forged paste: %v", pe)
	}
	l.paste(t, ctx, landed.String())
	tok, err := l.wait(t, ctx)
	if err != nil {
		t.Fatalf("login: %v\nprovider log:\n%s", err, p.Logs())
	}
	claims, err := userinfo(ctx, p, tok.AccessToken)
	if err != nil || claims["sub"] != "alice" {
		t.Fatalf("userinfo: %v, %v", claims, err)
	}
}

func TestPasteBackCodeOnly(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
	defer cancel()
	l := startPasteLogin(ctx, p)
	landed := approveElsewhere(ctx, t, p, <-l.authorize, "248289761001")
	code := landed.Query().Get("code")
	// A code one character off: the provider refuses it (invalid_grant),
	// and the login asks again.
	wrong := "x" + code[1:]
	if code[0] == 'x' {
		wrong = "y" + code[1:]
	}
	l.paste(t, ctx, wrong)
	pe := <-l.rejected
	var oe *oauth.Error
	if pe.Reason != webflow.PasteCodeRefused || !errors.As(pe, &oe) || oe.Code != "invalid_grant" {
		t.Fatalf("wrong code: %v", pe)
	}
	l.paste(t, ctx, code)
	tok, err := l.wait(t, ctx)
	if err != nil {
		t.Fatalf("login: %v\nprovider log:\n%s", err, p.Logs())
	}
	claims, err := userinfo(ctx, p, tok.AccessToken)
	if err != nil || claims["preferred_username"] != "bob" {
		t.Fatalf("userinfo: %v, %v", claims, err)
	}
}

// Paste-back through the binary: `ghlogin login --web --json --no-browser`
// against oidc-provider, the browser on another device. The pasted address
// (after a forged state is refused), or only its code (after a mistyped one
// is refused by the provider), completes the login with PKCE.
func TestPasteBackThroughGhlogin(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	for _, codeOnly := range []bool{false, true} {
		name := "address"
		if codeOnly {
			name = "code only"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g := newGhlogin(t, p)
			g.configure(t, map[string]string{"client_id": publicClient, "scopes": "openid profile"})
			ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
			defer cancel()
			run := g.startLoginStdin(t, "--web", "--json", "--no-browser", "--host", p.HostArg)
			ev := run.until("authorize")
			run.stderrLine("Paste the address your browser ended on (or just the code)")
			landed := approveElsewhere(ctx, t, p, ev.str("url"), "alice")
			paste := func(s string) {
				if _, err := io.WriteString(run.stdin, s+"\n"); err != nil {
					t.Fatal(err)
				}
			}
			if codeOnly {
				paste("mistyped-code-0123456789")
				run.stderrLine("Not accepted: the server did not accept the code")
				paste(landed.Query().Get("code"))
			} else {
				forged := *landed
				q := forged.Query()
				q.Set("state", "from-another-login")
				forged.RawQuery = q.Encode()
				paste(forged.String())
				run.stderrLine("Not accepted: its state does not match this login")
				paste(landed.String())
			}
			ev = run.until("success", "error")
			if exit := run.wait(); ev.name() != "success" || ev.str("login") != "alice" || exit != 0 {
				t.Fatalf("final event %v, exit %d\nstderr:\n%s\nprovider log:\n%s", ev, exit, run.stderr.String(), p.Logs())
			}
			assertStoredToken(ctx, t, g, "alice", "preferred_username", run.stdout.String(), run.stderr.String())
		})
	}
}

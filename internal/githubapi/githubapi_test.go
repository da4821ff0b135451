package githubapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
	"github.com/ghlogin/ghlogin/oauth"
)

// canary is a token that must never show up in an error message.
const canary = "gho_CANARYtoken0123456789abcdefghijklmnop"

// newServer starts an httptest server on 127.0.0.1 (httptest's default) that
// checks the request like GitHub's API would and then runs h.
func newServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			t.Errorf("method %s, want GET", r.Method)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+canary {
			t.Errorf("Authorization header %q, want Bearer and the token", got)
		}
		if got := r.Header.Get("Accept"); !strings.Contains(got, "application/vnd.github+json") || !strings.Contains(got, "application/json") {
			t.Errorf("Accept header %q", got)
		}
		if r.URL.RawQuery != "" {
			t.Errorf("unexpected query %q", r.URL.RawQuery)
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func reply(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header()[headers[i]] = append(w.Header()[headers[i]], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// noCanary fails the test when err's message holds the token.
func noCanary(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), canary) {
		t.Errorf("the error message holds the token: %q", err.Error())
	}
}

func TestGetUserLoginAndScopes(t *testing.T) {
	tests := []struct {
		name        string
		headers     []string
		scopes      []string
		scopesKnown bool
	}{
		{"comma separated", []string{"X-OAuth-Scopes", "repo, gist"}, []string{"repo", "gist"}, true},
		{"single", []string{"X-OAuth-Scopes", "read:org"}, []string{"read:org"}, true},
		{"space separated", []string{"X-OAuth-Scopes", "repo gist  read:org"}, []string{"repo", "gist", "read:org"}, true},
		{"repeated header", []string{"X-OAuth-Scopes", "repo", "X-OAuth-Scopes", "gist"}, []string{"repo", "gist"}, true},
		{"present but empty", []string{"X-OAuth-Scopes", ""}, nil, true},
		{"absent", nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/api/v3/user" {
					t.Errorf("path %q", r.URL.Path)
				}
				reply(200, `{"login":"octocat","id":1,"name":"The Octocat"}`, tt.headers...)(w, r)
			})
			c := &Client{}
			u, err := c.GetUser(context.Background(), srv.URL+"/api/v3/user", "", canary)
			if err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			if u.Login != "octocat" {
				t.Errorf("Login = %q", u.Login)
			}
			if !reflect.DeepEqual(u.Scopes, tt.scopes) || u.ScopesKnown != tt.scopesKnown {
				t.Errorf("Scopes = %#v (known %v), want %#v (known %v)", u.Scopes, u.ScopesKnown, tt.scopes, tt.scopesKnown)
			}
		})
	}
}

func TestGetUserHeadersAndHTTPClient(t *testing.T) {
	var ua atomic.Value
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		ua.Store(r.Header.Get("User-Agent"))
		reply(200, `{"login":"hubot"}`)(w, r)
	})
	var calls atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := &Client{HTTPClient: hc, UserAgent: "ghlogin/test", Timeout: 5 * time.Second}
	u, err := c.GetUser(context.Background(), srv.URL+"/user", "login", canary)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if u.Login != "hubot" {
		t.Errorf("Login = %q", u.Login)
	}
	if got := ua.Load(); got != "ghlogin/test" {
		t.Errorf("User-Agent = %v", got)
	}
	if calls.Load() != 1 {
		t.Errorf("the given HTTPClient was used %d times, want 1", calls.Load())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestGetUserLoginField(t *testing.T) {
	tests := []struct {
		field, body, want string
	}{
		{"sub", `{"sub":"248289761001","email":"j@example.com"}`, "248289761001"},
		{"preferred_username", `{"sub":"x1","preferred_username":"jane.doe"}`, "jane.doe"},
		{"login", `{"login":"mona-lisa"}`, "mona-lisa"},
		{"", `{"login":"default-field"}`, "default-field"},
		{"sub", `{"sub":"auth0|5f7c8ec7c33c6c004bbafe82"}`, "auth0|5f7c8ec7c33c6c004bbafe82"},
		{"preferred_username", `{"preferred_username":"jürgen"}`, "jürgen"},
	}
	for _, tt := range tests {
		t.Run(tt.field+"/"+tt.want, func(t *testing.T) {
			srv := newServer(t, reply(200, tt.body))
			u, err := (&Client{}).GetUser(context.Background(), srv.URL+"/userinfo", tt.field, canary)
			if err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			if u.Login != tt.want {
				t.Errorf("Login = %q, want %q", u.Login, tt.want)
			}
			if u.ScopesKnown || u.Scopes != nil {
				t.Errorf("scopes %v known %v without the header", u.Scopes, u.ScopesKnown)
			}
		})
	}
}

func TestGetUserUnauthorized(t *testing.T) {
	// The body echoes the token: it must not reach the error.
	srv := newServer(t, reply(401, `{"message":"Bad credentials `+canary+`","documentation_url":"https://docs.github.com/rest"}`))
	_, err := (&Client{}).GetUser(context.Background(), srv.URL+"/api/v3/user", "", canary)
	if err == nil {
		t.Fatal("GetUser succeeded on a 401")
	}
	var ue *UnauthorizedError
	if !errors.As(err, &ue) {
		t.Fatalf("error %T (%v) is not *UnauthorizedError", err, err)
	}
	if !IsUnauthorized(err) || !IsUnauthorized(errors.Join(errors.New("context"), err)) {
		t.Error("IsUnauthorized is false for a 401")
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	if ue.Host != host {
		t.Errorf("Host = %q, want %q", ue.Host, host)
	}
	msg := err.Error()
	for _, want := range []string{"401", "revoked or has expired", host} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q should contain %q", msg, want)
		}
	}
	noCanary(t, err)
	if oauth.IsTransient(err) {
		t.Error("a 401 is not transient")
	}
}

func TestUnauthorizedErrorMessage(t *testing.T) {
	tests := []struct {
		host, want, login string
	}{
		// github.com's API host is not where people log in.
		{"api.github.com", "api.github.com rejected the token (HTTP 401): it was revoked or has expired", "github.com"},
		{"ghe.example.com", "ghe.example.com rejected the token (HTTP 401): it was revoked or has expired", "ghe.example.com"},
		{"", "the server rejected the token (HTTP 401): it was revoked or has expired", ""},
	}
	for _, tt := range tests {
		e := &UnauthorizedError{Host: tt.host}
		if got := e.Error(); got != tt.want {
			t.Errorf("UnauthorizedError{%q}:\n got %q\nwant %q", tt.host, got, tt.want)
		}
		if got := e.LoginHost(); got != tt.login {
			t.Errorf("UnauthorizedError{%q}.LoginHost() = %q, want %q", tt.host, got, tt.login)
		}
	}
	if IsUnauthorized(errors.New("401")) || IsUnauthorized(nil) {
		t.Error("IsUnauthorized true for an unrelated error")
	}
}

func TestGetUserHTTPErrors(t *testing.T) {
	tests := []struct {
		status    int
		body      string
		transient bool
		want      string
	}{
		{403, `{"message":"Resource not accessible ` + canary + `"}`, false, "HTTP 403 Forbidden"},
		{404, `{"message":"Not Found"}`, false, "HTTP 404 Not Found"},
		{500, `<html>oops ` + canary + `</html>`, true, "HTTP 500 Internal Server Error"},
		{502, ``, true, "HTTP 502 Bad Gateway"},
		{429, `{"message":"rate limited"}`, true, "HTTP 429 Too Many Requests"},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv := newServer(t, reply(tt.status, tt.body))
			_, err := (&Client{}).GetUser(context.Background(), srv.URL+"/api/v3/user", "", canary)
			var he *oauth.HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("error %T (%v) is not *oauth.HTTPError", err, err)
			}
			if he.StatusCode != tt.status {
				t.Errorf("StatusCode = %d, want %d", he.StatusCode, tt.status)
			}
			if IsUnauthorized(err) {
				t.Error("IsUnauthorized true for a non-401")
			}
			if oauth.IsTransient(err) != tt.transient {
				t.Errorf("IsTransient = %v, want %v", !tt.transient, tt.transient)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || !strings.Contains(msg, "/api/v3/user") {
				t.Errorf("message %q should contain %q and the endpoint", msg, tt.want)
			}
			if strings.Contains(msg, "oops") || strings.Contains(msg, "Not Found\"") {
				t.Errorf("message %q holds the raw body", msg)
			}
			noCanary(t, err)
		})
	}
}

func TestGetUserBadReplies(t *testing.T) {
	long := strings.Repeat("a", 256)
	tests := []struct {
		name, body, want string
	}{
		{"not JSON", `<html><body>Sign in ` + canary + `</body></html>`, "not a JSON object"},
		{"JSON array", `["octocat"]`, "not a JSON object"},
		{"JSON string", `"octocat"`, "not a JSON object"},
		{"empty body", ``, "not a JSON object"},
		{"truncated", `{"login":"octo`, "not a JSON object"},
		{"missing field", `{"id":1,"name":"x"}`, `no usable "login" field`},
		{"empty login", `{"login":""}`, `no usable "login" field`},
		{"null login", `{"login":null}`, `no usable "login" field`},
		{"number login", `{"login":42}`, `no usable "login" field`},
		{"object login", `{"login":{"name":"x"}}`, `no usable "login" field`},
		{"newline", `{"login":"octocat\nfake: line"}`, `no usable "login" field`},
		{"carriage return", `{"login":"octocat\rmallory"}`, `no usable "login" field`},
		{"NUL", `{"login":"octo\u0000cat"}`, `no usable "login" field`},
		{"terminal escape", `{"login":"octo\u001b[2Jcat"}`, `no usable "login" field`},
		{"bidi override", `{"login":"octo\u202ecat"}`, `no usable "login" field`},
		{"c1 csi", `{"login":"octo\u009b2Jcat"}`, `no usable "login" field`},
		{"osc 52", `{"login":"octo\u001b]52;c;ZXZpbA==\u0007cat"}`, `no usable "login" field`},
		{"slash", `{"login":"../../etc/passwd"}`, `no usable "login" field`},
		{"backslash", `{"login":"octo\\cat"}`, `no usable "login" field`},
		{"dot dot", `{"login":".."}`, `no usable "login" field`},
		{"space", `{"login":"octo cat"}`, `no usable "login" field`},
		{"tab", `{"login":"octo\tcat"}`, `no usable "login" field`},
		{"too long", `{"login":"` + long + `"}`, `no usable "login" field`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, reply(200, tt.body))
			u, err := (&Client{}).GetUser(context.Background(), srv.URL+"/user", "", canary)
			if err == nil {
				t.Fatalf("GetUser accepted %s: %+v", tt.body, u)
			}
			var he *oauth.HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("error %T (%v) is not *oauth.HTTPError", err, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("message %q should contain %q", msg, tt.want)
			}
			if strings.ContainsAny(msg, "\n\r\x00\x1b") || strings.Contains(msg, "octocat") || strings.Contains(msg, "passwd") {
				t.Errorf("message %q carries the server's text", msg)
			}
			noCanary(t, err)
		})
	}

	// The longest accepted login is 255 bytes.
	srv := newServer(t, reply(200, `{"login":"`+long[:255]+`"}`))
	if u, err := (&Client{}).GetUser(context.Background(), srv.URL+"/user", "", canary); err != nil || u.Login != long[:255] {
		t.Errorf("a 255-byte login: %v, %v", u, err)
	}
	// The error names the configured field.
	srv = newServer(t, reply(200, `{"login":"octocat"}`))
	_, err := (&Client{}).GetUser(context.Background(), srv.URL+"/userinfo", "preferred_username", canary)
	var lf *LoginFieldError
	var he *oauth.HTTPError
	if !errors.As(err, &lf) || lf.Field != "preferred_username" || !strings.Contains(err.Error(), `"preferred_username"`) || !errors.As(err, &he) || he.StatusCode != 200 {
		t.Errorf("missing custom field: %v", err)
	}
}

func TestGetUserBodyTooLarge(t *testing.T) {
	pad := strings.Repeat("x", oauth.MaxBodyBytes)
	srv := newServer(t, reply(200, `{"login":"octocat","pad":"`+pad+`"}`, "X-OAuth-Scopes", "repo"))
	_, err := (&Client{}).GetUser(context.Background(), srv.URL+"/user", "", canary)
	var he *oauth.HTTPError
	if !errors.As(err, &he) {
		t.Fatalf("error %T (%v) is not *oauth.HTTPError", err, err)
	}
	if !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("message %q should say the reply is too large", err.Error())
	}
	noCanary(t, err)

	// Exactly 1 MiB is accepted.
	body := `{"login":"octocat","pad":""}`
	body = `{"login":"octocat","pad":"` + strings.Repeat("x", oauth.MaxBodyBytes-len(body)) + `"}`
	srv = newServer(t, reply(200, body))
	if u, err := (&Client{}).GetUser(context.Background(), srv.URL+"/user", "", canary); err != nil || u.Login != "octocat" {
		t.Errorf("a 1 MiB reply: %v, %v", u, err)
	}
}

// hanging returns a handler that never answers until the client goes away or
// the test ends, and a channel closed when the request arrived.
func hanging(t *testing.T) (http.HandlerFunc, <-chan struct{}) {
	arrived := make(chan struct{})
	var once atomic.Bool
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	return func(w http.ResponseWriter, r *http.Request) {
		if once.CompareAndSwap(false, true) {
			close(arrived)
		}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}, arrived
}

func TestGetUserTimeout(t *testing.T) {
	h, _ := hanging(t)
	srv := newServer(t, h)
	start := time.Now()
	_, err := (&Client{Timeout: 50 * time.Millisecond}).GetUser(context.Background(), srv.URL+"/user", "", canary)
	elapsed := time.Since(start)
	if elapsed > 300*time.Millisecond {
		t.Errorf("GetUser took %v with a 50ms timeout", elapsed)
	}
	var ne *oauth.NetworkError
	if !errors.As(err, &ne) {
		t.Fatalf("error %T (%v) is not *oauth.NetworkError", err, err)
	}
	if !ne.Timeout() {
		t.Errorf("NetworkError.Timeout() is false for %v", err)
	}
	if !oauth.IsTransient(err) {
		t.Error("a timeout should be transient")
	}
	if !strings.Contains(err.Error(), "could not reach") || !strings.Contains(err.Error(), "/user") {
		t.Errorf("message %q should name the endpoint", err.Error())
	}
	noCanary(t, err)
}

func TestGetUserHeaderTimeoutWithCustomClient(t *testing.T) {
	// The Client.Timeout also bounds calls through a caller's http.Client
	// that has no timeout of its own.
	h, _ := hanging(t)
	srv := newServer(t, h)
	start := time.Now()
	_, err := (&Client{HTTPClient: &http.Client{}, Timeout: 50 * time.Millisecond}).GetUser(context.Background(), srv.URL+"/user", "", canary)
	if time.Since(start) > 300*time.Millisecond {
		t.Errorf("GetUser took %v with a 50ms timeout", time.Since(start))
	}
	var ne *oauth.NetworkError
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("error %T (%v) is not a timeout *oauth.NetworkError", err, err)
	}
}

func TestGetUserConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = (&Client{Timeout: 2 * time.Second}).GetUser(context.Background(), "http://"+addr+"/api/v3/user?x=1", "", canary)
	var ne *oauth.NetworkError
	if !errors.As(err, &ne) {
		t.Fatalf("error %T (%v) is not *oauth.NetworkError", err, err)
	}
	if ne.Endpoint != "http://"+addr+"/api/v3/user" {
		t.Errorf("Endpoint = %q (the query must not be in it)", ne.Endpoint)
	}
	if ne.Timeout() {
		t.Error("a refused connection is not a timeout")
	}
	var sysErr *net.OpError
	if !errors.As(err, &sysErr) {
		t.Errorf("the cause %v is not a *net.OpError", ne.Err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "could not reach") || !strings.Contains(msg, "check your network connection") {
		t.Errorf("message %q should say what to do", msg)
	}
	noCanary(t, err)
}

func TestGetUserContextCancel(t *testing.T) {
	h, arrived := hanging(t)
	srv := newServer(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	start := time.Now()
	_, err := (&Client{Timeout: 10 * time.Second}).GetUser(ctx, srv.URL+"/user", "", canary)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %T (%v), want context.Canceled", err, err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("cancel took %v", time.Since(start))
	}
	if oauth.IsTransient(err) {
		t.Error("a cancellation is not transient")
	}

	// A context that is already cancelled sends nothing.
	var hits atomic.Int32
	srv2 := newServer(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := (&Client{}).GetUser(ctx, srv2.URL+"/user", "", canary); !errors.Is(err, context.Canceled) {
		t.Errorf("pre-cancelled: %v, want context.Canceled", err)
	}
	if hits.Load() != 0 {
		t.Errorf("the server got %d requests on a cancelled context", hits.Load())
	}

	// The caller's deadline is a timeout, reported as a network error.
	h3, _ := hanging(t)
	srv3 := newServer(t, h3)
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err = (&Client{Timeout: 10 * time.Second}).GetUser(ctx, srv3.URL+"/user", "", canary)
	var ne *oauth.NetworkError
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("caller deadline: %T %v, want a timeout *oauth.NetworkError", err, err)
	}
}

func TestGetUserInvalidURL(t *testing.T) {
	for _, u := range []string{
		"",
		"api.github.com/user",
		"ftp://127.0.0.1/user",
		"file:///etc/passwd",
		"https:///user",
		"://127.0.0.1/user",
		"https://127.0.0.1:badport/user",
		"https://127.0.0.1/us\ner",
	} {
		_, err := (&Client{}).GetUser(context.Background(), u, "", canary)
		if err == nil {
			t.Errorf("GetUser(%q) succeeded", u)
			continue
		}
		if !strings.Contains(err.Error(), "invalid user info URL") {
			t.Errorf("GetUser(%q): %v, want an invalid URL error", u, err)
		}
		noCanary(t, err)
	}
}

func TestGetUserRedirectDropsToken(t *testing.T) {
	// A redirect to another host must not carry the token there.
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Authorization"), canary) {
			leaked.Store(true)
		}
		reply(200, `{"login":"mallory"}`)(w, r)
	}))
	t.Cleanup(other.Close)
	// "localhost" and "127.0.0.1" are different hosts to net/http.
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherURL+"/user", http.StatusFound)
	})
	_, err := (&Client{Timeout: 5 * time.Second}).GetUser(context.Background(), srv.URL+"/user", "", canary)
	if leaked.Load() {
		t.Error("the token was sent to the redirect target")
	}
	// The request carries the token: it follows no redirect at all, and
	// the error names the endpoint and where it pointed.
	var re *safehttp.RedirectError
	if !errors.As(err, &re) || !re.Secret || re.LocationHost != strings.TrimPrefix(otherURL, "http://") ||
		!strings.Contains(err.Error(), srv.URL+"/user") {
		t.Fatalf("err = %v, want a *safehttp.RedirectError naming %s/user and %s", err, srv.URL, otherURL)
	}
	noCanary(t, err)
}

func TestGetUserRedirectSameHostOtherPort(t *testing.T) {
	// Go keeps the Authorization header when only the port changes.
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(other.Close)
	for _, status := range []int{301, 302, 307, 308} {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/user", status)
		})
		_, err := (&Client{Timeout: 5 * time.Second}).GetUser(context.Background(), srv.URL+"/user", "", canary)
		if !safehttp.IsRedirectRefused(err) {
			t.Errorf("%d: err = %v, want a refused redirect", status, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the other port received %d requests", n)
	}
}

// X-OAuth-Scopes is server text: only scope-tokens (RFC 6749 §3.3) are
// kept. (Go's HTTP client already refuses a header holding ESC or BEL;
// C1 controls and bidi overrides, as UTF-8, pass it.)
func TestGetUserScopesGrammar(t *testing.T) {
	srv := newServer(t, reply(200, `{"login":"octocat"}`, "X-OAuth-Scopes", "repo, \u009b2Jgist, read:org, \u202eevil, \"quoted\""))
	u, err := (&Client{}).GetUser(context.Background(), srv.URL+"/user", "", canary)
	if err != nil {
		t.Fatal(err)
	}
	if !u.ScopesKnown || strings.Join(u.Scopes, " ") != "repo read:org" {
		t.Errorf("Scopes = %q, want only the valid scope-tokens", u.Scopes)
	}
}

// TestEchoedTokenNeverInErrors: a server that echoes the bearer token (and
// the refresh token the caller names with oauth.WithSecrets) in its
// challenge, its redirect or as the login gets none of them into an error
// or a User.
func TestEchoedTokenNeverInErrors(t *testing.T) {
	const refresh = "ghr_CANARYrefresh0123456789abcdef"
	ctx := oauth.WithSecrets(context.Background(), refresh)
	for name, h := range map[string]http.HandlerFunc{
		"challenge": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+canary+` and `+refresh+`"`)
			w.WriteHeader(http.StatusUnauthorized)
		},
		"redirect": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://"+strings.ToLower(canary)+".localhost:1/", http.StatusFound)
		},
		"login": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"login":"` + canary + `","name":"` + refresh + `"}`))
		},
	} {
		srv := newServer(t, h)
		u, err := (&Client{}).GetUser(ctx, srv.URL+"/user", "", canary)
		if err == nil {
			t.Fatalf("%s: GetUser = %+v", name, u)
		}
		msg := strings.ToLower(err.Error())
		var ue *UnauthorizedError
		if errors.As(err, &ue) {
			msg += strings.ToLower(ue.Description)
		}
		var re *safehttp.RedirectError
		if errors.As(err, &re) {
			msg += re.LocationHost
		}
		if strings.Contains(msg, strings.ToLower(canary)) || strings.Contains(msg, strings.ToLower(refresh)) {
			t.Errorf("%s: the error holds a token: %v", name, err)
		}
	}
}

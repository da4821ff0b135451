package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/safe"
)

// seen is what the test server received.
type seen struct {
	header http.Header
	form   url.Values
	user   string
	pass   string
	basic  bool
	method string
}

// serve starts a loopback server that records each request and answers
// with h.
func serve(t *testing.T, h http.HandlerFunc) (*httptest.Server, func() []seen) {
	t.Helper()
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		u, p, ok := r.BasicAuth()
		mu.Lock()
		got = append(got, seen{header: r.Header.Clone(), form: r.PostForm, user: u, pass: p, basic: ok, method: r.Method})
		mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []seen {
		mu.Lock()
		defer mu.Unlock()
		return append([]seen(nil), got...)
	}
}

func answer(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

const secretToken = "gho_SECRETCANARY0123456789abcdefghijklmn"

func TestExchangeJSONAndFormReplies(t *testing.T) {
	cases := []struct {
		name        string
		contentType string
		body        string
	}{
		{"json", "application/json; charset=utf-8", `{"access_token":"` + secretToken + `","token_type":"bearer","scope":"repo,gist","expires_in":28800,"refresh_token":"ghr_r","refresh_token_expires_in":"15811200"}`},
		{"form", "application/x-www-form-urlencoded; charset=utf-8", "access_token=" + secretToken + "&token_type=bearer&scope=repo%2Cgist&expires_in=28800&refresh_token=ghr_r&refresh_token_expires_in=15811200"},
		{"text/plain form", "text/plain", "access_token=" + secretToken + "&token_type=bearer&scope=repo%2Cgist&expires_in=28800&refresh_token=ghr_r&refresh_token_expires_in=15811200"},
		{"json without content type", "", ` {"access_token":"` + secretToken + `","token_type":"bearer","scope":"repo,gist","expires_in":"28800","refresh_token":"ghr_r","refresh_token_expires_in":15811200}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := serve(t, answer(200, tc.contentType, tc.body))
			tok, err := (&Client{}).Exchange(context.Background(), srv.URL+"/token", Credentials{ClientID: "id"}, url.Values{"grant_type": {"x"}})
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != secretToken || tok.TokenType != "bearer" || tok.Scope != "repo,gist" ||
				tok.ExpiresIn != 28800 || tok.RefreshToken != "ghr_r" || tok.RefreshTokenExpiresIn != 15811200 {
				t.Errorf("token = %+v", *tok)
			}
			if got := tok.Scopes(); len(got) != 2 || got[0] != "repo" || got[1] != "gist" {
				t.Errorf("scopes = %v", got)
			}
		})
	}
}

func TestErrorFieldWhateverStatus(t *testing.T) {
	type want struct {
		code, desc, uri string
		interval        Seconds
	}
	bodies := []struct {
		name, contentType, body string
		want                    want
	}{
		{"json", "application/json", `{"error":"slow_down","error_description":"Too many requests have been made in the same timeframe.","error_uri":"https://docs.github.com/x","interval":10}`,
			want{"slow_down", "Too many requests have been made in the same timeframe.", "https://docs.github.com/x", 10}},
		{"form", "application/x-www-form-urlencoded", "error=slow_down&error_description=Too+many+requests&error_uri=https%3A%2F%2Fdocs.github.com%2Fx&interval=15",
			want{"slow_down", "Too many requests", "https://docs.github.com/x", 15}},
		{"json interval string", "application/json", `{"error":"slow_down","interval":"20"}`, want{"slow_down", "", "", 20}},
		{"access_denied", "application/json", `{"error":"access_denied"}`, want{"access_denied", "", "", 0}},
	}
	for _, status := range []int{200, 400, 401} {
		for _, b := range bodies {
			t.Run(fmt.Sprintf("%d/%s", status, b.name), func(t *testing.T) {
				srv, _ := serve(t, answer(status, b.contentType, b.body))
				_, err := (&Client{}).Exchange(context.Background(), srv.URL, Credentials{ClientID: "id"}, nil)
				var oe *Error
				if !errors.As(err, &oe) {
					t.Fatalf("err = %T %v, want *Error", err, err)
				}
				got := want{oe.Code, oe.Description, oe.URI, oe.Interval}
				if got != b.want || oe.StatusCode != status {
					t.Errorf("got %+v status %d, want %+v status %d", got, oe.StatusCode, b.want, status)
				}
				if IsTransient(err) {
					t.Error("an OAuth error counted as transient")
				}
				if ErrorCode(err) != b.want.code {
					t.Errorf("ErrorCode = %q", ErrorCode(err))
				}
			})
		}
	}
}

func TestErrorMessages(t *testing.T) {
	// The message is the server's code and description, and nothing else:
	// what to do about it is for the program to say.
	for _, tc := range []struct {
		err  *Error
		want string
	}{
		{&Error{Code: "access_denied", Description: "desc"}, "the server answered access_denied: desc"},
		{&Error{Code: "device_flow_disabled"}, "the server answered device_flow_disabled"},
		{&Error{Code: "weird"}, "the server answered weird"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%#v: message %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestErrorDescriptionSanitized(t *testing.T) {
	body, _ := json.Marshal(map[string]string{"error": "access_denied", "error_description": "denied\x1b[2J\r\nnow" + strings.Repeat("x", 400)})
	srv, _ := serve(t, answer(200, "application/json", string(body)))
	_, err := (&Client{}).Exchange(context.Background(), srv.URL, Credentials{ClientID: "id"}, nil)
	var oe *Error
	if !errors.As(err, &oe) {
		t.Fatal(err)
	}
	if strings.ContainsAny(oe.Description, "\x1b\r\n") {
		t.Errorf("control characters kept: %q", oe.Description)
	}
	if len(oe.Description) > 310 {
		t.Errorf("description not shortened: %d bytes", len(oe.Description))
	}
}

func TestBodyCap(t *testing.T) {
	pad := func(n int) string {
		head := `{"access_token":"` + secretToken + `","pad":"`
		return head + strings.Repeat("a", n-len(head)-2) + `"}`
	}
	exact := pad(MaxBodyBytes)
	if len(exact) != MaxBodyBytes {
		t.Fatalf("bad test body: %d", len(exact))
	}
	srv, _ := serve(t, answer(200, "application/json", exact))
	if _, err := (&Client{}).Exchange(context.Background(), srv.URL, Credentials{}, nil); err != nil {
		t.Errorf("1 MiB reply refused: %v", err)
	}
	srv2, _ := serve(t, answer(200, "application/json", pad(MaxBodyBytes+1)))
	_, err := (&Client{}).Exchange(context.Background(), srv2.URL, Credentials{}, nil)
	var he *HTTPError
	if !errors.As(err, &he) || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Fatalf("err = %v, want the reply refused as too large", err)
	}
	if strings.Contains(err.Error(), secretToken) {
		t.Error("the body leaked into the error")
	}
	// A server that never stops sending is cut off too.
	srv3, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		chunk := []byte(strings.Repeat(" ", 64<<10))
		for i := 0; i < 64; i++ { // 4 MiB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	if _, err := (&Client{}).Exchange(context.Background(), srv3.URL, Credentials{}, nil); !errors.As(err, &he) {
		t.Errorf("endless reply: err = %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                                 0,
		"30":                               30 * time.Second,
		" 7 ":                              7 * time.Second,
		"0":                                0,
		"-5":                               0,
		"999999":                           time.Hour,
		"soon":                             0,
		"Sat, 01 Mar 2025 12:00:45 GMT":    45 * time.Second,
		"Sat, 01 Mar 2025 11:59:00 GMT":    0,
		"Sun, 02 Mar 2025 12:00:00 GMT":    time.Hour,
		"Saturday, 01-Mar-25 12:01:00 GMT": time.Minute,
	}
	for v, want := range cases {
		if got := ParseRetryAfter(v, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestRetryAfterFromServer(t *testing.T) {
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	cases := []struct {
		name   string
		h      http.HandlerFunc
		status int
		min    time.Duration
		max    time.Duration
	}{
		{"429 seconds", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "42")
			w.WriteHeader(429)
		}, 429, 42 * time.Second, 42 * time.Second},
		{"503 date", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", date)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(503)
			_, _ = io.WriteString(w, "<h1>down</h1>")
		}, 503, 85 * time.Second, 91 * time.Second},
		{"503 json error", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "12")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(503)
			_, _ = io.WriteString(w, `{"error":"temporarily_unavailable"}`)
		}, 503, 12 * time.Second, 12 * time.Second},
		{"500 none", answer(500, "", ""), 500, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := serve(t, tc.h)
			_, err := (&Client{}).Exchange(context.Background(), srv.URL, Credentials{}, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if ra := RetryAfter(err); ra < tc.min || ra > tc.max {
				t.Errorf("RetryAfter = %v, want %v..%v (%v)", ra, tc.min, tc.max, err)
			}
		})
	}
	if RetryAfter(errors.New("x")) != 0 || RetryAfter(nil) != 0 {
		t.Error("RetryAfter of a plain error")
	}
}

func TestHTTPErrors(t *testing.T) {
	cases := []struct {
		status    int
		transient bool
	}{
		{500, true}, {502, true}, {503, true}, {504, true}, {429, true}, {408, true},
		{404, false}, {400, false}, {403, false},
	}
	for _, tc := range cases {
		srv, _ := serve(t, answer(tc.status, "text/html", "<html>secret-body-"+secretToken+"</html>"))
		_, err := (&Client{}).Exchange(context.Background(), srv.URL, Credentials{}, nil)
		var he *HTTPError
		if !errors.As(err, &he) || he.StatusCode != tc.status {
			t.Errorf("%d: err = %v", tc.status, err)
			continue
		}
		if IsTransient(err) != tc.transient {
			t.Errorf("%d: transient = %v", tc.status, !tc.transient)
		}
		if ErrorCode(err) != "network" {
			t.Errorf("%d: ErrorCode = %q", tc.status, ErrorCode(err))
		}
		if msg := err.Error(); strings.Contains(msg, "secret-body") || !strings.Contains(msg, fmt.Sprint(tc.status)) {
			t.Errorf("%d: message = %q", tc.status, msg)
		}
	}
}

func TestUnusableSuccessReplies(t *testing.T) {
	cases := []struct {
		name, contentType, body, says string
	}{
		{"html", "text/html", "<html>portal</html>", "HTML page"},
		{"html without a content type", "", "<!DOCTYPE html><html>portal</html>", "HTML page"},
		{"xml", "application/xml", "<reply/>", "unexpected content type"},
		{"broken json", "application/json", `{"access_token":`, "not valid JSON"},
		{"wrong type", "application/json", `{"access_token":42}`, "unexpected reply"},
		{"no token", "application/json", `{"token_type":"bearer"}`, "no access_token"},
		{"token with newline", "application/x-www-form-urlencoded", "access_token=abc%0Adef", "malformed access_token"},
		{"refresh with space", "application/json", `{"access_token":"ok","refresh_token":"a b"}`, "malformed refresh_token"},
		{"bad expires_in", "application/json", `{"access_token":"ok","expires_in":"soon"}`, "unexpected reply"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := serve(t, answer(200, tc.contentType, tc.body))
			_, err := (&Client{}).Exchange(context.Background(), srv.URL, Credentials{}, nil)
			var he *HTTPError
			if !errors.As(err, &he) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v, want HTTPError saying %q", err, tc.says)
			}
			if IsTransient(err) {
				t.Error("an unusable 200 counted as transient")
			}
			if strings.Contains(err.Error(), "abc") {
				t.Error("the token leaked into the error")
			}
		})
	}
}

func TestAuthStyles(t *testing.T) {
	const id, secret = "Iv1.id+x", "s3cr:et&=/"
	cases := []struct {
		name      string
		creds     Credentials
		basic     bool
		bodyID    string
		bodySecet string
	}{
		{"body with secret", Credentials{ClientID: id, ClientSecret: secret, Style: AuthInBody}, false, id, secret},
		{"body public", Credentials{ClientID: id}, false, id, ""},
		{"basic with secret", Credentials{ClientID: id, ClientSecret: secret, Style: AuthBasic}, true, "", ""},
		{"basic public", Credentials{ClientID: id, Style: AuthBasic}, false, id, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, got := serve(t, answer(200, "application/json", `{"access_token":"t"}`))
			form := url.Values{"grant_type": {"authorization_code"}, "code": {"c"}}
			if _, err := (&Client{}).Exchange(context.Background(), srv.URL, tc.creds, form); err != nil {
				t.Fatal(err)
			}
			s := got()[0]
			if s.basic != tc.basic {
				t.Fatalf("basic auth sent = %v, want %v", s.basic, tc.basic)
			}
			if tc.basic {
				// RFC 6749 §2.3.1: form-urlencoded, then Basic.
				if s.user != url.QueryEscape(id) || s.pass != url.QueryEscape(secret) {
					t.Errorf("basic = %q:%q", s.user, s.pass)
				}
				if u, _ := url.QueryUnescape(s.user); u != id {
					t.Errorf("user decodes to %q", u)
				}
			}
			if s.form.Get("client_id") != tc.bodyID || s.form.Get("client_secret") != tc.bodySecet {
				t.Errorf("body credentials = %q / %q", s.form.Get("client_id"), s.form.Get("client_secret"))
			}
			if _, ok := s.form["client_secret"]; ok && tc.bodySecet == "" {
				t.Error("an empty client_secret was sent")
			}
			if s.form.Get("grant_type") != "authorization_code" || s.form.Get("code") != "c" {
				t.Errorf("form = %v", s.form)
			}
			if form.Get("client_id") != "" {
				t.Error("the caller's form was modified")
			}
		})
	}
}

func TestParseAuthStyle(t *testing.T) {
	for in, want := range map[string]AuthStyle{"": AuthInBody, "body": AuthInBody, " Basic ": AuthBasic, "header": AuthBasic} {
		if got, err := ParseAuthStyle(in); err != nil || got != want {
			t.Errorf("ParseAuthStyle(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseAuthStyle("jwt"); err == nil {
		t.Error("accepted jwt")
	}
	if AuthBasic.String() != "basic" || AuthInBody.String() != "body" {
		t.Error("String")
	}
}

func TestHeaders(t *testing.T) {
	srv, got := serve(t, answer(200, "application/json", `{"access_token":"t"}`))
	c := &Client{UserAgent: "ghlogin/test"}
	_, _ = c.Exchange(context.Background(), srv.URL, Credentials{ClientID: "id"}, nil)
	var out struct{}
	_ = (&Client{}).Post(context.Background(), srv.URL, Credentials{}, nil, &out)
	srvErr, gotErr := serve(t, answer(500, "", ""))
	_ = (&Client{}).Post(context.Background(), srvErr.URL, Credentials{}, nil, nil)
	all := append(got(), gotErr()...)
	if len(all) != 3 {
		t.Fatalf("%d requests", len(all))
	}
	for i, s := range all {
		if a := s.header.Get("Accept"); a != "application/json" {
			t.Errorf("request %d: Accept = %q", i, a)
		}
		if ct := s.header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("request %d: Content-Type = %q", i, ct)
		}
		if s.method != http.MethodPost {
			t.Errorf("request %d: method %s", i, s.method)
		}
	}
	if ua := all[0].header.Get("User-Agent"); ua != "ghlogin/test" {
		t.Errorf("User-Agent = %q", ua)
	}
}

func TestPerRequestTimeout(t *testing.T) {
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // hang until the client gives up
	})
	c := &Client{Timeout: 150 * time.Millisecond}
	start := time.Now()
	_, err := c.Exchange(context.Background(), srv.URL+"/token?x=1", Credentials{ClientID: "id"}, nil)
	took := time.Since(start)
	var ne *NetworkError
	if !errors.As(err, &ne) {
		t.Fatalf("err = %T %v, want *NetworkError", err, err)
	}
	if !ne.Timeout() || !IsTransient(err) || ErrorCode(err) != "network" {
		t.Errorf("timeout=%v transient=%v code=%q", ne.Timeout(), IsTransient(err), ErrorCode(err))
	}
	if took > 3*time.Second {
		t.Errorf("took %v with a 150ms timeout", took)
	}
	if ne.Endpoint != srv.URL+"/token" || strings.Contains(err.Error(), "x=1") {
		t.Errorf("endpoint %q / message %q should drop the query", ne.Endpoint, err)
	}
	if errors.Is(err, context.Canceled) {
		t.Error("a timeout reported as cancellation")
	}
}

func TestDefaultTimeoutApplies(t *testing.T) {
	if (&Client{}).timeout() != DefaultTimeout || DefaultTimeout <= 0 {
		t.Error("zero Client has no timeout")
	}
	if hc := (&Client{Timeout: time.Second}).httpClient(); hc.Timeout != time.Second {
		t.Errorf("http client timeout = %v", hc.Timeout)
	}
}

func TestNetworkErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = (&Client{}).Exchange(context.Background(), "http://"+addr+"/token?device_code=SECRETDC", Credentials{ClientID: "id"}, nil)
	var ne *NetworkError
	if !errors.As(err, &ne) {
		t.Fatalf("err = %T %v", err, err)
	}
	if ne.Timeout() || !IsTransient(err) || ErrorCode(err) != "network" {
		t.Errorf("timeout=%v transient=%v code=%q", ne.Timeout(), IsTransient(err), ErrorCode(err))
	}
	msg := err.Error()
	if strings.Contains(msg, "SECRETDC") || !strings.Contains(msg, "check your network connection") || !strings.Contains(msg, addr) {
		t.Errorf("message = %q", msg)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Error("the cause is not kept for errors.As")
	}

	// A server that drops the connection.
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	_, err = (&Client{}).Exchange(context.Background(), srv.URL, Credentials{}, nil)
	if !errors.As(err, &ne) || !IsTransient(err) {
		t.Errorf("dropped connection: err = %T %v", err, err)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		cancel()
		<-r.Context().Done()
	})
	_, err := (&Client{}).Exchange(ctx, srv.URL, Credentials{}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %T %v, want context.Canceled", err, err)
	}
	if IsTransient(err) || ErrorCode(err) != "cancelled" {
		t.Errorf("transient=%v code=%q", IsTransient(err), ErrorCode(err))
	}
	// Already cancelled: nothing is sent.
	srv2, got := serve(t, answer(200, "application/json", `{"access_token":"t"}`))
	if _, err := (&Client{}).Exchange(ctx, srv2.URL, Credentials{}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if len(got()) != 0 {
		t.Error("a request went out on a cancelled context")
	}
}

func TestInvalidEndpoint(t *testing.T) {
	for _, ep := range []string{"", "/token", "ftp://x/token", "github.com/login", "http://", "http://example.com/token", "https://u:p@example.com/token"} {
		err := (&Client{}).Post(context.Background(), ep, Credentials{}, nil, nil)
		var ue *safe.URLError
		if !errors.As(err, &ue) || strings.Contains(err.Error(), "u:p") {
			t.Errorf("%q: err = %v", ep, err)
		}
	}
}

func TestPostNilOut(t *testing.T) {
	srv, _ := serve(t, answer(200, "application/json", `{"ok":true}`))
	if err := (&Client{}).Post(context.Background(), srv.URL, Credentials{}, nil, nil); err != nil {
		t.Error(err)
	}
}

func TestCustomHTTPClient(t *testing.T) {
	srv, got := serve(t, answer(200, "application/json", `{"access_token":"t"}`))
	c := &Client{HTTPClient: srv.Client()}
	if _, err := c.Exchange(context.Background(), srv.URL, Credentials{}, nil); err != nil || len(got()) != 1 {
		t.Errorf("err %v, %d requests", err, len(got()))
	}
}

func TestTokenStringHidesSecrets(t *testing.T) {
	tok := &Token{AccessToken: secretToken, RefreshToken: "ghr_REFRESHSECRET", IDToken: "eyJIDSECRET", TokenType: "bearer", Scope: "repo", ExpiresIn: 28800}
	type holder struct {
		Tok   Token
		TokP  *Token
		Label string
	}
	texts := []string{
		tok.String(), tok.GoString(),
		fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok),
		fmt.Sprintf("%v %+v %#v %s", *tok, *tok, *tok, *tok),
		fmt.Sprintf("%v %+v", holder{*tok, tok, "x"}, holder{*tok, tok, "x"}),
		fmt.Sprint([]Token{*tok}, []*Token{tok}),
	}
	for _, s := range texts {
		for _, secret := range []string{secretToken, "REFRESHSECRET", "IDSECRET"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q leaks %s", s, secret)
			}
		}
	}
	if !strings.Contains(tok.String(), `scope="repo"`) || !strings.Contains(tok.String(), "refresh=true") {
		t.Errorf("String = %q", tok.String())
	}
	var nilTok *Token
	if s := fmt.Sprint(nilTok); strings.Contains(s, "PANIC") {
		t.Errorf("nil token prints %q", s)
	}
}

func TestSeconds(t *testing.T) {
	cases := map[string]Seconds{`900`: 900, `"900"`: 900, `null`: 0, `""`: 0, `5.0`: 5}
	for in, want := range cases {
		var s Seconds
		if err := s.UnmarshalJSON([]byte(in)); err != nil || s != want {
			t.Errorf("%s: %v %v", in, s, err)
		}
	}
	for _, in := range []string{`-1`, `"soon"`, `1e300`, `true`} {
		var s Seconds
		if err := s.UnmarshalJSON([]byte(in)); err == nil {
			t.Errorf("%s accepted as %v", in, s)
		}
	}
	if d := Seconds(5).Duration(); d != 5*time.Second {
		t.Errorf("Duration = %v", d)
	}
	if d := Seconds(1 << 40).Duration(); d <= 0 {
		t.Errorf("a huge value overflowed to %v", d)
	}
}

func TestSplitScopes(t *testing.T) {
	got := SplitScopes("repo, read:org gist,\tuser")
	if strings.Join(got, "|") != "repo|read:org|gist|user" {
		t.Errorf("got %q", got)
	}
	if SplitScopes(" , ") != nil {
		t.Error("empty list is not nil")
	}
}

func TestErrorCode(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{&Error{Code: "access_denied"}, "access_denied"},
		{fmt.Errorf("login: %w", &Error{Code: "expired_token"}), "expired_token"},
		{&TimeoutError{Message: "the code expired", Flow: FlowDevice}, "timeout"},
		{fmt.Errorf("x: %w", &TimeoutError{Message: "m"}), "timeout"},
		{context.Canceled, "cancelled"},
		{fmt.Errorf("x: %w", context.Canceled), "cancelled"},
		{&NetworkError{Endpoint: "https://x", Err: errors.New("boom")}, "network"},
		{&HTTPError{StatusCode: 502}, "network"},
		{errors.New("something"), "error"},
		{context.DeadlineExceeded, "error"},
	}
	for _, tc := range cases {
		if got := ErrorCode(tc.err); got != tc.want {
			t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	if te := (&TimeoutError{Message: "the code expired", Flow: FlowDevice}); te.Error() != "the code expired" {
		t.Error(te.Error())
	}
}

func TestIsTransient(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{&NetworkError{Err: errors.New("x")}, true},
		{fmt.Errorf("w: %w", &NetworkError{Err: errors.New("x")}), true},
		{&HTTPError{StatusCode: 503}, true},
		{&HTTPError{StatusCode: 429}, true},
		{&HTTPError{StatusCode: 401}, false},
		{&Error{Code: "access_denied"}, false},
		{context.Canceled, false},
		{&TimeoutError{}, false},
		{nil, false},
	}
	for _, tc := range cases {
		if got := IsTransient(tc.err); got != tc.want {
			t.Errorf("IsTransient(%v) = %v", tc.err, got)
		}
	}
}

// A redirect that was not followed is not a network failure: the message
// says what the server did and does not send the person to check their
// network.
func TestNetworkErrorOfARedirect(t *testing.T) {
	re := &safehttp.RedirectError{Endpoint: "http://127.0.0.1:1/revoke", LocationHost: "127.0.0.1:2", Status: 307, Secret: true}
	err := &NetworkError{Endpoint: "http://127.0.0.1:1/revoke", Err: fmt.Errorf("Delete: %w", re)}
	if msg := err.Error(); msg != re.Error() || strings.Contains(msg, "network") {
		t.Errorf("%q", msg)
	}
	plain := &NetworkError{Endpoint: "http://127.0.0.1:1/token", Err: errors.New("connection refused")}
	if !strings.Contains(plain.Error(), "check your network connection") {
		t.Errorf("%q", plain.Error())
	}
}

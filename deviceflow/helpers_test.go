package deviceflow

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/oauth"
)

// t0 is when every fake clock starts.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const testClientID = "Iv1.0123456789abcdef"

// reply is one scripted answer of the fake server.
type reply struct {
	status      int
	contentType string
	body        string
	header      map[string]string
	hangup      bool          // close the connection without answering
	hang        bool          // never answer (until the client gives up)
	advance     time.Duration // move the fake clock forward while "handling"
	onServe     func()        // called while handling, before answering
}

// js is a JSON reply with HTTP status.
func js(status int, fields map[string]any) reply {
	b, err := json.Marshal(fields)
	if err != nil {
		panic(err)
	}
	return reply{status: status, contentType: "application/json; charset=utf-8", body: string(b)}
}

// form is a form-encoded reply with HTTP 200, as GitHub sends without Accept.
func form(fields map[string]string) reply {
	v := url.Values{}
	for k, s := range fields {
		v.Set(k, s)
	}
	return reply{status: 200, contentType: "application/x-www-form-urlencoded", body: v.Encode()}
}

func oerr(status int, code string) reply { return js(status, map[string]any{"error": code}) }

var pending = oerr(200, "authorization_pending")

func tokenReply(tok string) reply {
	return js(200, map[string]any{"access_token": tok, "token_type": "bearer", "scope": "repo,read:org"})
}

// codeJSON is a GitHub-like device code reply.
func codeJSON(extra map[string]any) reply {
	f := map[string]any{
		"device_code":      "3584d83530557fdd1f46af8289938c8ef79f9dc5",
		"user_code":        "WDJB-MJHT",
		"verification_uri": "https://github.com/login/device",
		"expires_in":       900,
		"interval":         5,
	}
	for k, v := range extra {
		if v == nil {
			delete(f, k)
		} else {
			f[k] = v
		}
	}
	return js(200, f)
}

// fakeServer is a scripted OAuth server: one device code reply, then the
// poll replies in order (the last one repeats). It records when (on the
// fake clock) and with what each request arrived.
type fakeServer struct {
	t   *testing.T
	clk *clock.Fake
	srv *httptest.Server

	mu        sync.Mutex
	code      reply
	polls     []reply
	pollTimes []time.Time
	pollForms []url.Values
	codeForms []url.Values
	headers   []http.Header
}

func newServer(t *testing.T, clk *clock.Fake, code reply, polls ...reply) *fakeServer {
	t.Helper()
	s := &fakeServer{t: t, clk: clk, code: code, polls: polls}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", 400)
		return
	}
	s.mu.Lock()
	s.headers = append(s.headers, r.Header.Clone())
	var rep reply
	switch r.URL.Path {
	case "/login/device/code":
		s.codeForms = append(s.codeForms, r.PostForm)
		rep = s.code
	case "/login/oauth/access_token":
		s.pollForms = append(s.pollForms, r.PostForm)
		s.pollTimes = append(s.pollTimes, s.clk.Now())
		if len(s.polls) == 0 {
			s.mu.Unlock()
			s.t.Errorf("unexpected poll")
			http.Error(w, "unexpected", 500)
			return
		}
		rep = s.polls[0]
		if len(s.pollTimes) > 500 {
			// A runaway poller: fail and end it instead of hanging the test.
			s.t.Errorf("more than 500 polls")
			rep = oerr(200, "access_denied")
		}
		if len(s.polls) > 1 {
			s.polls = s.polls[1:]
		}
	default:
		s.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	s.mu.Unlock()
	if rep.advance > 0 {
		s.clk.Advance(rep.advance)
	}
	if rep.onServe != nil {
		rep.onServe()
	}
	switch {
	case rep.hang:
		<-r.Context().Done()
		return
	case rep.hangup:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if rep.contentType != "" {
		w.Header().Set("Content-Type", rep.contentType)
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write([]byte(rep.body))
}

func (s *fakeServer) times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.pollTimes...)
}

func (s *fakeServer) forms() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.pollForms...)
}

// recorder collects events.
type recorder struct {
	mu     sync.Mutex
	events []Event
	hook   func(Event)
}

func (r *recorder) on(ev Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	hook := r.hook
	r.mu.Unlock()
	if hook != nil {
		hook(ev)
	}
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

func (r *recorder) kinds() []Kind {
	var k []Kind
	for _, ev := range r.all() {
		k = append(k, ev.Kind)
	}
	return k
}

func (r *recorder) of(k Kind) []Event {
	var out []Event
	for _, ev := range r.all() {
		if ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

// config points a Config at s with a fake clock and an event recorder.
func (s *fakeServer) config(rec *recorder) *Config {
	return &Config{
		Client:        &oauth.Client{Timeout: 10 * time.Second},
		Credentials:   oauth.Credentials{ClientID: testClientID},
		DeviceCodeURL: s.srv.URL + "/login/device/code",
		TokenURL:      s.srv.URL + "/login/oauth/access_token",
		Scopes:        []string{"repo", "read:org", "gist"},
		Clock:         s.clk,
		OnEvent:       rec.on,
	}
}

// closedURL is an http URL on 127.0.0.1 where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/login/oauth/access_token"
}

// gaps returns the differences between consecutive times, starting from start.
func gaps(start time.Time, ts []time.Time) []time.Duration {
	var out []time.Duration
	prev := start
	for _, t := range ts {
		out = append(out, t.Sub(prev))
		prev = t
	}
	return out
}

// run requests a code and polls it, returning the token or error.
func run(t *testing.T, cfg *Config) (*oauth.Token, error) {
	t.Helper()
	return cfg.Login(context.Background())
}

func (s *fakeServer) codeRequests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.codeForms...)
}

func (s *fakeServer) requestHeaders() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.headers...)
}

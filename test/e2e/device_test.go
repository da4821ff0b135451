package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
)

// startEmulator runs the emulator in this process on an ephemeral loopback port.
func startEmulator(t *testing.T, cfg emulator.Config) *emulator.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := emulator.Start(ctx, "127.0.0.1:0", cfg)
	if err != nil {
		cancel()
		t.Fatalf("starting the emulator: %v", err)
	}
	t.Cleanup(func() { srv.Close(); cancel() })
	return srv
}

var tokenShape = regexp.MustCompile(`^gho_[A-Za-z0-9]{36}$`)

func TestDeviceLoginPlainThenToken(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second, AutoApproveAfter: 1})
	s := newSandbox(t)
	r := s.run("", "login", "--host", srv.URL(), "--client-id", emulator.DefaultClientID)
	if r.code != 0 {
		t.Fatalf("login exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("plain login wrote to stdout: %q", r.stdout)
	}
	for _, want := range []string{"WDJB", "/login/device", "Logged in to 127.0.0.1"} {
		if want == "WDJB" {
			if !regexp.MustCompile(`[A-Z0-9]{4}-[A-Z0-9]{4}`).MatchString(r.stderr) {
				t.Errorf("stderr does not show a user code:\n%s", r.stderr)
			}
			continue
		}
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	tok := s.run("", "token", "--host", srv.URL())
	if tok.code != 0 {
		t.Fatalf("token exit %d: %s", tok.code, tok.stderr)
	}
	got := strings.TrimSpace(tok.stdout)
	if !tokenShape.MatchString(got) {
		t.Fatalf("token prints %q, want a gho_ token", got)
	}
	// The token is the canary: it must not have appeared anywhere during login.
	if strings.Contains(r.stderr+r.stdout, got) {
		t.Fatal("the token appeared in login's output")
	}
	if tok.stderr != "" {
		t.Errorf("token wrote to stderr: %q", tok.stderr)
	}
}

func TestDeviceLoginJSON(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second, AutoApproveAfter: 2})
	s := newSandbox(t)
	p := s.start("login", "--json", "--host", srv.URL(), "--client-id", emulator.DefaultClientID)
	var events []event
	for {
		line, ok := p.next(t, 30*time.Second)
		if !ok {
			break
		}
		events = append(events, parseEvent(t, line))
	}
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("login --json exit %d; stderr:\n%s", code, p.stderr)
	}
	if len(events) < 3 {
		t.Fatalf("want code, pending…, success; got %v", events)
	}
	code := events[0]
	if code["event"] != "code" {
		t.Fatalf("first event %v, want code", code)
	}
	for _, k := range []string{"user_code", "verification_uri", "verification_uri_complete", "expires_at", "interval"} {
		if _, ok := code[k]; !ok {
			t.Errorf("code event lacks %q: %v", k, code)
		}
	}
	if code["verification_uri_complete"] != nil {
		t.Errorf("GitHub sends no verification_uri_complete; want null, got %v", code["verification_uri_complete"])
	}
	if iv, _ := code["interval"].(float64); iv != 1 {
		t.Errorf("interval = %v, want 1", code["interval"])
	}
	if _, err := time.Parse(time.RFC3339, code["expires_at"].(string)); err != nil {
		t.Errorf("expires_at not RFC 3339: %v", err)
	}
	sawPending := false
	for _, e := range events[1 : len(events)-1] {
		if e["event"] == "pending" {
			sawPending = true
		}
	}
	if !sawPending {
		t.Errorf("no pending event before approval: %v", events)
	}
	last := events[len(events)-1]
	if last["event"] != "success" || last["host"] != strings.TrimPrefix(srv.URL(), "http://") || last["login"] != "octocat" || last["store"] != "file" {
		t.Errorf("last event = %v", last)
	}
	tok := strings.TrimSpace(s.run("", "token", "--host", srv.URL()).stdout)
	if !tokenShape.MatchString(tok) {
		t.Fatalf("token = %q", tok)
	}
	if strings.Contains(p.all.String()+p.stderr.String(), tok) {
		t.Fatal("the token appeared in a JSON event or on stderr")
	}
}

func TestDeviceLoginAccessDenied(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second})
	s := newSandbox(t)
	p := s.start("login", "--json", "--host", srv.URL(), "--client-id", emulator.DefaultClientID)
	line, _ := p.next(t, 20*time.Second)
	code := parseEvent(t, line)
	if err := srv.Deny(code["user_code"].(string)); err != nil {
		t.Fatal(err)
	}
	var last event
	for {
		line, ok := p.next(t, 30*time.Second)
		if !ok {
			break
		}
		last = parseEvent(t, line)
	}
	if exit := p.wait(t, 10*time.Second); exit != 1 {
		t.Errorf("exit %d, want 1", exit)
	}
	if last["event"] != "error" || last["code"] != "access_denied" {
		t.Fatalf("last event = %v, want error access_denied", last)
	}
	if msg, _ := last["message"].(string); !strings.Contains(msg, "denied") {
		t.Errorf("message %q does not say the request was denied", msg)
	}
	if r := s.run("", "token", "--host", srv.URL()); r.code != 4 || !strings.Contains(r.stderr, "ghlogin login") {
		t.Errorf("token after a denied login: exit %d, stderr %q; want 4 and a hint", r.code, r.stderr)
	}
}

func TestDeviceLoginSlowDown(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second, AutoApproveAfter: 3, SlowDownPolls: []int{1}})
	s := newSandbox(t)
	p := s.start("login", "--json", "--host", srv.URL(), "--client-id", emulator.DefaultClientID)
	var events []event
	for {
		line, ok := p.next(t, 40*time.Second)
		if !ok {
			break
		}
		events = append(events, parseEvent(t, line))
	}
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, p.stderr)
	}
	var slow event
	for _, e := range events {
		if e["event"] == "slow_down" {
			slow = e
		}
	}
	if slow == nil {
		t.Fatalf("no slow_down event: %v", events)
	}
	if iv, _ := slow["interval"].(float64); iv != 6 {
		t.Errorf("slow_down interval = %v, want 6 (1 + 5)", slow["interval"])
	}
	if events[len(events)-1]["event"] != "success" {
		t.Errorf("last event %v", events[len(events)-1])
	}
	if st := srv.Stats(); st.EarlyPolls != 0 {
		t.Errorf("the emulator saw %d polls earlier than the interval", st.EarlyPolls)
	}
}

func TestExitCodes(t *testing.T) {
	s := newSandbox(t)
	if r := s.run("", "token"); r.code != 4 {
		t.Errorf("token with no account: exit %d, want 4 (stderr %q)", r.code, r.stderr)
	}
	if r := s.run("", "login", "--bogus"); r.code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", r.code)
	}
	if r := s.run("", "frobnicate"); r.code != 2 {
		t.Errorf("unknown command: exit %d, want 2", r.code)
	}
	if r := s.run("", "login", "--host", "http://example.com"); r.code != 2 || !strings.Contains(r.stderr, "loopback") {
		t.Errorf("http to a non-loopback host: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := s.runEnv(s.with("GHLOGIN_CLIENT_ID="), "", "login", "--host", "github.com"); r.code != 2 || !strings.Contains(r.stderr, "client_id") {
		t.Errorf("no client ID: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := s.run("", "status"); r.code != 4 {
		t.Errorf("status with no account: exit %d, want 4", r.code)
	}
}

func TestDemoWithoutTerminal(t *testing.T) {
	s := newSandbox(t)
	r := s.run("", "demo")
	if r.code != 0 {
		t.Fatalf("demo exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "Logged in to") {
		t.Errorf("demo output lacks the result:\n%s", r.stderr)
	}
	if regexp.MustCompile(`gho_[A-Za-z0-9]{36}`).MatchString(r.stdout + r.stderr) {
		t.Error("the demo printed a token")
	}
}

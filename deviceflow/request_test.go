package deviceflow

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/oauth"
)

func TestRequestCodeJSON(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(map[string]any{
		"verification_uri_complete": "https://github.com/login/device?user_code=WDJB-MJHT",
		"expires_in":                600,
		"interval":                  7,
	}))
	rec := &recorder{}
	code, err := s.config(rec).RequestCode(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := Code{
		DeviceCode:              "3584d83530557fdd1f46af8289938c8ef79f9dc5",
		UserCode:                "WDJB-MJHT",
		VerificationURI:         "https://github.com/login/device",
		VerificationURIComplete: "https://github.com/login/device?user_code=WDJB-MJHT",
		ExpiresAt:               t0.Add(600 * time.Second),
		Interval:                7 * time.Second,
	}
	if code.DeviceCode != want.DeviceCode || code.UserCode != want.UserCode || code.VerificationURI != want.VerificationURI ||
		code.VerificationURIComplete != want.VerificationURIComplete || !code.ExpiresAt.Equal(want.ExpiresAt) || code.Interval != want.Interval {
		t.Errorf("code = %+v, want %+v", *code, want)
	}
	// What the server received.
	f := s.codeRequests()[0]
	if f.Get("client_id") != testClientID || f.Get("scope") != "repo read:org gist" {
		t.Errorf("device code request form = %v", f)
	}
	if len(f) != 2 {
		t.Errorf("device code request sent unexpected fields: %v", f)
	}
	if a := s.requestHeaders()[0].Get("Accept"); a != "application/json" {
		t.Errorf("Accept = %q", a)
	}
	// The event carries the code without the device code.
	evs := rec.all()
	if len(evs) != 1 || evs[0].Kind != KindCode || evs[0].Code == nil {
		t.Fatalf("events = %+v", evs)
	}
	if evs[0].Code.DeviceCode != "" {
		t.Error("the code event carries the device code")
	}
	if evs[0].Code.UserCode != "WDJB-MJHT" || !evs[0].Code.ExpiresAt.Equal(want.ExpiresAt) || evs[0].Code.Interval != 7*time.Second {
		t.Errorf("code event = %+v", evs[0].Code)
	}
}

func TestRequestCodeFormReplyAndGoogleSpelling(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, form(map[string]string{
		"device_code":      "dc-form",
		"user_code":        "ABCD-EFGH",
		"verification_url": "https://www.google.com/device",
		"expires_in":       "1800",
		"interval":         "8",
	}))
	code, err := s.config(&recorder{}).RequestCode(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if code.DeviceCode != "dc-form" || code.UserCode != "ABCD-EFGH" || code.VerificationURI != "https://www.google.com/device" {
		t.Errorf("code = %+v", *code)
	}
	if !code.ExpiresAt.Equal(t0.Add(30*time.Minute)) || code.Interval != 8*time.Second {
		t.Errorf("expires %v interval %v", code.ExpiresAt, code.Interval)
	}
}

func TestRequestCodeNoScopes(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(nil))
	cfg := s.config(&recorder{})
	cfg.Scopes = nil
	if _, err := cfg.RequestCode(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.codeRequests()[0]["scope"]; ok {
		t.Errorf("scope sent although none was asked for: %v", s.codeRequests()[0])
	}
}

func TestRequestCodeDefaults(t *testing.T) {
	for name, extra := range map[string]map[string]any{
		"missing":  {"interval": nil, "expires_in": nil},
		"zero":     {"interval": 0, "expires_in": 0},
		"strings0": {"interval": "0", "expires_in": ""},
	} {
		t.Run(name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			s := newServer(t, clk, codeJSON(extra))
			code, err := s.config(&recorder{}).RequestCode(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if code.Interval != 5*time.Second {
				t.Errorf("interval = %v, want 5s", code.Interval)
			}
			if !code.ExpiresAt.Equal(t0.Add(900 * time.Second)) {
				t.Errorf("expires at %v, want 15 minutes after %v", code.ExpiresAt, t0)
			}
		})
	}
}

func TestRequestCodeMalformed(t *testing.T) {
	long := strings.Repeat("A", 41)
	cases := []struct {
		name  string
		rep   reply
		field string
	}{
		{"no device_code", codeJSON(map[string]any{"device_code": nil}), "device_code"},
		{"empty device_code", codeJSON(map[string]any{"device_code": ""}), "device_code"},
		{"device_code with newline", codeJSON(map[string]any{"device_code": "abc\ndef"}), "device_code"},
		{"device_code a number", codeJSON(map[string]any{"device_code": 12}), "reply"},
		{"no user_code", codeJSON(map[string]any{"user_code": nil}), "user_code"},
		{"user_code escape", codeJSON(map[string]any{"user_code": "WDJB\x1b[2J"}), "user_code"},
		{"user_code bidi override", codeJSON(map[string]any{"user_code": "WDJB\u202eMJHT"}), "user_code"},
		{"user_code too long", codeJSON(map[string]any{"user_code": long}), "user_code"},
		{"user_code invalid utf8", form(map[string]string{"device_code": "dc", "user_code": "WD\xffJB", "verification_uri": "https://github.com/login/device"}), "user_code"},
		{"no verification_uri", codeJSON(map[string]any{"verification_uri": nil}), "verification_uri"},
		{"relative uri", codeJSON(map[string]any{"verification_uri": "/login/device"}), "verification_uri"},
		{"http uri", codeJSON(map[string]any{"verification_uri": "http://github.com/login/device"}), "verification_uri"},
		{"javascript uri", codeJSON(map[string]any{"verification_uri": "javascript:alert(1)"}), "verification_uri"},
		{"file uri", codeJSON(map[string]any{"verification_uri": "file:///etc/passwd"}), "verification_uri"},
		{"uri with user", codeJSON(map[string]any{"verification_uri": "https://github.com@evil.example/login/device"}), "verification_uri"},
		{"uri with newline", codeJSON(map[string]any{"verification_uri": "https://github.com/\nlogin"}), "verification_uri"},
		{"uri too long", codeJSON(map[string]any{"verification_uri": "https://github.com/" + strings.Repeat("a", 1100)}), "verification_uri"},
		{"bad google uri", codeJSON(map[string]any{"verification_uri": nil, "verification_url": "ftp://x"}), "verification_url"},
		{"bad complete uri", codeJSON(map[string]any{"verification_uri_complete": "http://evil.example/?c=1"}), "verification_uri_complete"},
		{"html body", reply{status: 200, contentType: "text/html", body: "<html>captive portal</html>"}, "reply"},
		{"broken json", reply{status: 200, contentType: "application/json", body: `{"device_code":`}, "reply"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			s := newServer(t, clk, tc.rep)
			rec := &recorder{}
			code, err := s.config(rec).RequestCode(context.Background())
			if err == nil {
				t.Fatalf("accepted %+v", code)
			}
			var ce *CodeError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v, want *CodeError", err, err)
			}
			if ce.Field != tc.field {
				t.Errorf("field = %q, want %q (%v)", ce.Field, tc.field, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "device code reply is unusable") || !strings.Contains(msg, tc.field) {
				t.Errorf("message %q does not say what is wrong", msg)
			}
			if strings.ContainsAny(msg, "\x1b\n\u202e") {
				t.Errorf("message carries control characters: %q", msg)
			}
			// Nobody typed the server's URL: no advice to "give" one.
			if strings.Contains(msg, "give ") || strings.Contains(msg, "such as") {
				t.Errorf("message advises as if the person typed the URL: %q", msg)
			}
			if k := rec.kinds(); len(k) != 1 || k[0] != KindError {
				t.Errorf("events = %v, want [error]", k)
			}
		})
	}
}

func TestRequestCodeLoopbackHTTPAllowed(t *testing.T) {
	for _, uri := range []string{"http://127.0.0.1:8787/login/device", "http://[::1]:8787/login/device", "http://localhost/login/device"} {
		clk := clock.NewFake(t0)
		s := newServer(t, clk, codeJSON(map[string]any{"verification_uri": uri}))
		code, err := s.config(&recorder{}).RequestCode(context.Background())
		if err != nil {
			t.Errorf("%s: %v", uri, err)
			continue
		}
		if code.VerificationURI != uri {
			t.Errorf("uri = %q", code.VerificationURI)
		}
	}
}

func TestRequestCodeServerErrors(t *testing.T) {
	cases := []struct {
		rep  reply
		code string
		says string
	}{
		{oerr(200, "incorrect_client_credentials"), "incorrect_client_credentials", "the server answered incorrect_client_credentials"},
		{oerr(200, "device_flow_disabled"), "device_flow_disabled", "the server answered device_flow_disabled"},
		{oerr(400, "invalid_client"), "invalid_client", "the server answered invalid_client"},
		{oerr(401, "unauthorized_client"), "unauthorized_client", "the server answered unauthorized_client"},
		{oerr(400, "invalid_scope"), "invalid_scope", "the server answered invalid_scope"},
		{form(map[string]string{"error": "device_flow_disabled", "error_description": "Device Flow must be explicitly enabled for this App"}), "device_flow_disabled", "must be explicitly enabled"},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			clk := clock.NewFake(t0)
			s := newServer(t, clk, tc.rep)
			rec := &recorder{}
			_, err := s.config(rec).RequestCode(context.Background())
			var oe *oauth.Error
			if !errors.As(err, &oe) || oe.Code != tc.code {
				t.Fatalf("err = %v, want *oauth.Error %s", err, tc.code)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("message %q does not say %q", err, tc.says)
			}
			if evs := rec.all(); len(evs) != 1 || evs[0].Kind != KindError || evs[0].Err != err {
				t.Errorf("events = %+v", evs)
			}
		})
	}
}

func TestRequestCodeHTTPFailures(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, reply{status: 502, contentType: "text/html", body: "<h1>bad gateway</h1>"})
	_, err := s.config(&recorder{}).RequestCode(context.Background())
	var he *oauth.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 502 {
		t.Fatalf("err = %v, want HTTP 502", err)
	}

	// An HTML page with a success (or client error) status means the URL
	// is not a device authorization endpoint: the first request is strict.
	for _, status := range []int{200, 404} {
		s := newServer(t, clk, reply{status: status, contentType: "text/html", body: "<html><title>Sign in</title></html>"})
		_, err := s.config(&recorder{}).RequestCode(context.Background())
		var ce *CodeError
		if !errors.As(err, &ce) || !ce.HTML || ce.Status != status || !strings.Contains(err.Error(), "device code URL is probably wrong") {
			t.Errorf("HTTP %d HTML: err = %v, want a *CodeError saying the URL is wrong", status, err)
		}
	}

	cfg := s.config(&recorder{})
	cfg.DeviceCodeURL = closedURL(t)
	_, err = cfg.RequestCode(context.Background())
	var ne *oauth.NetworkError
	if !errors.As(err, &ne) || oauth.ErrorCode(err) != "network" {
		t.Fatalf("err = %v, want a network error", err)
	}
}

func TestRequestCodeConfigErrors(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(nil))
	cfg := s.config(&recorder{})
	cfg.Credentials.ClientID = ""
	_, err := cfg.RequestCode(context.Background())
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Field != FieldClientID || err.Error() != "device flow: client ID: none is configured" {
		t.Errorf("no client ID: err = %v", err)
	}
	cfg = s.config(&recorder{})
	cfg.DeviceCodeURL = ""
	if _, err := cfg.RequestCode(context.Background()); !errors.As(err, &ce) || ce.Field != FieldDeviceCodeURL {
		t.Errorf("no URL: err = %v", err)
	}
	if len(s.codeRequests()) != 0 {
		t.Error("a request went out with a broken config")
	}
}

func TestRequestCodeCancelled(t *testing.T) {
	clk := clock.NewFake(t0)
	ctx, cancel := context.WithCancel(context.Background())
	s := newServer(t, clk, reply{hang: true, onServe: cancel})
	rec := &recorder{}
	_, err := s.config(rec).RequestCode(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if k := rec.kinds(); len(k) != 1 || k[0] != KindError {
		t.Errorf("events = %v", k)
	}
}

func TestCodeStringHidesDeviceCode(t *testing.T) {
	c := Code{DeviceCode: "SECRET-DEVICE-CODE", UserCode: "WDJB-MJHT", VerificationURI: "https://github.com/login/device"}
	for _, s := range []string{c.String(), c.GoString(), (&c).String()} {
		if strings.Contains(s, "SECRET") || !strings.Contains(s, "WDJB-MJHT") {
			t.Errorf("String() = %q", s)
		}
	}
}

package deviceflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/oauth"
)

const canaryToken = "gho_CANARY0123456789abcdefghijklmnopqrstu"

func TestPollSuccessAfterPending(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(nil), pending, pending, tokenReply(canaryToken))
	rec := &recorder{}
	tok, err := run(t, s.config(rec))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != canaryToken || tok.TokenType != "bearer" || tok.Scope != "repo,read:org" {
		t.Errorf("token = %v", tok)
	}
	if got, want := rec.kinds(), []Kind{KindCode, KindPending, KindPending, KindSuccess}; !reflect.DeepEqual(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
	forms := s.forms()
	if len(forms) != 3 {
		t.Fatalf("%d polls, want 3", len(forms))
	}
	for _, f := range forms {
		if f.Get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code" ||
			f.Get("device_code") != "3584d83530557fdd1f46af8289938c8ef79f9dc5" || f.Get("client_id") != testClientID {
			t.Errorf("poll form = %v", f)
		}
		if len(f) != 3 {
			t.Errorf("poll sent unexpected fields: %v", f)
		}
	}
	for _, h := range s.requestHeaders() {
		if h.Get("Accept") != "application/json" {
			t.Errorf("Accept = %q", h.Get("Accept"))
		}
	}
}

func TestPollFormEncodedReplies(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(nil),
		form(map[string]string{"error": "authorization_pending", "error_description": "The authorization request is still pending."}),
		form(map[string]string{"error": "slow_down", "interval": "10"}),
		form(map[string]string{"access_token": canaryToken, "token_type": "bearer", "scope": "repo,gist"}))
	rec := &recorder{}
	tok, err := run(t, s.config(rec))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != canaryToken || tok.Scope != "repo,gist" {
		t.Errorf("token = %v", tok)
	}
	if got, want := rec.kinds(), []Kind{KindCode, KindPending, KindSlowDown, KindSuccess}; !reflect.DeepEqual(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
	if sd := rec.of(KindSlowDown); sd[0].Interval != 10*time.Second {
		t.Errorf("slow_down interval = %v", sd[0].Interval)
	}
}

func TestPollIntervalRule(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(nil), pending, pending, pending, tokenReply(canaryToken))
	if _, err := run(t, s.config(&recorder{})); err != nil {
		t.Fatal(err)
	}
	g := gaps(t0, s.times())
	if len(g) != 4 {
		t.Fatalf("%d polls, want 4", len(g))
	}
	for i, d := range g {
		// Never before the interval; overshoot (the safety margin) well under 5%.
		if d < 5*time.Second || d > 5*time.Second+250*time.Millisecond {
			t.Errorf("gap before poll %d = %v, want 5s plus a small margin", i+1, d)
		}
	}
	if g[0] != 5*time.Second+50*time.Millisecond {
		t.Errorf("first poll %v after the code, want one interval plus 50ms", g[0])
	}
}

func TestPollIntervalMissingIsFiveSeconds(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(map[string]any{"interval": nil}), pending, tokenReply(canaryToken))
	if _, err := run(t, s.config(&recorder{})); err != nil {
		t.Fatal(err)
	}
	for i, d := range gaps(t0, s.times()) {
		if d < 5*time.Second || d > 5100*time.Millisecond {
			t.Errorf("gap %d = %v, want 5s", i, d)
		}
	}
}

func TestPollLargeServerInterval(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(map[string]any{"interval": 30}), pending, tokenReply(canaryToken))
	if _, err := run(t, s.config(&recorder{})); err != nil {
		t.Fatal(err)
	}
	for i, d := range gaps(t0, s.times()) {
		if d < 30*time.Second || d > 30*time.Second+300*time.Millisecond {
			t.Errorf("gap %d = %v, want 30s plus at most 1%%", i, d)
		}
	}
}

// The gap is measured from the moment the previous reply arrived, so a slow
// reply does not shorten the next wait on the server's side.
func TestPollIntervalCountsFromReply(t *testing.T) {
	clk := clock.NewFake(t0)
	slow := pending
	slow.advance = 3 * time.Second // the server takes 3 s to answer
	s := newServer(t, clk, codeJSON(nil), slow, slow, tokenReply(canaryToken))
	if _, err := run(t, s.config(&recorder{})); err != nil {
		t.Fatal(err)
	}
	ts := s.times() // arrival times; each reply left 3 s later
	for i := 1; i < len(ts); i++ {
		since := ts[i].Sub(ts[i-1].Add(3 * time.Second))
		if since < 5*time.Second {
			t.Errorf("poll %d came %v after the previous reply, want >= 5s", i+1, since)
		}
	}
}

// earlyClock wakes up before the requested time, like a timer on a clock
// running fast: Poll must notice and sleep again.
type earlyClock struct{ *clock.Fake }

func (e earlyClock) Sleep(ctx context.Context, d time.Duration) error {
	if d > time.Millisecond {
		d = d * 9 / 10
	}
	return e.Fake.Sleep(ctx, d)
}

func TestPollEarlyWakeupSleepsAgain(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(nil), pending, tokenReply(canaryToken))
	cfg := s.config(&recorder{})
	cfg.Clock = earlyClock{clk}
	if _, err := cfg.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, d := range gaps(t0, s.times()) {
		if d < 5*time.Second {
			t.Errorf("poll %d came %v after the previous one, before the interval", i+1, d)
		}
	}
	if n := len(clk.Sleeps()); n <= 2 {
		t.Errorf("only %d sleeps: early wake-ups were not re-checked", n)
	}
}

func TestPollSlowDown(t *testing.T) {
	cases := []struct {
		name      string
		polls     []reply
		gaps      []time.Duration // expected waits (without margin) before each poll
		intervals []time.Duration // slow_down events
	}{
		{
			name:      "plus five",
			polls:     []reply{oerr(200, "slow_down"), pending, tokenReply(canaryToken)},
			gaps:      []time.Duration{5 * time.Second, 10 * time.Second, 10 * time.Second},
			intervals: []time.Duration{10 * time.Second},
		},
		{
			name:      "server interval larger",
			polls:     []reply{js(200, map[string]any{"error": "slow_down", "interval": 25}), pending, tokenReply(canaryToken)},
			gaps:      []time.Duration{5 * time.Second, 25 * time.Second, 25 * time.Second},
			intervals: []time.Duration{25 * time.Second},
		},
		{
			name:      "server interval smaller",
			polls:     []reply{js(200, map[string]any{"error": "slow_down", "interval": 6}), tokenReply(canaryToken)},
			gaps:      []time.Duration{5 * time.Second, 10 * time.Second},
			intervals: []time.Duration{10 * time.Second},
		},
		{
			name: "repeated",
			polls: []reply{oerr(200, "slow_down"), oerr(200, "slow_down"), oerr(200, "slow_down"),
				js(200, map[string]any{"error": "slow_down", "interval": "20"}), pending, tokenReply(canaryToken)},
			gaps:      []time.Duration{5 * time.Second, 10 * time.Second, 15 * time.Second, 20 * time.Second, 25 * time.Second, 25 * time.Second},
			intervals: []time.Duration{10 * time.Second, 15 * time.Second, 20 * time.Second, 25 * time.Second},
		},
		{
			name:      "with HTTP 400",
			polls:     []reply{oerr(400, "slow_down"), tokenReply(canaryToken)},
			gaps:      []time.Duration{5 * time.Second, 10 * time.Second},
			intervals: []time.Duration{10 * time.Second},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			s := newServer(t, clk, codeJSON(nil), tc.polls...)
			rec := &recorder{}
			if _, err := run(t, s.config(rec)); err != nil {
				t.Fatal(err)
			}
			got := gaps(t0, s.times())
			if len(got) != len(tc.gaps) {
				t.Fatalf("gaps = %v, want %v", got, tc.gaps)
			}
			for i := range got {
				if got[i] != tc.gaps[i]+margin(tc.gaps[i]) {
					t.Errorf("gap %d = %v, want %v + margin", i, got[i], tc.gaps[i])
				}
			}
			var ivs []time.Duration
			for _, ev := range rec.of(KindSlowDown) {
				ivs = append(ivs, ev.Interval)
			}
			if !reflect.DeepEqual(ivs, tc.intervals) {
				t.Errorf("slow_down events = %v, want %v", ivs, tc.intervals)
			}
		})
	}
}

// slow_down never makes the poller give up: it keeps going until the code
// expires, then says so.
func TestPollSlowDownUntilExpiry(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(map[string]any{"expires_in": 120}), oerr(200, "slow_down"))
	rec := &recorder{}
	_, err := run(t, s.config(rec))
	var te *oauth.TimeoutError
	if !errors.As(err, &te) || (err.Error() != ExpiredMessage || te.Flow != oauth.FlowDevice) {
		t.Fatalf("err = %v, want the expiry", err)
	}
	// 5, 10, 15, 20, 25, 30 = 105 s of waits; the next (35 s) would pass 120 s.
	if n := len(s.times()); n != 6 {
		t.Errorf("%d polls, want 6", n)
	}
	if !clk.Now().Equal(t0.Add(120 * time.Second)) {
		t.Errorf("stopped at %v, want the expiry", clk.Now().Sub(t0))
	}
}

func TestPollTerminalErrors(t *testing.T) {
	// The error carries the server's code; what a person should do about
	// each is internal/hint's to say.
	cases := []struct {
		code string
		says string
	}{
		{"expired_token", "the server answered expired_token"},
		{"access_denied", "the server answered access_denied"},
		{"incorrect_device_code", "the server answered incorrect_device_code"},
		{"incorrect_client_credentials", "the server answered incorrect_client_credentials"},
		{"unsupported_grant_type", "the server answered unsupported_grant_type"},
		{"device_flow_disabled", "the server answered device_flow_disabled"},
		{"invalid_grant", "the server answered invalid_grant"},
		{"invalid_client", "the server answered invalid_client"},
		{"unauthorized_client", "the server answered unauthorized_client"},
		{"invalid_request", "the server answered invalid_request"},
		{"invalid_scope", "the server answered invalid_scope"},
		{"something_new", "the server answered something_new"},
	}
	for _, tc := range cases {
		for _, status := range []int{200, 400, 401} {
			t.Run(fmt.Sprintf("%s/%d", tc.code, status), func(t *testing.T) {
				clk := clock.NewFake(t0)
				s := newServer(t, clk, codeJSON(nil), pending, oerr(status, tc.code))
				rec := &recorder{}
				tok, err := run(t, s.config(rec))
				if tok != nil {
					t.Fatal("got a token")
				}
				var oe *oauth.Error
				if !errors.As(err, &oe) || oe.Code != tc.code || oe.StatusCode != status {
					t.Fatalf("err = %#v, want *oauth.Error %s", err, tc.code)
				}
				if !strings.Contains(err.Error(), tc.says) {
					t.Errorf("message %q does not say %q", err, tc.says)
				}
				if oauth.ErrorCode(err) != tc.code {
					t.Errorf("ErrorCode = %q", oauth.ErrorCode(err))
				}
				if n := len(s.times()); n != 2 {
					t.Errorf("%d polls, want 2 (stop at once)", n)
				}
				evs := rec.all()
				last := evs[len(evs)-1]
				if last.Kind != KindError || last.Err != err {
					t.Errorf("last event = %+v", last)
				}
				if got, want := rec.kinds(), []Kind{KindCode, KindPending, KindError}; !reflect.DeepEqual(got, want) {
					t.Errorf("events = %v, want %v", got, want)
				}
			})
		}
	}
}

func TestPollErrorDescriptionShown(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(nil), js(200, map[string]any{
		"error":             "access_denied",
		"error_description": "The authorization request was denied.",
		"error_uri":         "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow",
	}))
	_, err := run(t, s.config(&recorder{}))
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Description != "The authorization request was denied." || !strings.HasPrefix(oe.URI, "https://docs.github.com/") {
		t.Fatalf("err = %#v", err)
	}
	if err.Error() != "the server answered access_denied: The authorization request was denied." {
		t.Errorf("message = %q", err)
	}
}

func TestPollNonTransientHTTPErrors(t *testing.T) {
	for _, rep := range []reply{
		{status: 404, contentType: "text/html", body: "<h1>Not Found</h1>"},
		{status: 403, contentType: "application/json", body: `{"message":"forbidden"}`},
		js(200, map[string]any{"access_token": "a b"}), // a malformed token is no proxy's doing
	} {
		clk := clock.NewFake(t0)
		s := newServer(t, clk, codeJSON(nil), rep)
		rec := &recorder{}
		_, err := run(t, s.config(rec))
		var he *oauth.HTTPError
		if !errors.As(err, &he) {
			t.Errorf("%d %s: err = %v, want *oauth.HTTPError", rep.status, rep.body, err)
			continue
		}
		if n := len(s.times()); n != 1 {
			t.Errorf("%d %s: %d polls, want 1", rep.status, rep.body, n)
		}
		if k := rec.kinds(); k[len(k)-1] != KindError {
			t.Errorf("events = %v", k)
		}
	}
}

func TestPollExpiry(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(map[string]any{"expires_in": 12}), pending)
	rec := &recorder{}
	_, err := run(t, s.config(rec))
	var te *oauth.TimeoutError
	if !errors.As(err, &te) || te.Message != ExpiredMessage || te.Flow != oauth.FlowDevice {
		t.Fatalf("err = %#v, want the expiry", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Error("the expiry is a bare context deadline")
	}
	if oauth.ErrorCode(err) != "timeout" {
		t.Errorf("ErrorCode = %q", oauth.ErrorCode(err))
	}
	// Polls at 5.05 s and 10.1 s; one at 15.15 s cannot happen before 12 s.
	if n := len(s.times()); n != 2 {
		t.Errorf("%d polls, want 2", n)
	}
	if !clk.Now().Equal(t0.Add(12 * time.Second)) {
		t.Errorf("stopped %v after the code, want at its expiry (12s)", clk.Now().Sub(t0))
	}
	if got, want := rec.kinds(), []Kind{KindCode, KindPending, KindPending, KindError}; !reflect.DeepEqual(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
}

func TestPollExpiryMidPoll(t *testing.T) {
	clk := clock.NewFake(t0)
	late := pending
	late.advance = 20 * time.Minute // the reply comes back after the code expired
	s := newServer(t, clk, codeJSON(nil), late)
	rec := &recorder{}
	_, err := run(t, s.config(rec))
	var te *oauth.TimeoutError
	if !errors.As(err, &te) || (err.Error() != ExpiredMessage || te.Flow != oauth.FlowDevice) {
		t.Fatalf("err = %v, want the expiry", err)
	}
	if n := len(s.times()); n != 1 {
		t.Errorf("%d polls, want 1", n)
	}
	if got, want := rec.kinds(), []Kind{KindCode, KindError}; !reflect.DeepEqual(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
}

// A poll whose reply is a token still wins, even if it arrives at the expiry.
func TestPollTokenAtExpiry(t *testing.T) {
	clk := clock.NewFake(t0)
	late := tokenReply(canaryToken)
	late.advance = 20 * time.Minute
	s := newServer(t, clk, codeJSON(nil), late)
	if tok, err := run(t, s.config(&recorder{})); err != nil || tok.AccessToken != canaryToken {
		t.Fatalf("tok %v err %v", tok, err)
	}
}

// A machine that slept through the expiry stops without polling.
func TestPollSleptThroughExpiry(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(nil), pending)
	cfg := s.config(&recorder{})
	code, err := cfg.RequestCode(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	clk.OnSleep = func(time.Duration) { clk.Advance(time.Hour) }
	_, err = cfg.Poll(context.Background(), code)
	if err == nil || err.Error() != ExpiredMessage {
		t.Fatalf("err = %v", err)
	}
	if n := len(s.times()); n != 0 {
		t.Errorf("%d polls after the expiry", n)
	}
}

func TestPollCodeWithoutReceiptTime(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(nil), tokenReply(canaryToken))
	clk.Advance(time.Minute)
	code := &Code{DeviceCode: "dc", UserCode: "WDJB-MJHT", VerificationURI: "https://github.com/login/device", Interval: 7 * time.Second}
	cfg := s.config(&recorder{})
	cfg.Client = nil // the default client
	if _, err := cfg.Poll(context.Background(), code); err != nil {
		t.Fatal(err)
	}
	if g := gaps(t0.Add(time.Minute), s.times()); g[0] < 7*time.Second || g[0] > 7100*time.Millisecond {
		t.Errorf("first poll %v after Poll started, want one interval", g[0])
	}
}

func TestPollBadInput(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(nil))
	var ce *ConfigError
	if _, err := s.config(&recorder{}).Poll(context.Background(), nil); !errors.As(err, &ce) {
		t.Errorf("nil code: %v", err)
	}
	if _, err := s.config(&recorder{}).Poll(context.Background(), &Code{}); !errors.As(err, &ce) {
		t.Errorf("empty code: %v", err)
	}
	cfg := s.config(&recorder{})
	cfg.TokenURL = ""
	if _, err := cfg.Poll(context.Background(), &Code{DeviceCode: "x"}); !errors.As(err, &ce) {
		t.Errorf("no token URL: %v", err)
	}
}

func TestPollBackoff(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(nil),
		reply{status: 500, contentType: "text/plain", body: "oops"},
		reply{status: 502, contentType: "text/html", body: "<h1>Bad Gateway</h1>"},
		reply{status: 429, header: map[string]string{"Retry-After": "30"}, contentType: "application/json", body: `{"message":"rate limited"}`},
		reply{status: 503},
		reply{hangup: true},
		reply{status: 504},
		pending, // resets the backoff
		reply{status: 500},
		tokenReply(canaryToken))
	rec := &recorder{}
	if _, err := run(t, s.config(rec)); err != nil {
		t.Fatal(err)
	}
	type retry struct {
		reason string
		in     time.Duration
	}
	var got []retry
	for _, ev := range rec.of(KindRetry) {
		got = append(got, retry{ev.Reason, ev.RetryIn})
	}
	want := []retry{
		{"HTTP 500 Internal Server Error", 5 * time.Second},
		{"HTTP 502 Bad Gateway", 10 * time.Second},
		{"HTTP 429 Too Many Requests", 30 * time.Second}, // Retry-After beats 20 s
		{"HTTP 503 Service Unavailable", 40 * time.Second},
		{"network error: connection closed", 60 * time.Second}, // capped
		{"HTTP 504 Gateway Timeout", 60 * time.Second},
		{"HTTP 500 Internal Server Error", 5 * time.Second}, // after a good reply, from the start
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("retries:\n got %v\nwant %v", got, want)
	}
	// What the server saw: each poll no sooner than the announced delay.
	g := gaps(t0, s.times())
	wantGaps := []time.Duration{5, 5, 10, 30, 40, 60, 60, 5, 5}
	if len(g) != len(wantGaps) {
		t.Fatalf("gaps = %v", g)
	}
	for i := range g {
		w := wantGaps[i] * time.Second
		if g[i] != w+margin(w) {
			t.Errorf("gap %d = %v, want %v + margin", i, g[i], w)
		}
	}
	if got, want := rec.kinds(), []Kind{KindCode, KindRetry, KindRetry, KindRetry, KindRetry, KindRetry, KindRetry, KindPending, KindRetry, KindSuccess}; !reflect.DeepEqual(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
}

func TestPollBackoffNeverBelowInterval(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(map[string]any{"interval": 5}),
		oerr(200, "slow_down"), // interval 10 from now on
		reply{status: 500},
		reply{status: 429, header: map[string]string{"Retry-After": "1"}},
		tokenReply(canaryToken))
	rec := &recorder{}
	if _, err := run(t, s.config(rec)); err != nil {
		t.Fatal(err)
	}
	var in []time.Duration
	for _, ev := range rec.of(KindRetry) {
		in = append(in, ev.RetryIn)
	}
	if want := []time.Duration{10 * time.Second, 20 * time.Second}; !reflect.DeepEqual(in, want) {
		t.Errorf("retry delays = %v, want %v", in, want)
	}
	for i, d := range gaps(t0, s.times())[1:] {
		if d < 10*time.Second {
			t.Errorf("gap %d = %v, below the interval", i+1, d)
		}
	}
}

func TestPollRetryAfterHTTPDate(t *testing.T) {
	clk := clock.NewFake(t0)
	date := time.Now().Add(45 * time.Second).UTC().Format(http.TimeFormat)
	s := newServer(t, clk, codeJSON(nil),
		reply{status: 503, header: map[string]string{"Retry-After": date}},
		tokenReply(canaryToken))
	rec := &recorder{}
	if _, err := run(t, s.config(rec)); err != nil {
		t.Fatal(err)
	}
	r := rec.of(KindRetry)
	if len(r) != 1 || r[0].RetryIn < 40*time.Second || r[0].RetryIn > 46*time.Second {
		t.Fatalf("retry events = %+v, want about 45s", r)
	}
	if g := gaps(t0, s.times()); g[1] < r[0].RetryIn {
		t.Errorf("retried after %v, sooner than Retry-After %v", g[1], r[0].RetryIn)
	}
}

// Some servers answer trouble with a JSON OAuth error and a 5xx or 429.
func TestPollTransientOAuthErrors(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(nil),
		js(503, map[string]any{"error": "temporarily_unavailable"}),
		js(200, map[string]any{"error": "server_error"}),
		reply{status: 429, contentType: "application/json", body: `{"error":"rate_limited"}`, header: map[string]string{"Retry-After": "50"}},
		tokenReply(canaryToken))
	rec := &recorder{}
	if _, err := run(t, s.config(rec)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range rec.of(KindRetry) {
		got = append(got, fmt.Sprintf("%s/%v", ev.Reason, ev.RetryIn))
	}
	want := []string{"server answered temporarily_unavailable/5s", "server answered server_error/10s", "server answered rate_limited/50s"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("retries = %v, want %v", got, want)
	}
}

func TestPollNetworkErrorsUntilExpiry(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(map[string]any{"expires_in": 150}))
	cfg := s.config(&recorder{})
	rec := &recorder{}
	cfg.OnEvent = rec.on
	cfg.TokenURL = closedURL(t)
	_, err := cfg.Login(context.Background())
	var te *oauth.TimeoutError
	if !errors.As(err, &te) || te.Message != ExpiredMessage+" while the token endpoint could not be read (last: network error: connection refused)" {
		t.Fatalf("err = %v, want the expiry naming the last failure", err)
	}
	var in []time.Duration
	for _, ev := range rec.of(KindRetry) {
		if ev.Reason != "network error: connection refused" {
			t.Errorf("reason = %q", ev.Reason)
		}
		in = append(in, ev.RetryIn)
	}
	// Polls at ~5, ~10, ~20, ~40, ~80 s; the next (~140 s) fits before 150 s,
	// the one after (~200 s) does not.
	want := []time.Duration{5, 10, 20, 40, 60, 60}
	for i := range want {
		want[i] *= time.Second
	}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("retry delays = %v, want %v", in, want)
	}
	if !clk.Now().Equal(t0.Add(150 * time.Second)) {
		t.Errorf("stopped at %v, want the expiry (150s)", clk.Now().Sub(t0))
	}
	if k := rec.kinds(); k[len(k)-1] != KindError {
		t.Errorf("events = %v", k)
	}
}

func TestPollRequestTimeoutIsTransient(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(nil), reply{hang: true}, tokenReply(canaryToken))
	cfg := s.config(&recorder{})
	rec := &recorder{}
	cfg.OnEvent = rec.on
	cfg.Client = &oauth.Client{Timeout: 100 * time.Millisecond}
	if _, err := cfg.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := rec.of(KindRetry)
	if len(r) != 1 || r[0].Reason != "the request timed out" || r[0].RetryIn != 5*time.Second {
		t.Errorf("retry events = %+v", r)
	}
}

func TestPollCancelFromSleep(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(nil), pending)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &recorder{}
	cfg := s.config(rec)
	code, err := cfg.RequestCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clk.OnSleep = func(time.Duration) { cancel() }
	_, err = cfg.Poll(ctx, code)
	if !errors.Is(err, context.Canceled) || oauth.ErrorCode(err) != "cancelled" {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := len(s.times()); n != 0 {
		t.Errorf("%d polls after cancel", n)
	}
	if n := len(clk.Sleeps()); n != 1 {
		t.Errorf("%d sleeps, want 1", n)
	}
	if got, want := rec.kinds(), []Kind{KindCode, KindError}; !reflect.DeepEqual(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
	if ev := rec.all()[1]; !errors.Is(ev.Err, context.Canceled) {
		t.Errorf("error event = %+v", ev)
	}
}

func TestPollCancelFromEvent(t *testing.T) {
	for _, k := range []Kind{KindCode, KindPending, KindSlowDown, KindRetry} {
		t.Run(string(k), func(t *testing.T) {
			clk := clock.NewFake(t0)
			var second reply
			switch k {
			case KindSlowDown:
				second = oerr(200, "slow_down")
			case KindRetry:
				second = reply{status: 502}
			default:
				second = pending
			}
			s := newServer(t, clk, codeJSON(nil), second, tokenReply(canaryToken))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rec := &recorder{hook: func(ev Event) {
				if ev.Kind == k {
					cancel()
				}
			}}
			_, err := s.config(rec).Login(ctx)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			want := 1
			if k == KindCode {
				want = 0
			}
			if n := len(s.times()); n != want {
				t.Errorf("%d polls, want %d", n, want)
			}
			kinds := rec.kinds()
			if kinds[len(kinds)-1] != KindError || kinds[len(kinds)-2] != k {
				t.Errorf("events = %v", kinds)
			}
		})
	}
}

func TestPollCancelDuringRequest(t *testing.T) {
	clk := clock.NewFake(t0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newServer(t, clk, codeJSON(nil), reply{hang: true, onServe: cancel})
	rec := &recorder{}
	start := time.Now()
	_, err := s.config(rec).Login(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to stop", d)
	}
	if got, want := rec.kinds(), []Kind{KindCode, KindError}; !reflect.DeepEqual(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
}

// No token, refresh token or device code ever reaches an event or an error.
func TestCanaryNeverInEventsOrErrors(t *testing.T) {
	const deviceCanary = "DEVICECANARY7c1e9b2f4a"
	const refreshCanary = "ghr_REFRESHCANARY0123456789"
	code := codeJSON(map[string]any{"device_code": deviceCanary})
	success := js(200, map[string]any{"access_token": canaryToken, "refresh_token": refreshCanary, "token_type": "bearer", "scope": "repo"})
	echo := func(code string) reply {
		return js(200, map[string]any{"error": code, "error_description": "device code " + deviceCanary + " is " + code, "error_uri": "https://example.test/?c=" + deviceCanary})
	}
	scripts := map[string][]reply{
		"success": {pending, echo("slow_down"), reply{status: 500}, reply{hangup: true},
			reply{status: 429, header: map[string]string{"Retry-After": "7"}}, success},
		"denied":  {pending, echo("access_denied")},
		"unknown": {echo("weird_error")},
		"expired": {echo("authorization_pending")},
	}
	for name, polls := range scripts {
		t.Run(name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			code := code
			if name == "expired" {
				code = codeJSON(map[string]any{"device_code": deviceCanary, "expires_in": 30})
			}
			s := newServer(t, clk, code, polls...)
			rec := &recorder{}
			cfg := s.config(rec)
			tok, err := cfg.Login(context.Background())
			var texts []string
			if err != nil {
				texts = append(texts, err.Error(), fmt.Sprintf("%v %+v %#v", err, err, err))
			}
			if tok != nil {
				texts = append(texts, fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok))
			}
			for _, ev := range rec.all() {
				texts = append(texts, fmt.Sprintf("%v %+v %#v", ev, ev, ev))
				if ev.Code != nil {
					texts = append(texts, fmt.Sprintf("%v %+v %#v", *ev.Code, *ev.Code, ev.Code))
					b, _ := json.Marshal(ev.Code)
					texts = append(texts, string(b))
				}
				if ev.Err != nil {
					texts = append(texts, ev.Err.Error(), fmt.Sprintf("%#v", ev.Err))
				}
				texts = append(texts, ev.Reason)
			}
			for _, s := range texts {
				for _, secret := range []string{canaryToken, refreshCanary, deviceCanary} {
					if strings.Contains(s, secret) {
						t.Errorf("secret %q leaked into %q", secret, s)
					}
				}
			}
			if name == "success" && (err != nil || tok.AccessToken != canaryToken) {
				t.Errorf("login failed: %v", err)
			}
		})
	}
}

func TestBackoffSequence(t *testing.T) {
	s := time.Second
	cases := []struct {
		interval   time.Duration
		n          int
		retryAfter time.Duration
		want       time.Duration
	}{
		{5 * s, 1, 0, 5 * s},
		{5 * s, 2, 0, 10 * s},
		{5 * s, 3, 0, 20 * s},
		{5 * s, 4, 0, 40 * s},
		{5 * s, 5, 0, 60 * s},
		{5 * s, 50, 0, 60 * s},
		{5 * s, 1, 90 * s, 90 * s},
		{90 * s, 3, 0, 90 * s}, // never below the interval, even past the cap
		{10 * s, 1, 3 * s, 10 * s},
	}
	for _, tc := range cases {
		if got := backoff(tc.interval, tc.n, tc.retryAfter); got != tc.want {
			t.Errorf("backoff(%v, %d, %v) = %v, want %v", tc.interval, tc.n, tc.retryAfter, got, tc.want)
		}
	}
}

func TestMarginKeepsOvershootSmall(t *testing.T) {
	for _, iv := range []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, time.Minute} {
		m := margin(iv)
		// At least 1% and 15 ms (fast clocks, timer slack), at most 2% so
		// the overshoot stays well under the 5% aim.
		if m < 15*time.Millisecond || m < iv/100 || float64(m) > 0.02*float64(iv) {
			t.Errorf("margin(%v) = %v", iv, m)
		}
	}
}

func TestLoginStopsWhenTheCodeRequestFails(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, clk, oerr(200, "device_flow_disabled"), tokenReply(canaryToken))
	rec := &recorder{}
	_, err := s.config(rec).Login(context.Background())
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Code != "device_flow_disabled" {
		t.Fatalf("err = %v", err)
	}
	if n := len(s.times()); n != 0 {
		t.Errorf("%d polls without a code", n)
	}
	if got, want := rec.kinds(), []Kind{KindError}; !reflect.DeepEqual(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
}

// A captive portal, a WAF or a proxy may answer one poll with an HTML page
// and HTTP 200, or a body that is no OAuth reply; the person may already
// have approved, so such replies are retried (with backoff, as retry
// events) and the login goes on.
func TestPollUnparsedRepliesAreTransient(t *testing.T) {
	html := reply{status: 200, contentType: "text/html", body: "<html><title>Sign in to the Wi-Fi</title></html>"}
	untyped := reply{status: 200, contentType: "", body: "<!doctype html><p>proxy error</p>"}
	noToken := js(200, map[string]any{"token_type": "bearer"})
	garbled := reply{status: 200, contentType: "application/json", body: `{"access_token":`}
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(nil), html, pending, untyped, noToken, garbled, tokenReply(canaryToken))
	rec := &recorder{}
	tok, err := run(t, s.config(rec))
	if err != nil || tok.AccessToken != canaryToken {
		t.Fatalf("login = %v, %v; want the token after the unreadable replies", tok, err)
	}
	got := []string{}
	for _, ev := range rec.of(KindRetry) {
		got = append(got, fmt.Sprintf("%s/%v", ev.Reason, ev.RetryIn))
	}
	want := []string{
		"HTTP 200 with an HTML page instead of an OAuth reply (a proxy or captive portal?)/5s",
		"HTTP 200 with an HTML page instead of an OAuth reply (a proxy or captive portal?)/5s", // after a pending, from the start
		"HTTP 200 with a reply that is not an OAuth reply/10s",
		"HTTP 200 with a reply that is not an OAuth reply/20s",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("retries:\n got %v\nwant %v", got, want)
	}
	if k := rec.kinds(); k[len(k)-1] != KindSuccess {
		t.Errorf("events = %v", k)
	}
}

// Until expiry, unreadable replies are retried; at expiry the error says
// what the last one was.
func TestPollUnparsedUntilExpiry(t *testing.T) {
	html := reply{status: 200, contentType: "text/html", body: "<html>portal</html>"}
	clk := clock.NewFake(t0)
	s := newServer(t, clk, codeJSON(map[string]any{"expires_in": 60}), html, html, html, html, html, html, html, html)
	rec := &recorder{}
	_, err := run(t, s.config(rec))
	var te *oauth.TimeoutError
	if !errors.As(err, &te) || !strings.Contains(te.Message, "HTML page") || !strings.HasPrefix(te.Message, ExpiredMessage) {
		t.Fatalf("err = %v, want the expiry naming the HTML replies", err)
	}
	if n := len(rec.of(KindRetry)); n < 2 {
		t.Errorf("%d retry events, want the HTML replies retried", n)
	}
	if !clk.Now().Equal(t0.Add(60 * time.Second)) {
		t.Errorf("gave up %v after the code, want at its expiry (60s)", clk.Now().Sub(t0))
	}
}

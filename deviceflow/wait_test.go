package deviceflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/oauth"
)

// renewServer hands out a new device code per request ("dc-1", "dc-2", …)
// and answers polls with authorization_pending, except as its hooks say.
type renewServer struct {
	t   *testing.T
	clk *clock.Fake
	srv *httptest.Server

	mu        sync.Mutex
	codeTimes []time.Time
	polls     map[string]int
	// expiresIn is each code's lifetime in seconds.
	expiresIn int
	// codeReply, when it returns a status, answers code request n
	// (1-based) with it instead of a code.
	codeReply func(n int) (status int, header map[string]string, body string)
	// poll, when it returns a non-empty body, answers a poll of device
	// code dc instead of authorization_pending.
	poll func(dc string, now time.Time) string
}

func newRenewServer(t *testing.T, clk *clock.Fake) *renewServer {
	s := &renewServer{t: t, clk: clk, polls: map[string]int{}, expiresIn: 900}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *renewServer) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", 400)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.URL.Path {
	case "/login/device/code":
		s.codeTimes = append(s.codeTimes, s.clk.Now())
		n := len(s.codeTimes)
		if s.codeReply != nil {
			if status, header, body := s.codeReply(n); status != 0 {
				for k, v := range header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(status)
				w.Write([]byte(body))
				return
			}
		}
		json.NewEncoder(w).Encode(map[string]any{
			"device_code": fmt.Sprintf("dc-%d", n), "user_code": fmt.Sprintf("CODE-%04d", n),
			"verification_uri": "https://github.com/login/device", "expires_in": s.expiresIn, "interval": 5,
		})
	case "/login/oauth/access_token":
		dc := r.PostForm.Get("device_code")
		s.polls[dc]++
		if s.polls[dc] > 1000 {
			s.t.Errorf("runaway polling of %s", dc)
			w.Write([]byte(`{"error":"access_denied"}`))
			return
		}
		if s.poll != nil {
			if body := s.poll(dc, s.clk.Now()); body != "" {
				w.Write([]byte(body))
				return
			}
		}
		w.Write([]byte(`{"error":"authorization_pending"}`))
	default:
		http.NotFound(w, r)
	}
}

func (s *renewServer) config(rec *recorder, wait time.Duration) *Config {
	return &Config{
		Client:        &oauth.Client{Timeout: 10 * time.Second},
		Credentials:   oauth.Credentials{ClientID: testClientID},
		DeviceCodeURL: s.srv.URL + "/login/device/code",
		TokenURL:      s.srv.URL + "/login/oauth/access_token",
		Clock:         s.clk,
		OnEvent:       rec.on,
		Wait:          wait,
	}
}

func (s *renewServer) codeRequestTimes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.codeTimes...)
}

func userCodes(rec *recorder) []string {
	var out []string
	for _, ev := range rec.of(KindCode) {
		out = append(out, ev.Code.UserCode)
		if ev.Code.DeviceCode != "" {
			panic("device code in an event")
		}
	}
	return out
}

// Nobody approves: a new code each time one expires, until the wait has
// passed; then the login ends with a timeout that names the wait.
func TestWaitRenewsExpiredCodes(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newRenewServer(t, clk)
	rec := &recorder{}
	_, err := s.config(rec, 40*time.Minute).Login(context.Background())
	var te *oauth.TimeoutError
	if !errors.As(err, &te) || te.Flow != oauth.FlowDevice || te.Message != "no code was approved within 40m" || te.After != 40*time.Minute {
		t.Fatalf("err = %#v", err)
	}
	// Codes at 0, 15 and 30 minutes; the third, asked for before the
	// deadline, is polled until the deadline and no longer: the wait
	// wins over the code's lifetime.
	if got := strings.Join(userCodes(rec), " "); got != "CODE-0001 CODE-0002 CODE-0003" {
		t.Fatalf("codes %s", got)
	}
	g := gaps(t0, s.codeRequestTimes())
	if g[0] != 0 || g[1] != 15*time.Minute || g[2] != 15*time.Minute {
		t.Errorf("code requests at %v", g)
	}
	if now := clk.Now().Sub(t0); now != 40*time.Minute {
		t.Errorf("ended after %v, want 40m (the wait's end, before the last code's expiry)", now)
	}
	kinds := rec.kinds()
	if kinds[len(kinds)-1] != KindError || len(rec.of(KindError)) != 1 || len(rec.of(KindSuccess)) != 0 {
		t.Errorf("events end with %v", kinds[len(kinds)-3:])
	}
}

// The person approves the second code: its token is returned, no third
// code is requested.
func TestWaitApprovedLater(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newRenewServer(t, clk)
	s.poll = func(dc string, now time.Time) string {
		if dc == "dc-2" && now.Sub(t0) > 20*time.Minute {
			return `{"access_token":"` + canaryToken + `","token_type":"bearer","scope":"repo"}`
		}
		return ""
	}
	rec := &recorder{}
	tok, err := s.config(rec, 2*time.Hour).Login(context.Background())
	if err != nil || tok.AccessToken != canaryToken {
		t.Fatalf("Login = %v, %v", tok, err)
	}
	if got := strings.Join(userCodes(rec), " "); got != "CODE-0001 CODE-0002" {
		t.Fatalf("codes %s", got)
	}
	kinds := rec.kinds()
	if kinds[len(kinds)-1] != KindSuccess || len(rec.of(KindError)) != 0 {
		t.Errorf("events end with %v", kinds[len(kinds)-3:])
	}
	for _, ev := range rec.all() {
		if strings.Contains(fmt.Sprint(ev), canaryToken) {
			t.Fatal("token in an event")
		}
	}
}

// The server says expired_token before our clock does: a new code.
func TestWaitServerExpiredToken(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newRenewServer(t, clk)
	s.poll = func(dc string, now time.Time) string {
		switch dc {
		case "dc-1":
			return `{"error":"expired_token"}`
		case "dc-2":
			return `{"access_token":"` + canaryToken + `","token_type":"bearer"}`
		}
		return ""
	}
	rec := &recorder{}
	if _, err := s.config(rec, time.Hour).Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The second request keeps the minimum gap after the first.
	if g := gaps(t0, s.codeRequestTimes()); len(g) != 2 || g[1] < MinCodeGap {
		t.Errorf("code requests at %v, want %v apart at least", g, MinCodeGap)
	}
}

// Short-lived codes are not asked for more than once a minute.
func TestWaitMinimumGap(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newRenewServer(t, clk)
	s.expiresIn = 10
	rec := &recorder{}
	_, err := s.config(rec, 5*time.Minute).Login(context.Background())
	var te *oauth.TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v", err)
	}
	times := s.codeRequestTimes()
	if len(times) < 4 || len(times) > 6 {
		t.Errorf("%d code requests in 5 minutes", len(times))
	}
	for i, g := range gaps(t0, times)[1:] {
		if g < MinCodeGap {
			t.Errorf("gap %d is %v", i+1, g)
		}
	}
}

// Codes that expire long before the next may be asked for (one a minute):
// with a wait of 10 s and codes living 4 s, the one code is polled until it
// expires and the login ends then, with the wait's timeout; no second code
// is asked for at 60 s, past the wait.
func TestWaitEndsWhenNoNewCodeFitsBeforeTheDeadline(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newRenewServer(t, clk)
	s.expiresIn = 4
	rec := &recorder{}
	_, err := s.config(rec, 10*time.Second).Login(context.Background())
	var te *oauth.TimeoutError
	if !errors.As(err, &te) || te.Flow != oauth.FlowDevice || te.After != 10*time.Second || !strings.HasPrefix(te.Message, "no code was approved within 10s") {
		t.Fatalf("err = %#v", err)
	}
	if n := len(s.codeRequestTimes()); n != 1 {
		t.Errorf("%d code requests, want 1", n)
	}
	if now := clk.Now().Sub(t0); now > 10*time.Second {
		t.Errorf("ended after %v, past the 10s wait", now)
	}
	if got := len(rec.of(KindCode)); got != 1 {
		t.Errorf("%d code events", got)
	}
}

// A wait shorter than the code's life ends the login at the deadline, while
// the code would still be valid, with the wait's timeout.
func TestWaitDeadlineCutsThePoll(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newRenewServer(t, clk)
	rec := &recorder{}
	_, err := s.config(rec, 5*time.Minute).Login(context.Background())
	var te *oauth.TimeoutError
	if !errors.As(err, &te) || te.Message != "no code was approved within 5m" || te.After != 5*time.Minute {
		t.Fatalf("err = %#v", err)
	}
	if now := clk.Now().Sub(t0); now != 5*time.Minute {
		t.Errorf("ended after %v, want 5m", now)
	}
	if n := len(s.codeRequestTimes()); n != 1 {
		t.Errorf("%d code requests", n)
	}
	if kinds := rec.kinds(); kinds[len(kinds)-1] != KindError || len(rec.of(KindError)) != 1 {
		t.Errorf("events end with %v", kinds[len(kinds)-2:])
	}
}

// Failures to get a code that are worth retrying are retried (at least the
// minimum gap apart, at least Retry-After); a final one ends the login.
func TestWaitRetriesCodeRequests(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newRenewServer(t, clk)
	s.codeReply = func(n int) (int, map[string]string, string) {
		switch n {
		case 1:
			return 502, nil, "bad gateway"
		case 2:
			return 429, map[string]string{"Retry-After": "300"}, `{"message":"slow"}`
		}
		return 0, nil, ""
	}
	s.poll = func(dc string, now time.Time) string {
		return `{"access_token":"` + canaryToken + `","token_type":"bearer"}`
	}
	rec := &recorder{}
	if _, err := s.config(rec, time.Hour).Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	g := gaps(t0, s.codeRequestTimes())
	if len(g) != 3 || g[1] != MinCodeGap || g[2] != 300*time.Second {
		t.Errorf("code requests at %v, want 0, 1m, 5m apart", g)
	}
	retries := rec.of(KindRetry)
	if len(retries) != 2 || retries[0].RetryIn != MinCodeGap || retries[1].RetryIn != 300*time.Second || !strings.Contains(retries[0].Reason, "502") {
		t.Errorf("retries %+v", retries)
	}

	// Denied: final, whatever the wait.
	clk = clock.NewFake(t0)
	s = newRenewServer(t, clk)
	s.poll = func(string, time.Time) string { return `{"error":"access_denied"}` }
	rec = &recorder{}
	_, err := s.config(rec, time.Hour).Login(context.Background())
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Code != "access_denied" || len(s.codeRequestTimes()) != 1 {
		t.Fatalf("denied: %v after %d codes", err, len(s.codeRequestTimes()))
	}

	// A code request the server refuses for good (400): final too.
	clk = clock.NewFake(t0)
	s = newRenewServer(t, clk)
	s.codeReply = func(int) (int, map[string]string, string) { return 400, nil, `{"error":"device_flow_disabled"}` }
	_, err = s.config(&recorder{}, time.Hour).Login(context.Background())
	if !errors.As(err, &oe) || oe.Code != "device_flow_disabled" || len(s.codeRequestTimes()) != 1 {
		t.Fatalf("refused: %v after %d requests", err, len(s.codeRequestTimes()))
	}
}

// Retries stop when the next would come after the deadline.
func TestWaitRetriesEndAtDeadline(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newRenewServer(t, clk)
	s.codeReply = func(int) (int, map[string]string, string) { return 503, nil, "down" }
	_, err := s.config(&recorder{}, 10*time.Minute).Login(context.Background())
	var he *oauth.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 503 {
		t.Fatalf("err = %v", err)
	}
	// 0, 1m, 3m (2m backoff), 7m (4m); 8m more would pass 10m.
	if g := gaps(t0, s.codeRequestTimes()); len(g) != 4 || g[3] != 4*time.Minute {
		t.Errorf("requests at %v", g)
	}
	if clk.Now().Sub(t0) > 10*time.Minute {
		t.Errorf("waited past the deadline: %v", clk.Now().Sub(t0))
	}
}

func TestWaitCancelled(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newRenewServer(t, clk)
	ctx, cancel := context.WithCancel(context.Background())
	clk.OnSleep = func(time.Duration) {
		if clk.Now().Sub(t0) > 20*time.Minute {
			cancel()
		}
	}
	rec := &recorder{}
	_, err := s.config(rec, 2*time.Hour).Login(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if n := len(s.codeRequestTimes()); n != 2 {
		t.Errorf("%d codes", n)
	}
}

func TestWaitText(t *testing.T) {
	for d, want := range map[time.Duration]string{2 * time.Hour: "2h", 90 * time.Minute: "1h30m", 40 * time.Minute: "40m", 45 * time.Second: "45s", 100 * time.Second: "1m40s"} {
		if got := waitText(d); got != want {
			t.Errorf("waitText(%v) = %q, want %q", d, got, want)
		}
	}
}

package emulator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
)

// TestSlowDownPolls checks that listed polls get slow_down even when on time,
// and that the larger interval holds from then on.
func TestSlowDownPolls(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srv := New(Config{Clock: clk, Interval: 5 * time.Second, SlowDownPolls: []int{2}, AutoApproveAfter: 2})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	post := func(path string, form url.Values) url.Values {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, ts.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.WriteString(string(buf[:n]))
			if err != nil {
				break
			}
		}
		v, _ := url.ParseQuery(b.String())
		return v
	}
	code := post("/login/device/code", url.Values{"client_id": {DefaultClientID}, "scope": {"repo"}})
	poll := func() url.Values {
		return post("/login/oauth/access_token", url.Values{"client_id": {DefaultClientID}, "device_code": {code.Get("device_code")}, "grant_type": {DeviceGrantType}})
	}
	clk.Advance(5 * time.Second)
	if got := poll().Get("error"); got != "authorization_pending" {
		t.Fatalf("poll 1: %q", got)
	}
	clk.Advance(5 * time.Second)
	r := poll()
	if r.Get("error") != "slow_down" || r.Get("interval") != "10" {
		t.Fatalf("poll 2 = %v, want slow_down with interval 10", r)
	}
	clk.Advance(5 * time.Second)
	if got := poll().Get("error"); got != "slow_down" {
		t.Fatalf("poll 3 after only 5 s: %q, want slow_down (interval is now 10 s)", got)
	}
	clk.Advance(20 * time.Second)
	if got := poll(); got.Get("access_token") == "" {
		t.Fatalf("poll 4 = %v, want the token", got)
	}
	if st := srv.Stats(); st.EarlyPolls != 1 {
		t.Errorf("EarlyPolls = %d, want 1 (the forced slow_down is not the client's fault)", st.EarlyPolls)
	}
}

package refresh

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/store"
)

// The window rule: refresh when what is left drops to min(5 min, a quarter
// of the whole lifetime).
func TestWindowRule(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lifetime time.Duration // 0: IssuedAt unknown
		window   time.Duration
	}{
		{"GitHub App token, 8 h", 8 * time.Hour, 5 * time.Minute},
		{"1 h", time.Hour, 5 * time.Minute},
		{"20 min: a quarter is 5 min", 20 * time.Minute, 5 * time.Minute},
		{"10 min", 10 * time.Minute, 150 * time.Second},
		{"2 min", 2 * time.Minute, 30 * time.Second},
		{"1 min", time.Minute, 15 * time.Second},
		{"lifetime unknown (an older secret)", 0, 5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			sec := &store.Secret{Token: "x", ExpiresAt: t0.Add(tc.lifetime)}
			if tc.lifetime == 0 {
				sec.ExpiresAt = t0.Add(time.Hour)
			} else {
				sec.IssuedAt = t0
			}
			if got := Window(sec, DefaultSkew); got != tc.window {
				t.Fatalf("Window = %v, want %v", got, tc.window)
			}
			// Walk the clock to one second before the window: not due; to
			// its start: due; and at expiry and after: due.
			clk.Advance(sec.ExpiresAt.Add(-tc.window - time.Second).Sub(clk.Now()))
			if Due(sec, clk.Now(), DefaultSkew) {
				t.Errorf("due %v before expiry", tc.window+time.Second)
			}
			clk.Advance(time.Second)
			if !Due(sec, clk.Now(), DefaultSkew) {
				t.Errorf("not due %v before expiry", tc.window)
			}
			clk.Advance(tc.window + time.Hour)
			if !Due(sec, clk.Now(), DefaultSkew) {
				t.Error("an expired token is not due")
			}
		})
	}
	// A smaller skew from the caller still wins.
	sec := &store.Secret{Token: "x", IssuedAt: t0, ExpiresAt: t0.Add(8 * time.Hour)}
	if got := Window(sec, time.Minute); got != time.Minute {
		t.Errorf("Window with skew 1 min = %v", got)
	}
	if Window(nil, DefaultSkew) != DefaultSkew || Due(nil, t0, DefaultSkew) {
		t.Error("nil secret")
	}
	// IssuedAt after ExpiresAt (a clock gone back) is ignored.
	if got := Window(&store.Secret{IssuedAt: t0.Add(time.Hour), ExpiresAt: t0}, DefaultSkew); got != DefaultSkew {
		t.Errorf("Window with a bad IssuedAt = %v", got)
	}
}

// countingServer answers refreshes with short-lived pairs (lifetime seconds).
func countingServer(t *testing.T, lifetime int, extra string) *server {
	var n atomic.Int32
	return newServer(t, func(w http.ResponseWriter, _ url.Values) {
		i := n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"at_%d","expires_in":%d,"refresh_token":"rt_%d","token_type":"Bearer"%s}`, i, lifetime, i, extra)
	})
}

// A two-minute token is refreshed once in its last 30 s, not on every use.
func TestShortTokenRefreshedOnce(t *testing.T) {
	clk := clock.NewFake(t0)
	st, a, _ := fixture(t, t0.Add(2*time.Minute), "rt_0", time.Time{})
	sec := stored(t, st, a)
	sec.IssuedAt = t0
	if err := st.Replace(context.Background(), a.Host, a.Login, sec); err != nil {
		t.Fatal(err)
	}
	s := countingServer(t, 120, "")
	var notices []string
	o := opts(s, clk)
	o.OnRefresh = func(n Notice) { notices = append(notices, n.String()) }
	for i := 0; i < 9; i++ { // every 10 s for 90 s: not due
		if _, err := Token(context.Background(), st, a, o); err != nil {
			t.Fatal(err)
		}
		clk.Advance(10 * time.Second)
	}
	if s.calls.Load() != 0 {
		t.Fatalf("%d refreshes in the first 90 s of a 120 s token", s.calls.Load())
	}
	got, err := Token(context.Background(), st, a, o) // at 90 s: 30 s left
	if err != nil || got.Token != "at_1" || s.calls.Load() != 1 {
		t.Fatalf("at 90 s: %v %+v, %d calls", err, got, s.calls.Load())
	}
	if len(notices) != 1 || notices[0] != "the token for app@ghe.example.com expires in 30 s, refreshing" {
		t.Errorf("notices = %q", notices)
	}
	for i := 0; i < 8; i++ { // the new pair (to 210 s): 80 more seconds without a request
		clk.Advance(10 * time.Second)
		if _, err := Token(context.Background(), st, a, o); err != nil {
			t.Fatal(err)
		}
	}
	if s.calls.Load() != 1 {
		t.Fatalf("%d refreshes, want 1", s.calls.Load())
	}
	clk.Advance(time.Minute) // expired now
	if _, err := Token(context.Background(), st, a, o); err != nil || s.calls.Load() != 2 {
		t.Fatalf("after expiry: %v, %d calls", err, s.calls.Load())
	}
	if notices[1] != "the token for app@ghe.example.com expired 20 s ago, refreshing" {
		t.Errorf("notices = %q", notices)
	}
}

// What a failed refresh says depends on whether the token has expired, and
// a dead refresh token is told apart from other refusals.
func TestRefreshFailureMessages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		exp    time.Duration
		reply  string
		status int
		dead   bool
		want   string
	}{
		{"inside the window, invalid_grant", 40 * time.Second, `{"error":"invalid_grant","error_description":"grant request is invalid"}`, 400, true,
			"the token for app@ghe.example.com expires in 40 s and could not be refreshed (the refresh token is no longer valid: the server answered invalid_grant: grant request is invalid)"},
		{"expired, invalid_grant", -time.Minute, `{"error":"invalid_grant"}`, 400, true,
			"the token for app@ghe.example.com expired and could not be refreshed (the refresh token is no longer valid"},
		{"invalid_request answered to a refresh", -time.Minute, `{"error":"invalid_request","error_description":"refresh token not found"}`, 400, true,
			"the refresh token is no longer valid: the server answered invalid_request"},
		{"GitHub's bad_refresh_token", -time.Minute, `{"error":"bad_refresh_token"}`, 200, true, "no longer valid"},
		{"invalid_client is not a dead refresh token", -time.Minute, `{"error":"invalid_client"}`, 401, false, "(the server answered invalid_client)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			st, a, _ := fixture(t, t0.Add(tc.exp), "rt", time.Time{})
			s := newServer(t, func(w http.ResponseWriter, _ url.Values) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.reply)
			})
			_, err := Token(context.Background(), st, a, opts(s, clk))
			var nl *NeedsLoginError
			if !errors.As(err, &nl) || nl.DeadRefreshToken != tc.dead || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v (dead %v), want dead %v and %q", err, nl != nil && nl.DeadRefreshToken, tc.dead, tc.want)
			}
			if !strings.HasSuffix(err.Error(), "; run ghlogin login --host ghe.example.com") {
				t.Errorf("message %q does not end with the login command", err)
			}
		})
	}
	// A refresh token that expired while the token is inside its window.
	clk := clock.NewFake(t0)
	st, a, _ := fixture(t, t0.Add(time.Minute), "rt", t0.Add(-time.Second))
	_, err := Token(context.Background(), st, a, opts(newServer(t, jsonReply(rotated)), clk))
	if err == nil || !strings.Contains(err.Error(), "expires in 60 s and could not be refreshed (the refresh token expired on") {
		t.Errorf("err = %v", err)
	}
	if got := (Notice{Host: "h", Login: "l", IDToken: true, Remaining: 1500 * time.Millisecond}).String(); got != "the ID token for l@h expires in 2 s, refreshing" {
		t.Errorf("Notice = %q", got)
	}
	if got := (Notice{Host: "h", Login: "l"}).String(); got != "the token for l@h expired, refreshing" {
		t.Errorf("Notice = %q", got)
	}
}

// idToken is an unsigned JWT with iat and exp (only their times are read).
func idToken(iat, exp time.Time) string {
	b, _ := json.Marshal(map[string]any{"iss": "https://sso.example.com", "sub": "a", "iat": iat.Unix(), "exp": exp.Unix()})
	return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(b) + ".c2ln"
}

func TestIDToken(t *testing.T) {
	ctx := context.Background()
	// The access token lives an hour, the ID token ten minutes: with
	// IDToken the ID token's window decides.
	setup := func(t *testing.T) (*store.Store, store.Account) {
		st, a, _ := fixture(t, t0.Add(time.Hour), "rt_0", time.Time{})
		sec := stored(t, st, a)
		sec.IssuedAt, sec.IDToken = t0, idToken(t0, t0.Add(10*time.Minute))
		if err := st.Replace(ctx, a.Host, a.Login, sec); err != nil {
			t.Fatal(err)
		}
		return st, a
	}
	t.Run("refreshed when the ID token is due", func(t *testing.T) {
		st, a := setup(t)
		clk := clock.NewFake(t0.Add(7 * time.Minute)) // 3 min left, window 2.5 min
		fresh := idToken(t0.Add(7*time.Minute), t0.Add(17*time.Minute))
		s := countingServer(t, 3600, `,"id_token":"`+fresh+`"`)
		o := opts(s, clk)
		if _, err := Token(ctx, st, a, o); err != nil || s.calls.Load() != 0 {
			t.Fatalf("without IDToken: %v, %d calls", err, s.calls.Load())
		}
		o.IDToken = true
		if _, err := Token(ctx, st, a, o); err != nil || s.calls.Load() != 0 {
			t.Fatalf("3 min left of 10: %v, %d calls", err, s.calls.Load())
		}
		clk.Advance(45 * time.Second)
		var notice Notice
		o.OnRefresh = func(n Notice) { notice = n }
		got, err := Token(ctx, st, a, o)
		if err != nil || s.calls.Load() != 1 || got.IDToken != fresh || !got.IDTokenExpiresAt.Equal(t0.Add(17*time.Minute)) {
			t.Fatalf("due: %v, %d calls, %+v", err, s.calls.Load(), got)
		}
		if !notice.IDToken || notice.String() != "the ID token for app@ghe.example.com expires in 135 s, refreshing" {
			t.Errorf("notice = %q", notice)
		}
	})
	t.Run("a refresh without a new ID token keeps the old one while it lasts", func(t *testing.T) {
		st, a := setup(t)
		clk := clock.NewFake(t0.Add(9 * time.Minute))
		s := countingServer(t, 3600, "")
		o := opts(s, clk)
		o.IDToken = true
		got, err := Token(ctx, st, a, o)
		if err != nil || s.calls.Load() != 1 || got.IDToken != idToken(t0, t0.Add(10*time.Minute)) {
			t.Fatalf("%v, %d calls", err, s.calls.Load())
		}
		clk.Advance(2 * time.Minute) // the old ID token has expired
		_, err = Token(ctx, st, a, o)
		var nl *NeedsLoginError
		if !errors.As(err, &nl) || !strings.Contains(err.Error(), "the ID token expired and the server sent no new one") {
			t.Fatalf("expired ID token: %v", err)
		}
	})
	t.Run("no ID token", func(t *testing.T) {
		st, a, _ := fixture(t, t0.Add(time.Hour), "rt_0", time.Time{})
		o := opts(countingServer(t, 3600, ""), clock.NewFake(t0))
		o.IDToken = true
		_, err := Token(ctx, st, a, o)
		var ne *NoIDTokenError
		if !errors.As(err, &ne) || err.Error() != "the account app@ghe.example.com has no ID token" {
			t.Fatalf("err = %v", err)
		}
	})
}

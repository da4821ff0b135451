package refresh

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/store/storetest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// server is a token endpoint; reply writes the answer to a refresh.
type server struct {
	*httptest.Server
	calls atomic.Int32
	mu    sync.Mutex
	forms []url.Values
	reply func(w http.ResponseWriter, form url.Values)
}

func newServer(t *testing.T, reply func(w http.ResponseWriter, form url.Values)) *server {
	s := &server{reply: reply}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		if r.Method != http.MethodPost || r.Header.Get("Accept") != "application/json" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		r.ParseForm()
		s.mu.Lock()
		s.forms = append(s.forms, r.PostForm)
		s.mu.Unlock()
		s.reply(w, r.PostForm)
	}))
	t.Cleanup(s.Close)
	return s
}

func jsonReply(body string) func(http.ResponseWriter, url.Values) {
	return func(w http.ResponseWriter, _ url.Values) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}
}

const rotated = `{"access_token":"ghu_new","expires_in":28800,"refresh_token":"ghr_new","refresh_token_expires_in":15811200,"scope":"","token_type":"bearer"}`

// fixture is a real file store with two accounts on ghe.example.com:
// "active" (active, token not expiring) and "app" (expiring at exp).
func fixture(t *testing.T, exp time.Time, refreshTok string, refreshExp time.Time) (*store.Store, store.Account, *store.Secret) {
	t.Helper()
	st, err := store.Open(store.Options{Dir: t.TempDir(), Keyring: storetest.NewMemKeyring()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sec := &store.Secret{Token: "ghu_old", TokenType: "bearer", ExpiresAt: exp, RefreshToken: refreshTok, RefreshTokenExpiresAt: refreshExp}
	if err := st.Save(ctx, "ghe.example.com", "app", store.BackendFile, sec); err != nil {
		t.Fatal(err)
	}
	if err := st.Save(ctx, "ghe.example.com", "active", store.BackendFile, &store.Secret{Token: "gho_other"}); err != nil {
		t.Fatal(err)
	}
	a, err := st.Resolve("ghe.example.com", "app")
	if err != nil {
		t.Fatal(err)
	}
	return st, a, sec
}

func opts(s *server, clk clock.Clock) Options {
	return Options{
		TokenURL:    s.URL + "/login/oauth/access_token",
		Credentials: oauth.Credentials{ClientID: "Iv1.abc", ClientSecret: "shh"},
		Clock:       clk,
	}
}

func stored(t *testing.T, st *store.Store, a store.Account) *store.Secret {
	t.Helper()
	sec, err := st.Secret(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	return sec
}

func TestRotationIsStored(t *testing.T) {
	clk := clock.NewFake(t0)
	st, a, _ := fixture(t, t0.Add(4*time.Minute), "ghr_old", t0.Add(90*24*time.Hour))
	s := newServer(t, jsonReply(rotated))
	got, err := Token(context.Background(), st, a, opts(s, clk))
	if err != nil {
		t.Fatal(err)
	}
	want := &store.Secret{Token: "ghu_new", TokenType: "bearer", ExpiresAt: t0.Add(8 * time.Hour), IssuedAt: t0,
		RefreshToken: "ghr_new", RefreshTokenExpiresAt: t0.Add(15811200 * time.Second)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("returned %+v", got.ExpiresAt)
	}
	if sec := stored(t, st, a); !reflect.DeepEqual(sec, want) {
		t.Fatal("the stored secret is not the new pair")
	}
	f := s.forms[0]
	if f.Get("grant_type") != "refresh_token" || f.Get("refresh_token") != "ghr_old" || f.Get("client_id") != "Iv1.abc" || f.Get("client_secret") != "shh" {
		t.Fatalf("form %v", f)
	}
	// The index shows both expiries, and the active account did not change.
	accts, _ := st.Accounts("ghe.example.com")
	for _, ac := range accts {
		if ac.Login == "app" && (!ac.ExpiresAt.Equal(want.ExpiresAt) || !ac.RefreshExpiresAt.Equal(want.RefreshTokenExpiresAt) || ac.Active) {
			t.Fatalf("index entry %+v", ac)
		}
		if ac.Login == "active" && !ac.Active {
			t.Fatal("refresh changed the active account")
		}
	}
	// Now far from expiry: no request.
	if _, err := Token(context.Background(), st, a, opts(s, clk)); err != nil || s.calls.Load() != 1 {
		t.Fatalf("%v, %d calls", err, s.calls.Load())
	}
}

func TestNoClientSecretWhenNoneConfigured(t *testing.T) {
	clk := clock.NewFake(t0)
	st, a, _ := fixture(t, t0.Add(-time.Hour), "ghr_old", time.Time{})
	s := newServer(t, jsonReply(rotated))
	o := opts(s, clk)
	o.Credentials.ClientSecret = ""
	if _, err := Token(context.Background(), st, a, o); err != nil {
		t.Fatal(err)
	}
	if _, has := s.forms[0]["client_secret"]; has {
		t.Fatal("sent an empty client_secret")
	}
}

func TestServerKeepsRefreshToken(t *testing.T) {
	clk := clock.NewFake(t0)
	rexp := t0.Add(30 * 24 * time.Hour)
	st, a, _ := fixture(t, t0.Add(time.Minute), "ghr_old", rexp)
	s := newServer(t, jsonReply(`{"access_token":"ghu_new","expires_in":"3600","token_type":"bearer","scope":"repo"}`))
	got, err := Token(context.Background(), st, a, opts(s, clk))
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshToken != "ghr_old" || !got.RefreshTokenExpiresAt.Equal(rexp) || !got.ExpiresAt.Equal(t0.Add(time.Hour)) || got.Scopes[0] != "repo" {
		t.Fatalf("%+v", got)
	}
}

func TestNotDue(t *testing.T) {
	clk := clock.NewFake(t0)
	st, a, _ := fixture(t, t0.Add(6*time.Minute), "ghr_old", t0.Add(time.Hour))
	s := newServer(t, jsonReply(rotated))
	got, err := Token(context.Background(), st, a, opts(s, clk))
	if err != nil || got.Token != "ghu_old" || s.calls.Load() != 0 {
		t.Fatalf("%v %d", err, s.calls.Load())
	}
	if _, err := os.Stat(st.LockPath(LockName(a.Host, a.Login))); err == nil {
		t.Fatal("took the lock for a token that is not due")
	}
	// A token without expiry is never due.
	if Due(&store.Secret{Token: "x"}, t0, DefaultSkew) {
		t.Fatal("non-expiring token is due")
	}
	// Exactly at the skew boundary it is due.
	if !Due(&store.Secret{Token: "x", ExpiresAt: t0.Add(DefaultSkew)}, t0, DefaultSkew) {
		t.Fatal("boundary")
	}
}

func TestBadRefreshToken(t *testing.T) {
	clk := clock.NewFake(t0)
	st, a, before := fixture(t, t0.Add(-time.Minute), "ghr_old", t0.Add(time.Hour))
	s := newServer(t, func(w http.ResponseWriter, _ url.Values) {
		// GitHub answers HTTP 200 with the error, form-encoded by default.
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		fmt.Fprint(w, "error=bad_refresh_token&error_description=The+refresh+token+passed+is+incorrect+or+expired.&error_uri=https%3A%2F%2Fdocs.github.com")
	})
	_, err := Token(context.Background(), st, a, opts(s, clk))
	var nl *NeedsLoginError
	if !errors.As(err, &nl) {
		t.Fatalf("%T %v", err, err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "the token for app@ghe.example.com expired and could not be refreshed") ||
		!strings.Contains(msg, "bad_refresh_token") || !strings.Contains(msg, "run ghlogin login --host ghe.example.com") ||
		strings.Contains(msg, "ghr_old") {
		t.Fatalf("message %q", msg)
	}
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Code != "bad_refresh_token" {
		t.Fatal("the server's error is not reachable")
	}
	if sec := stored(t, st, a); !reflect.DeepEqual(sec, before) {
		t.Fatal("the old secret was changed")
	}
}

func TestOtherServerErrors(t *testing.T) {
	for _, c := range []struct {
		name      string
		reply     func(http.ResponseWriter, url.Values)
		needLogin bool
		want      string
	}{
		{name: "incorrect client credentials", reply: jsonReply(`{"error":"incorrect_client_credentials"}`), needLogin: true, want: "incorrect_client_credentials"},
		{name: "unauthorized client (401 JSON)", reply: func(w http.ResponseWriter, _ url.Values) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"unauthorized_client"}`)
		}, needLogin: true, want: "unauthorized_client"},
		{name: "500", reply: func(w http.ResponseWriter, _ url.Values) { http.Error(w, "boom", 500) }, want: "HTTP 500"},
		{name: "429", reply: func(w http.ResponseWriter, _ url.Values) {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(429)
		}, want: "HTTP 429"},
		{name: "no access token", reply: jsonReply(`{"token_type":"bearer"}`), want: "no access_token"},
		{name: "malformed token", reply: jsonReply(`{"access_token":"ghu_a\nb"}`), want: "malformed access_token"},
		{name: "not JSON", reply: func(w http.ResponseWriter, _ url.Values) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>")
		}, want: "HTML page"},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			st, a, before := fixture(t, t0.Add(-time.Minute), "ghr_old", t0.Add(time.Hour))
			s := newServer(t, c.reply)
			_, err := Token(context.Background(), st, a, opts(s, clk))
			var nl *NeedsLoginError
			// internal/hint's tests check the next step people see.
			if err == nil || errors.As(err, &nl) != c.needLogin || !strings.Contains(err.Error(), c.want) || nl != nil && nl.DeadRefreshToken {
				t.Fatalf("%T %v", err, err)
			}
			if !c.needLogin && !oauth.IsTransient(err) && c.want == "HTTP 500" {
				t.Fatal("a 500 is not transient")
			}
			if sec := stored(t, st, a); !reflect.DeepEqual(sec, before) {
				t.Fatal("the old secret was changed")
			}
		})
	}
}

func TestNetworkErrorKeepsSecret(t *testing.T) {
	clk := clock.NewFake(t0)
	st, a, before := fixture(t, t0.Add(-time.Minute), "ghr_old", t0.Add(time.Hour))
	o := Options{TokenURL: "http://127.0.0.1:1/login/oauth/access_token", Clock: clk, Client: &oauth.Client{Timeout: 2 * time.Second}}
	_, err := Token(context.Background(), st, a, o)
	var ne *oauth.NetworkError
	var nl *NeedsLoginError
	if !errors.As(err, &ne) || errors.As(err, &nl) || !strings.Contains(err.Error(), "check your network") {
		t.Fatalf("%T %v", err, err)
	}
	if sec := stored(t, st, a); !reflect.DeepEqual(sec, before) {
		t.Fatal("the old secret was changed")
	}
}

func TestExpiredRefreshTokenNeedsLoginWithoutRequest(t *testing.T) {
	clk := clock.NewFake(t0)
	st, a, before := fixture(t, t0.Add(-time.Minute), "ghr_old", t0.Add(-time.Second))
	s := newServer(t, jsonReply(rotated))
	_, err := Token(context.Background(), st, a, opts(s, clk))
	var nl *NeedsLoginError
	if !errors.As(err, &nl) || !strings.Contains(err.Error(), "refresh token expired") || s.calls.Load() != 0 {
		t.Fatalf("%v, %d calls", err, s.calls.Load())
	}
	if sec := stored(t, st, a); !reflect.DeepEqual(sec, before) {
		t.Fatal("changed")
	}
}

func TestNoRefreshToken(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newServer(t, jsonReply(rotated))
	// Due but still valid: returned as it is.
	st, a, _ := fixture(t, t0.Add(time.Minute), "", time.Time{})
	got, err := Token(context.Background(), st, a, opts(s, clk))
	if err != nil || got.Token != "ghu_old" {
		t.Fatal(err)
	}
	// Expired: log in again.
	st, a, _ = fixture(t, t0.Add(-time.Minute), "", time.Time{})
	_, err = Token(context.Background(), st, a, opts(s, clk))
	var nl *NeedsLoginError
	if !errors.As(err, &nl) || s.calls.Load() != 0 {
		t.Fatalf("%v", err)
	}
}

// Goroutines racing on one expired account: one request, one new pair.
func TestConcurrentRefreshOnce(t *testing.T) {
	st, a, _ := fixture(t, time.Now().Add(-time.Minute), "ghr_old", time.Now().Add(time.Hour))
	var valid atomic.Value
	valid.Store("ghr_old")
	var n atomic.Int32
	s := newServer(t, func(w http.ResponseWriter, f url.Values) {
		time.Sleep(50 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		if f.Get("refresh_token") != valid.Load().(string) {
			fmt.Fprint(w, `{"error":"bad_refresh_token"}`)
			return
		}
		i := n.Add(1)
		valid.Store(fmt.Sprintf("ghr_%d", i))
		fmt.Fprintf(w, `{"access_token":"ghu_%d","expires_in":28800,"refresh_token":"ghr_%d","refresh_token_expires_in":15811200}`, i, i)
	})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sec, err := Token(context.Background(), st, a, opts(s, nil))
			if err == nil && sec.Token != "ghu_1" {
				err = fmt.Errorf("got another token")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if s.calls.Load() != 1 {
		t.Fatalf("%d requests", s.calls.Load())
	}
}

func TestLockTimeout(t *testing.T) {
	st, a, _ := fixture(t, time.Now().Add(-time.Minute), "ghr_old", time.Now().Add(time.Hour))
	s := newServer(t, jsonReply(rotated))
	held, release := make(chan struct{}), make(chan struct{})
	go st.WithLock(context.Background(), LockName(a.Host, a.Login), func() error {
		close(held)
		<-release
		return nil
	})
	<-held
	defer close(release)
	o := opts(s, nil)
	o.LockTimeout = 100 * time.Millisecond
	_, err := Token(context.Background(), st, a, o)
	if err == nil || !strings.Contains(err.Error(), "timed out") || s.calls.Load() != 0 {
		t.Fatalf("%v", err)
	}
}

// failingReplace makes Replace fail after the server has rotated the pair.
type failingReplace struct{ *store.Store }

func (failingReplace) Replace(context.Context, string, string, *store.Secret) error {
	return errors.New("disk full")
}

func TestSaveFailureNeedsLogin(t *testing.T) {
	clk := clock.NewFake(t0)
	st, a, before := fixture(t, t0.Add(-time.Minute), "ghr_old", t0.Add(time.Hour))
	s := newServer(t, jsonReply(rotated))
	_, err := Token(context.Background(), failingReplace{st}, a, opts(s, clk))
	var nl *NeedsLoginError
	if !errors.As(err, &nl) || !strings.Contains(err.Error(), "could not be saved") {
		t.Fatalf("%v", err)
	}
	if sec := stored(t, st, a); !reflect.DeepEqual(sec, before) {
		t.Fatal("half-written secret")
	}
}

// The account was logged out while the refresh ran: it is not re-created.
func TestReplaceDoesNotResurrect(t *testing.T) {
	clk := clock.NewFake(t0)
	st, a, _ := fixture(t, t0.Add(-time.Minute), "ghr_old", t0.Add(time.Hour))
	s := newServer(t, func(w http.ResponseWriter, f url.Values) {
		if _, err := st.Remove(context.Background(), a.Host, a.Login); err != nil {
			panic(err)
		}
		jsonReply(rotated)(w, f)
	})
	_, err := Token(context.Background(), st, a, opts(s, clk))
	var nl *NeedsLoginError
	if !errors.As(err, &nl) {
		t.Fatalf("%v", err)
	}
	if _, err := st.Resolve(a.Host, a.Login); err == nil {
		t.Fatal("the removed account came back")
	}
}

// A token the server refused is refreshed whatever its expiry says; once
// another process has replaced it, the replacement is returned as it is.
func TestRejectedTokenIsRefreshed(t *testing.T) {
	clk := clock.NewFake(t0)
	st, a, _ := fixture(t, t0.Add(time.Hour), "ghr_old", t0.Add(24*time.Hour))
	s := newServer(t, jsonReply(rotated))
	o := opts(s, clk)
	o.Rejected = "ghu_old"
	got, err := Token(context.Background(), st, a, o)
	if err != nil || got.Token == "ghu_old" || s.calls.Load() != 1 {
		t.Fatalf("%v %+v %d", err, got, s.calls.Load())
	}
	// The stored token is no longer the refused one: nothing more is asked.
	again, err := Token(context.Background(), st, a, o)
	if err != nil || again.Token != got.Token || s.calls.Load() != 1 {
		t.Fatalf("%v %+v %d", err, again, s.calls.Load())
	}
}

package safehttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// collector counts the requests that reach it: a server that must receive nothing.
type collector struct {
	srv  *httptest.Server
	hits atomic.Int32
}

func newCollector(t *testing.T, tls bool) *collector {
	c := &collector{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		io.WriteString(w, "collected")
	})
	if tls {
		c.srv = httptest.NewTLSServer(h)
	} else {
		c.srv = httptest.NewServer(h)
	}
	t.Cleanup(c.srv.Close)
	return c
}

func redirector(t *testing.T, status int, to func() string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/final" {
			io.WriteString(w, "final")
			return
		}
		http.Redirect(w, r, to(), status)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRedirectPolicy(t *testing.T) {
	other := newCollector(t, false)
	for _, status := range []int{301, 302, 307, 308} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var self *httptest.Server
			self = redirector(t, status, func() string { return other.srv.URL + "/collect" })
			client := HTTPClient(nil, 5*time.Second)
			before := other.hits.Load()

			// A token request: a POST carrying a client secret.
			resp, err := client.PostForm(self.URL+"/token", url.Values{"client_secret": {"canary-secret"}})
			if err == nil {
				resp.Body.Close()
				t.Fatal("a POST followed a redirect")
			}
			var re *RedirectError
			if !errors.As(err, &re) || !re.Secret || re.LocationHost != strings.TrimPrefix(other.srv.URL, "http://") {
				t.Fatalf("err = %v, want a *RedirectError naming the other host", err)
			}
			if !strings.Contains(err.Error(), self.URL+"/token") || strings.Contains(err.Error(), "canary") {
				t.Errorf("message %q must name the endpoint and hold no secret", err)
			}

			// A GET with a bearer token.
			req, _ := http.NewRequest(http.MethodGet, self.URL+"/user", nil)
			req.Header.Set("Authorization", "Bearer canary-token")
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
				t.Fatal("a bearer GET followed a redirect")
			}

			// A GET marked as carrying a secret in its context.
			req, _ = http.NewRequestWithContext(WithSecret(context.Background()), http.MethodGet, self.URL+"/x?code=1", nil)
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
				t.Fatal("a GET marked secret followed a redirect")
			}

			// A plain GET to another port.
			if resp, err := client.Get(self.URL + "/discovery"); err == nil {
				resp.Body.Close()
				t.Fatal("a plain GET followed a redirect to another port")
			}
			if n := other.hits.Load() - before; n != 0 {
				t.Errorf("the other server received %d requests, want 0", n)
			}
		})
	}
}

func TestRedirectSameOriginFollowed(t *testing.T) {
	var srv *httptest.Server
	srv = redirector(t, 302, func() string { return srv.URL + "/final" })
	resp, err := HTTPClient(nil, 5*time.Second).Get(srv.URL + "/start")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "final" {
		t.Fatalf("body %q", b)
	}
}

func TestRedirectHTTPSToHTTP(t *testing.T) {
	plain := newCollector(t, false)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Same host, plain http: Go would keep the Authorization header.
		http.Redirect(w, r, "http://"+strings.TrimPrefix(plain.srv.URL, "http://")+"/user", http.StatusFound)
	}))
	defer tlsSrv.Close()
	client := HTTPClient(tlsSrv.Client(), 5*time.Second)
	for _, auth := range []string{"Bearer canary-token", ""} {
		req, _ := http.NewRequest(http.MethodGet, tlsSrv.URL+"/user", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("https → http followed (auth %q)", auth)
		}
		var re *RedirectError
		if !errors.As(err, &re) || re.LocationScheme != "http" {
			t.Fatalf("err = %v, want a *RedirectError naming http", err)
		}
	}
	if n := plain.hits.Load(); n != 0 {
		t.Errorf("the http server received %d requests", n)
	}
}

func TestRedirectTooMany(t *testing.T) {
	var srv *httptest.Server
	srv = redirector(t, 302, func() string { return srv.URL + "/again" })
	_, err := HTTPClient(nil, 5*time.Second).Get(srv.URL + "/again")
	var re *RedirectError
	if !errors.As(err, &re) || !re.TooMany {
		t.Fatalf("err = %v, want too many redirects", err)
	}
}

func TestHTTPClientKeepsBase(t *testing.T) {
	base := &http.Client{Timeout: 7 * time.Second, Transport: http.DefaultTransport}
	c := HTTPClient(base, time.Second)
	if c.Timeout != 7*time.Second || c.Transport != base.Transport || c.CheckRedirect == nil {
		t.Fatalf("client = %+v", c)
	}
	if base.CheckRedirect != nil {
		t.Fatal("the base client was changed")
	}
	if HTTPClient(nil, time.Second).Timeout != time.Second {
		t.Fatal("no timeout on a new client")
	}
}

func FuzzCheckRedirect(f *testing.F) {
	f.Add("GET", "https://a.example/x", "https://a.example/y", "")
	f.Add("POST", "https://a.example/token", "http://b.example/collect", "")
	f.Add("GET", "https://a.example:443/x", "https://A.example/y", "Bearer t")
	f.Add("GET", "http://127.0.0.1:8787/x", "http://127.0.0.1:8788/x", "")
	f.Fuzz(func(t *testing.T, method, from, to, auth string) {
		fu, err1 := url.Parse(from)
		tu, err2 := url.Parse(to)
		if err1 != nil || err2 != nil {
			return
		}
		first := &http.Request{Method: method, URL: fu, Header: http.Header{}}
		if auth != "" {
			first.Header.Set("Authorization", auth)
		}
		first = first.WithContext(context.Background())
		next := (&http.Request{Method: http.MethodGet, URL: tu, Header: http.Header{}}).WithContext(context.Background())
		err := CheckRedirect(next, []*http.Request{first})
		if err == nil {
			if CarriesSecret(first) {
				t.Fatalf("a request carrying a secret (%s, auth %q) may follow %s → %s", method, auth, from, to)
			}
			if !strings.EqualFold(fu.Scheme, tu.Scheme) || !sameHostPort(fu, tu) {
				t.Fatalf("followed a redirect off the origin: %s → %s", from, to)
			}
		}
	})
}

package hostile

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/emulator/workload"
)

// collector is a server that must receive nothing: it counts every request
// that reaches it, with the secrets it carried.
type collector struct {
	srv  *httptest.Server
	hits atomic.Int32
	mu   sync.Mutex
	seen []string // method, path, Authorization and body of each request
}

// newCollector serves on addr (e.g. "127.0.0.1:0").
func newCollector(t *testing.T, addr string) (*collector, error) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &collector{}
	c.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.hits.Add(1)
		c.mu.Lock()
		c.seen = append(c.seen, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization")+" body="+string(b))
		c.mu.Unlock()
		io.WriteString(w, `{"access_token":"collected","login":"collected","value":"collected"}`)
	}))
	c.srv.Listener.Close()
	c.srv.Listener = ln
	c.srv.Start()
	t.Cleanup(c.srv.Close)
	return c, nil
}

// host is the collector's host:port.
func (c *collector) host() string { return c.srv.Listener.Addr().String() }

// check fails the test if the collector received anything.
func (c *collector) check(t *testing.T) {
	t.Helper()
	if n := c.hits.Load(); n != 0 {
		c.mu.Lock()
		defer c.mu.Unlock()
		t.Errorf("the redirect target %s received %d request(s): %q", c.host(), n, c.seen)
	}
}

// rule makes the hostile server redirect the requests it matches.
type rule struct {
	match  func(r *http.Request, form url.Values) bool
	to     string // the Location
	status int
}

// hostile is the emulator (GitHub and the workload fakes) behind a front
// that redirects the requests its rule matches, or answers them with a
// handler of its own.
type hostile struct {
	srv        *httptest.Server
	url        string
	emu        *emulator.Server
	rule       atomic.Pointer[rule]
	redirected atomic.Int32
	// answer, when set, answers the requests it returns true for.
	answer atomic.Pointer[func(w http.ResponseWriter, r *http.Request, form url.Values) bool]
}

// newHostile starts the front on 127.0.0.1, over TLS (with the test CA's
// certificate) when tlsOn.
func newHostile(t *testing.T, tlsOn bool, cfg emulator.Config) *hostile {
	t.Helper()
	h := &hostile{emu: emulator.New(cfg)}
	h.srv = httptest.NewUnstartedServer(http.HandlerFunc(h.serve))
	if tlsOn {
		h.srv.TLS = &tls.Config{Certificates: []tls.Certificate{testCA.leaf}}
		h.srv.StartTLS()
	} else {
		h.srv.Start()
	}
	h.url = h.srv.URL
	t.Cleanup(h.srv.Close)
	return h
}

// emulatorConfig is the emulator the hostile fronts stand before: one-second
// polls, approval at the first timely poll, web logins approved at once, and
// the workload fakes.
func emulatorConfig() emulator.Config {
	return emulator.Config{Interval: time.Second, AutoApproveAfter: 1, AutoApproveWeb: true, Workload: &workload.Config{}}
}

func (h *hostile) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	form := url.Values{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, _ = url.ParseQuery(string(body))
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if ru := h.rule.Load(); ru != nil && ru.match(r, form) {
		h.redirected.Add(1)
		http.Redirect(w, r, ru.to, ru.status)
		return
	}
	if a := h.answer.Load(); a != nil && (*a)(w, r, form) {
		return
	}
	h.emu.ServeHTTP(w, r)
}

// host is the front's host:port.
func (h *hostile) host() string { return h.srv.Listener.Addr().String() }

// port is the front's port.
func (h *hostile) port() string {
	_, p, _ := net.SplitHostPort(h.host())
	return p
}

// setAnswer installs an answer for some requests (nil removes it).
func (h *hostile) setAnswer(f func(w http.ResponseWriter, r *http.Request, form url.Values) bool) {
	if f == nil {
		h.answer.Store(nil)
		return
	}
	h.answer.Store(&f)
}

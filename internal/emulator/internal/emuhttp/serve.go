package emuhttp

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ghlogin/ghlogin/internal/safe"
)

// Serving is the lifecycle of a started server, shared by the GitHub
// emulator and the workload fakes: serve on a loopback listener until ctx
// ends or Close is called. The zero value is a server never started.
type Serving struct {
	baseURL string // "http://127.0.0.1:PORT" once started
	httpSrv *http.Server
	served  chan struct{}
	closeMu sync.Once
}

// BaseURL is "http://ADDR" of a started server, "" before Serve.
func (sv *Serving) BaseURL() string { return sv.baseURL }

// Serve starts serving h on ln in the background, bounded by readTimeout
// per request, and stops when ctx ends.
func (sv *Serving) Serve(ctx context.Context, ln net.Listener, h http.Handler, readTimeout time.Duration) {
	sv.baseURL = "http://" + ln.Addr().String()
	sv.httpSrv = &http.Server{
		Handler:           hostGuard(h, ln.Addr().String()),
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       time.Minute,
	}
	sv.served = make(chan struct{})
	go func() {
		defer close(sv.served)
		_ = sv.httpSrv.Serve(ln)
	}()
	go func() {
		select {
		case <-ctx.Done():
			sv.Close()
		case <-sv.served:
		}
	}()
}

// Close stops a started server and waits for it; it is safe to call twice
// and does nothing when the server was never started.
func (sv *Serving) Close() error {
	if sv.httpSrv == nil {
		return nil
	}
	var err error
	sv.closeMu.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err = sv.httpSrv.Shutdown(ctx); err != nil {
			err = sv.httpSrv.Close()
		}
		<-sv.served
	})
	return err
}

// ListenLoopback listens on addr (default DefaultAddr), which must name a
// loopback address; "localhost" means 127.0.0.1.
func ListenLoopback(ctx context.Context, addr string) (net.Listener, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("emulator address %q: %w (use HOST:PORT, e.g. 127.0.0.1:8787)", addr, err)
	}
	if !safe.IsLoopback(host) {
		return nil, fmt.Errorf("emulator address %q: %w; use 127.0.0.1 or [::1]", addr, ErrNotLoopback)
	}
	if strings.EqualFold(host, "localhost") {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("emulator: cannot listen on %s: %w (pick another --addr or port)", addr, err)
	}
	return ln, nil
}

// hostGuard lets through only requests whose Host names this server: its
// own loopback address:port, localhost:port or [::1]:port. Anything else
// gets 421 Misdirected Request (RFC 9110 §15.5.20): a web page whose DNS name
// was rebound to 127.0.0.1 reaches the port, but its requests carry that
// name in Host (DNS rebinding), and must not reach the emulator's accounts.
func hostGuard(h http.Handler, self string) http.Handler {
	_, port, _ := net.SplitHostPort(self)
	allowed := map[string]bool{
		strings.ToLower(self):         true,
		"localhost:" + port:           true,
		net.JoinHostPort("::1", port): true,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowed[strings.ToLower(r.Host)] {
			http.Error(w, "421 misdirected request: this emulator answers only to "+self+", localhost:"+port+" and [::1]:"+port, http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

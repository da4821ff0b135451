package emulator

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator/workload"
)

// TestHostCheck: the started emulator (GitHub and workload fakes alike)
// answers only requests whose Host names it — its own address:port,
// localhost:port, [::1]:port — and 421 to any other name, which is what a
// DNS-rebinding page would send.
func TestHostCheck(t *testing.T) {
	gh, err := Start(context.Background(), "127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer gh.Close()
	wl, err := workload.Start(context.Background(), "127.0.0.1:0", workload.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer wl.Close()
	for name, base := range map[string]string{"github": gh.URL(), "workload": wl.URL()} {
		addr := strings.TrimPrefix(base, "http://")
		_, port, _ := net.SplitHostPort(addr)
		path := "/login/device/code"
		if name == "workload" {
			path = "/_services/token/.well-known/openid-configuration"
		}
		for host, want := range map[string]int{
			addr:                       0,
			"localhost:" + port:        0,
			"LOCALHOST:" + port:        0,
			"[::1]:" + port:            0,
			"attacker.example:" + port: http.StatusMisdirectedRequest,
			"attacker.example":         http.StatusMisdirectedRequest,
			"127.0.0.1.nip.io:" + port: http.StatusMisdirectedRequest,
			"localhost":                http.StatusMisdirectedRequest,
			"127.0.0.1:1":              http.StatusMisdirectedRequest,
			"localhost.:" + port:       http.StatusMisdirectedRequest,
			"rebind.example:" + port:   http.StatusMisdirectedRequest,
		} {
			method := http.MethodGet
			if name == "github" {
				method = http.MethodPost
			}
			req, _ := http.NewRequest(method, base+path, strings.NewReader("client_id="+DefaultClientID))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Host = host
			resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
			if err != nil {
				t.Fatalf("%s Host %q: %v", name, host, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case want == http.StatusMisdirectedRequest && resp.StatusCode != want:
				t.Errorf("%s Host %q: HTTP %d, want 421", name, host, resp.StatusCode)
			case want == 0 && resp.StatusCode == http.StatusMisdirectedRequest:
				t.Errorf("%s Host %q: refused (%s)", name, host, body)
			}
		}
	}
}

package idtoken

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

const identityURLPath = "/computeMetadata/v1/instance/service-accounts/default/identity"

// metadataServer starts a fake metadata server and points GCE_METADATA_HOST
// at it (the metadata library reads the process environment).
func metadataServer(t *testing.T, handler http.HandlerFunc) (*recorder, *GCE) {
	t.Helper()
	srv := newRecorder(t, handler)
	t.Setenv(EnvMetadataHost, srv.host())
	return srv, &GCE{Getenv: os.Getenv}
}

func TestGCETokenRequestShape(t *testing.T) {
	jwt := signJWT(t, testKey(t, 0), "g1", map[string]any{"iss": "https://accounts.google.com", "aud": "https://example.com", "sub": "1234567890"})
	srv, g := metadataServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Metadata-Flavor", "Google")
		w.Header().Set("Content-Type", "application/text")
		_, _ = w.Write([]byte(jwt + "\n"))
	})
	if g.Name() != "gce" {
		t.Errorf("Name = %q", g.Name())
	}
	cases := []struct {
		name      string
		req       Request
		wantQuery string
	}{
		{"standard", Request{Audience: "https://example.com"}, "audience=https%3A%2F%2Fexample.com"},
		{"full", Request{Audience: "https://example.com", Full: true}, "audience=https%3A%2F%2Fexample.com&format=full"},
		{"full with licenses", Request{Audience: "https://example.com", Full: true, Licenses: true}, "audience=https%3A%2F%2Fexample.com&format=full&licenses=TRUE"},
		{"audience with reserved characters", Request{Audience: "a b&c"}, "audience=a+b%26c"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(srv.requests())
			got, err := g.Token(context.Background(), c.req)
			if err != nil {
				t.Fatal(err)
			}
			if got != jwt {
				t.Fatal("token differs from the reply body (trimmed)")
			}
			reqs := srv.requests()[before:]
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodGet || r.Path != identityURLPath || r.RawQuery != c.wantQuery {
				t.Errorf("request = %s %s?%s, want GET %s?%s", r.Method, r.Path, r.RawQuery, identityURLPath, c.wantQuery)
			}
			if h := r.Header.Get("Metadata-Flavor"); h != "Google" {
				t.Errorf("Metadata-Flavor = %q", h)
			}
			if h := r.Header.Get("X-Forwarded-For"); h != "" {
				t.Errorf("X-Forwarded-For = %q", h)
			}
		})
	}
}

func TestGCETokenUsageErrors(t *testing.T) {
	srv, g := metadataServer(t, func(w http.ResponseWriter, r *http.Request) { t.Error("no request expected") })
	for _, c := range []struct {
		name string
		req  Request
		want string
	}{
		{"no audience", Request{}, "--audience is required for the metadata server"},
		{"blank audience", Request{Audience: "  "}, "--audience is required for the metadata server"},
		{"licenses without full", Request{Audience: "a", Licenses: true}, "format=full"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := g.Token(context.Background(), c.req)
			var ue *UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want *UsageError with %q", err, c.want)
			}
		})
	}
	t.Run("host with a scheme", func(t *testing.T) {
		g := &GCE{Getenv: func(string) string { return "http://" + srv.host() }}
		_, err := g.Token(context.Background(), Request{Audience: "a"})
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "GCE_METADATA_HOST must be host:port") {
			t.Fatalf("err = %v", err)
		}
	})
	if n := len(srv.requests()); n != 0 {
		t.Errorf("%d requests made", n)
	}
}

func TestGCETokenErrors(t *testing.T) {
	leakedJWT := signJWT(t, testKey(t, 1), "g1", map[string]any{"iss": "https://accounts.google.com", "email": "canary@example.iam.gserviceaccount.com"})
	cases := []struct {
		name      string
		status    int
		body      string
		timeout   time.Duration
		wantType  string
		wantInMsg []string
	}{
		{"404 no service account", 404, "Not Found\n", 0, "http", []string{"HTTP 404", "no service account"}},
		{"403 missing header", 403, "Missing required header: Metadata-Flavor", 0, "http", []string{"HTTP 403", "Missing required header: Metadata-Flavor", "Metadata-Flavor: Google"}},
		{"403 leaking a token", 403, "denied " + leakedJWT, 0, "http", []string{"HTTP 403", "[redacted]"}},
		{"400 audience", 400, "non-empty audience parameter required", 0, "http", []string{"HTTP 400", "non-empty audience parameter required", "--audience"}},
		{"503 after the library's retries", 503, "unavailable", 0, "http", []string{"HTTP 503", "try again"}},
		{"500 until the deadline", 500, "boom", 100 * time.Millisecond, "http", []string{"HTTP 500", "still failing when the time ran out"}},
		{"429 until the deadline", 429, "slow down", 100 * time.Millisecond, "http", []string{"HTTP 429"}},
		{"empty body", 200, "", 0, "response", []string{"empty"}},
		{"blank body", 200, " \n", 0, "response", []string{"empty"}},
		{"not a JWT", 200, "<html>hello</html>", 0, "response", []string{"not a JWT"}},
		{"JSON instead of a JWT", 200, `{"token":"x"}`, 0, "response", []string{"not a JWT"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			srv, g := metadataServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Metadata-Flavor", "Google")
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte(c.body))
			})
			ctx := context.Background()
			if c.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.timeout)
				defer cancel()
			}
			_, err := g.Token(ctx, Request{Audience: "https://example.com"})
			switch c.wantType {
			case "http":
				var he *HTTPError
				if !errors.As(err, &he) || he.StatusCode != c.status || he.Source != SourceGCE {
					t.Fatalf("err = %#v, want *HTTPError %d", err, c.status)
				}
			case "response":
				var re *ResponseError
				if !errors.As(err, &re) {
					t.Fatalf("err = %#v, want *ResponseError", err)
				}
			}
			for _, w := range c.wantInMsg {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			assertNoSecret(t, err, append(tokenParts(leakedJWT), "canary@example")...)
			if c.status >= 500 && c.timeout == 0 && len(srv.requests()) < 2 {
				t.Errorf("%d requests: the library's retries did not run", len(srv.requests()))
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestGCETokenNetwork(t *testing.T) {
	srv := newRecorder(t, func(http.ResponseWriter, *http.Request) {})
	host := srv.host()
	srv.Close()
	t.Setenv(EnvMetadataHost, host)
	_, err := (&GCE{}).Token(context.Background(), Request{Audience: "a"})
	var ne *NetworkError
	if !errors.As(err, &ne) || ne.Host != host {
		t.Fatalf("err = %v, want *NetworkError naming %s", err, host)
	}
	for _, w := range []string{"the metadata server at " + host, "GCE_METADATA_HOST"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q lacks %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "audience=") {
		t.Errorf("error repeats the URL: %v", err)
	}
}

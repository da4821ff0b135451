package idtoken

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
)

const wifAudience = "https://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/providers/actions"

func TestActionsTokenURL(t *testing.T) {
	const enc = "https%3A%2F%2Fiam.googleapis.com%2Fprojects%2F123456789012%2Flocations%2Fglobal%2FworkloadIdentityPools%2Fgithub%2Fproviders%2Factions"
	base := "https://pipelines.actions.githubusercontent.com/abc/_apis/distributedtask/hubs/Actions/plans/p1/jobs/j1/idtoken"
	cases := []struct {
		name, in, aud, wantQuery string
	}{
		{"existing api-version", base + "?api-version=2.0", wifAudience, "api-version=2.0&audience=" + enc},
		{"no query", base, wifAudience, "audience=" + enc},
		{"other params keep order and encoding", base + "?z=1&api-version=2.0&a=x%2Fy", "sts.amazonaws.com", "z=1&api-version=2.0&a=x%2Fy&audience=sts.amazonaws.com"},
		{"existing audience replaced", base + "?audience=old&api-version=2.0", "new", "api-version=2.0&audience=new"},
		{"encoded audience key replaced", base + "?%61udience=old&api-version=2.0", "new", "api-version=2.0&audience=new"},
		{"reserved characters", base + "?api-version=2.0", "a b&c=d+e", "api-version=2.0&audience=a+b%26c%3Dd%2Be"},
		{"empty audience leaves the query", base + "?api-version=2.0", "", "api-version=2.0"},
		{"trailing ampersand", base + "?api-version=2.0&", "x", "api-version=2.0&audience=x"},
		{"fragment dropped", base + "?api-version=2.0#frag", "x", "api-version=2.0&audience=x"},
		{"loopback http", "http://127.0.0.1:8080/idtoken?api-version=2.0", "x", "api-version=2.0&audience=x"},
		{"localhost http", "http://localhost:8080/idtoken?api-version=2.0", "x", "api-version=2.0&audience=x"},
		{"IPv6 loopback http", "http://[::1]:8080/idtoken?api-version=2.0", "x", "api-version=2.0&audience=x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ActionsTokenURL(c.in, c.aud)
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if u.RawQuery != c.wantQuery {
				t.Errorf("RawQuery = %q, want %q", u.RawQuery, c.wantQuery)
			}
			if u.Fragment != "" {
				t.Errorf("fragment kept: %q", got)
			}
			if c.aud != "" && u.Query().Get("audience") != c.aud {
				t.Errorf("audience decodes to %q, want %q", u.Query().Get("audience"), c.aud)
			}
		})
	}
	for _, bad := range []string{"http://pipelines.example.com/idtoken?api-version=2.0", "ftp://127.0.0.1/x", "/relative?api-version=2.0", "", "://x"} {
		_, err := ActionsTokenURL(bad, "x")
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("ActionsTokenURL(%q) = %v, want *UsageError", bad, err)
		}
	}
}

func TestGitHubActionsTokenRequestShape(t *testing.T) {
	jwt := signJWT(t, testKey(t, 0), "k1", map[string]any{"iss": "https://token.actions.githubusercontent.com", "aud": wifAudience, "sub": "repo:octo-org/octo-repo:ref:refs/heads/main"})
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write([]byte(`{"count":1,"value":"` + jwt + `"}`))
	})
	for _, c := range []struct {
		name, requestURL, aud, wantQuery string
	}{
		{"audience appended to api-version", srv.URL + "/_apis/distributedtask/hubs/Actions/plans/p/jobs/j/idtoken?api-version=2.0", wifAudience,
			"api-version=2.0&audience=https%3A%2F%2Fiam.googleapis.com%2Fprojects%2F123456789012%2Flocations%2Fglobal%2FworkloadIdentityPools%2Fgithub%2Fproviders%2Factions"},
		{"default audience", srv.URL + "/_apis/distributedtask/hubs/Actions/plans/p/jobs/j/idtoken?api-version=2.0", "", "api-version=2.0"},
		{"no query in URL", srv.URL + "/idtoken", "sts.amazonaws.com", "audience=sts.amazonaws.com"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(srv.requests())
			g := &GitHubActions{RequestURL: c.requestURL, RequestToken: canaryRequestToken}
			got, err := g.Token(context.Background(), Request{Audience: c.aud})
			if err != nil {
				t.Fatal(err)
			}
			if got != jwt {
				t.Fatal("token is not the reply's value")
			}
			reqs := srv.requests()[before:]
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			wantPath, _, _ := strings.Cut(strings.TrimPrefix(c.requestURL, srv.URL), "?")
			if r.Method != http.MethodGet || r.Path != wantPath || r.RawQuery != c.wantQuery {
				t.Errorf("request = %s %s?%s, want GET %s?%s", r.Method, r.Path, r.RawQuery, wantPath, c.wantQuery)
			}
			if h := r.Header.Get("Authorization"); h != "Bearer "+canaryRequestToken {
				t.Errorf("Authorization = %q", h)
			}
			if h := r.Header.Get("Accept"); h != "application/json" {
				t.Errorf("Accept = %q", h)
			}
		})
	}
	if g := (&GitHubActions{}); g.Name() != "github-actions" {
		t.Errorf("Name = %q", g.Name())
	}
}

func TestGitHubActionsTokenErrors(t *testing.T) {
	leakedJWT := signJWT(t, testKey(t, 0), "k1", map[string]any{"iss": "https://x", "secret": "canary-claim"})
	cases := []struct {
		name      string
		status    int
		body      string
		wantType  string
		wantInMsg []string
	}{
		{"400", 400, `{"message":"Invalid audience"}`, "http", []string{"HTTP 400", "Invalid audience", "--audience"}},
		{"401 echoing the token", 401, `{"message":"Bearer ` + canaryRequestToken + ` is not valid"}`, "http", []string{"HTTP 401", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "same job", "[redacted]"}},
		{"403", 403, `{"$id":"1","innerException":null,"message":"The user does not have permission","typeName":"x"}`, "http", []string{"HTTP 403", "id-token: write", "does not have permission"}},
		{"404 text", 404, "Not Found\n<html>", "http", []string{"HTTP 404", "ACTIONS_ID_TOKEN_REQUEST_URL"}},
		{"429", 429, ``, "http", []string{"HTTP 429", "re-run"}},
		{"500 leaking a JWT", 500, `{"message":"boom ` + leakedJWT + `"}`, "http", []string{"HTTP 500", "re-run"}},
		{"503", 503, `Service Unavailable`, "http", []string{"HTTP 503"}},
		{"302 without location", 302, ``, "http", []string{"HTTP 302"}},
		{"bad JSON", 200, `{"value":`, "response", []string{"not a JSON object"}},
		{"HTML", 200, `<html>sign in</html>`, "response", []string{"not a JSON object"}},
		{"missing value", 200, `{"count":0}`, "response", []string{`no "value"`}},
		{"empty value", 200, `{"value":""}`, "response", []string{`"value" field is empty`}},
		{"value not a string", 200, `{"value":42}`, "response", []string{"not a string"}},
		{"null value", 200, `{"value":null}`, "response", []string{`"value" field is empty`}},
		{"JSON array", 200, `["x"]`, "response", []string{"not a JSON object"}},
		{"non-JWT value", 200, `{"value":"` + canaryRequestToken + `"}`, "response", []string{"not a JWT"}},
		{"two-part value", 200, `{"value":"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0"}`, "response", []string{"not a JWT"}},
		{"unsigned value", 200, `{"value":"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}`, "response", []string{"signature"}},
		{"empty body", 200, ``, "response", []string{"empty"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte(c.body))
			})
			g := &GitHubActions{RequestURL: srv.URL + "/idtoken?api-version=2.0", RequestToken: canaryRequestToken}
			_, err := g.Token(context.Background(), Request{Audience: "aud"})
			if err == nil {
				t.Fatal("no error")
			}
			switch c.wantType {
			case "http":
				var he *HTTPError
				if !errors.As(err, &he) || he.StatusCode != c.status || he.Source != SourceGitHubActions {
					t.Fatalf("err = %#v, want *HTTPError %d", err, c.status)
				}
				if he.Transient() != (c.status == 429 || c.status >= 500) {
					t.Errorf("Transient() = %v", he.Transient())
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
			assertNoSecret(t, err, append(tokenParts(leakedJWT), canaryRequestToken, "canary-claim")...)
		})
	}
}

func TestGitHubActionsFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	_, err := GitHubActionsFromEnv(env(nil))
	var na *NotAvailableError
	if !errors.As(err, &na) || na.Source != SourceGitHubActions {
		t.Fatalf("err = %v, want *NotAvailableError", err)
	}
	for _, w := range []string{"permissions: id-token: write", "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q lacks %q", err, w)
		}
	}
	_, err = GitHubActionsFromEnv(env(map[string]string{EnvActionsRequestURL: "https://x.example/idtoken?api-version=2.0"}))
	if !errors.As(err, &na) || !strings.Contains(err.Error(), "ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set") || !strings.Contains(err.Error(), "id-token: write") {
		t.Errorf("only URL set: %v", err)
	}
	_, err = GitHubActionsFromEnv(env(map[string]string{EnvActionsRequestURL: "http://x.example/idtoken", EnvActionsRequestToken: canaryRequestToken}))
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "https") {
		t.Errorf("plain http URL: %v, want *UsageError about https", err)
	}
	assertNoSecret(t, err, canaryRequestToken)
	g, err := GitHubActionsFromEnv(env(map[string]string{EnvActionsRequestURL: " https://x.example/idtoken?api-version=2.0 ", EnvActionsRequestToken: canaryRequestToken + "\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if g.RequestURL != "https://x.example/idtoken?api-version=2.0" || g.RequestToken != canaryRequestToken {
		t.Errorf("got %+v", g)
	}
}

func TestGitHubActionsTokenRefusals(t *testing.T) {
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { t.Error("no request expected") })
	cases := []struct {
		name string
		g    *GitHubActions
		req  Request
		want any
	}{
		{"no token", &GitHubActions{RequestURL: srv.URL}, Request{}, new(*NotAvailableError)},
		{"no URL", &GitHubActions{RequestToken: canaryRequestToken}, Request{}, new(*NotAvailableError)},
		{"plain http to a remote host", &GitHubActions{RequestURL: "http://203.0.113.9/idtoken", RequestToken: canaryRequestToken}, Request{}, new(*UsageError)},
		{"format=full", &GitHubActions{RequestURL: srv.URL, RequestToken: canaryRequestToken}, Request{Full: true}, new(*UsageError)},
		{"licenses", &GitHubActions{RequestURL: srv.URL, RequestToken: canaryRequestToken}, Request{Licenses: true}, new(*UsageError)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.g.Token(context.Background(), c.req)
			if err == nil || !errors.As(err, c.want) {
				t.Fatalf("err = %v, want %T", err, c.want)
			}
			assertNoSecret(t, err, canaryRequestToken)
		})
	}
}

func TestGitHubActionsTokenNetwork(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		srv := newRecorder(t, func(http.ResponseWriter, *http.Request) {})
		u := srv.URL
		srv.Close()
		_, err := (&GitHubActions{RequestURL: u + "/idtoken?api-version=2.0", RequestToken: canaryRequestToken}).Token(context.Background(), Request{Audience: "a"})
		var ne *NetworkError
		if !errors.As(err, &ne) || ne.Host != strings.TrimPrefix(u, "http://") {
			t.Fatalf("err = %v, want *NetworkError for the host", err)
		}
		if strings.Contains(err.Error(), "api-version") {
			t.Errorf("error repeats the URL: %v", err)
		}
		assertNoSecret(t, err, canaryRequestToken)
	})
	t.Run("timeout through ctx", func(t *testing.T) {
		release := make(chan struct{})
		srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := (&GitHubActions{RequestURL: srv.URL + "/idtoken", RequestToken: canaryRequestToken}).Token(ctx, Request{})
		var ne *NetworkError
		if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want a timed-out *NetworkError", err)
		}
		if !strings.Contains(err.Error(), "timed out") {
			t.Errorf("message %q does not say it timed out", err)
		}
	})
	t.Run("redirect refused", func(t *testing.T) {
		// The request carries the bearer: it follows no redirect, not
		// even to the same host on another port (Go would keep the header).
		for _, to := range []string{"http://203.0.113.9/steal", "http://127.0.0.1:1/steal"} {
			srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, to, http.StatusTemporaryRedirect)
			})
			_, err := (&GitHubActions{RequestURL: srv.URL + "/idtoken?api-version=2.0", RequestToken: canaryRequestToken}).Token(context.Background(), Request{Audience: "aud"})
			var re *safehttp.RedirectError
			if !errors.As(err, &re) || !re.Secret || !strings.Contains(err.Error(), srv.URL+"/idtoken answered with a redirect to "+strings.TrimPrefix(to[:strings.LastIndex(to, "/")], "http://")) {
				t.Fatalf("err = %v, want a refused redirect naming the endpoint and %s", err, to)
			}
			if strings.Contains(err.Error(), "api-version") {
				t.Errorf("error repeats the query: %v", err)
			}
			assertNoSecret(t, err, canaryRequestToken)
		}
	})
}

// In a job without the token variables, the error names the permission
// and GitHub's rule that pull requests from forks never get a token.
func TestGitHubActionsNotAvailableInJob(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	_, err := GitHubActionsFromEnv(env(map[string]string{EnvGitHubActions: "true", EnvGitHubEventName: "push"}))
	var na *NotAvailableError
	if !errors.As(err, &na) || !na.InActions {
		t.Fatalf("err = %#v, want *NotAvailableError in a job", err)
	}
	for _, w := range []string{"in this GitHub Actions job", "permissions: id-token: write", "pull requests from forks never get an OIDC token", "must not rely on one there"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q lacks %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "push event") {
		t.Errorf("a push event is blamed: %v", err)
	}
	_, err = GitHubActionsFromEnv(env(map[string]string{EnvGitHubActions: "true", EnvGitHubEventName: "pull_request"}))
	if !strings.Contains(err.Error(), "this job runs for a pull_request event, so if the pull request comes from a fork, that is why") {
		t.Errorf("pull_request: %v", err)
	}
	// Outside a job the fork rule is still named, without "this job".
	_, err = GitHubActionsFromEnv(env(nil))
	if errors.As(err, &na) && na.InActions || !strings.Contains(err.Error(), "forks") || strings.Contains(err.Error(), "this GitHub Actions job") {
		t.Errorf("outside a job: %v", err)
	}
}

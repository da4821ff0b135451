package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/google"

	"github.com/ghlogin/ghlogin/internal/emulator/workload"
)

// The workload identity commands, run as a CI job would run them: the built
// binary, its environment pointing at the emulator's fakes of the GitHub
// Actions token endpoint, the Google metadata server, STS and IAM
// Credentials, all on loopback.

const (
	// actionsBearer is the job's token request bearer: a canary that must
	// never be printed by any command.
	actionsBearer = "ACTIONS-REQUEST-CANARY-7d1f0c2a9b"
	e2eProvider   = "projects/123456789012/locations/global/workloadIdentityPools/github/providers/actions"
	e2eSA         = "deployer@emulator-project.iam.gserviceaccount.com"
)

func startWorkload(t *testing.T, cfg workload.Config) *workload.Server {
	t.Helper()
	if cfg.ActionsRequestToken == "" {
		cfg.ActionsRequestToken = actionsBearer
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := workload.Start(ctx, "127.0.0.1:0", cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); w.Close() })
	return w
}

// workloadEnv is a sandbox environment inside a GitHub Actions job whose
// Google endpoints are the fakes.
func workloadEnv(s *sandbox, w *workload.Server, extra ...string) []string {
	env := s.with(w.ActionsEnv()...)
	env = append(env,
		"GHLOGIN_STS_URL="+w.URL()+"/v1/token",
		"GHLOGIN_IAMCREDENTIALS_URL="+w.URL(),
	)
	return append(env, extra...)
}

// noCanary fails if the job's bearer appears in anything ghlogin printed.
func noCanary(t *testing.T, r run) {
	t.Helper()
	if strings.Contains(r.stdout+r.stderr, actionsBearer) {
		t.Fatalf("the Actions request bearer leaked into the output:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
}

func decodeJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, s)
	}
	return m
}

func TestOIDCTokenGitHubActions(t *testing.T) {
	w := startWorkload(t, workload.Config{})
	s := newSandbox(t)
	env := workloadEnv(s, w)

	r := s.runEnv(env, "", "oidc", "token", "--audience", "https://example.com/my aud")
	noCanary(t, r)
	if r.code != 0 {
		t.Fatalf("oidc token: exit %d\n%s", r.code, r.stderr)
	}
	jwt := strings.TrimSpace(r.stdout)
	if strings.Count(jwt, ".") != 2 || strings.Contains(r.stdout, "\n\n") {
		t.Fatalf("stdout should be the JWT alone, got %q", r.stdout)
	}
	// The request kept the query the URL already had and added the audience, encoded.
	reqs := w.Requests()
	if len(reqs) == 0 {
		t.Fatal("the Actions endpoint saw no request")
	}
	last := reqs[len(reqs)-1]
	if last.Query != "api-version=2.0&audience=https%3A%2F%2Fexample.com%2Fmy+aud" &&
		last.Query != "api-version=2.0&audience=https%3A%2F%2Fexample.com%2Fmy%20aud" {
		t.Fatalf("Actions request query = %q", last.Query)
	}

	// --decode shows the header and claims, not the token.
	r = s.runEnv(env, "", "oidc", "token", "--audience", "sts.example", "--decode")
	noCanary(t, r)
	if r.code != 0 {
		t.Fatalf("--decode: exit %d\n%s", r.code, r.stderr)
	}
	d := decodeJSON(t, r.stdout)
	claims, _ := d["claims"].(map[string]any)
	header, _ := d["header"].(map[string]any)
	if claims["aud"] != "sts.example" || claims["iss"] != w.ActionsIssuer() || claims["repository"] != "octo-org/octo-repo" {
		t.Fatalf("claims = %v", claims)
	}
	if header["alg"] != "RS256" || header["kid"] == nil {
		t.Fatalf("header = %v", header)
	}

	// Without an audience, GitHub's default applies: the repository owner's URL.
	r = s.runEnv(env, "", "oidc", "token", "--decode")
	if c, _ := decodeJSON(t, r.stdout)["claims"].(map[string]any); c["aud"] != "https://github.com/octo-org" {
		t.Fatalf("default aud = %v", c["aud"])
	}

	// --verify checks the signature against the issuer's JWKS found by discovery.
	r = s.runEnv(env, "", "oidc", "token", "--audience", "sts.example", "--verify", "--issuer", w.ActionsIssuer())
	noCanary(t, r)
	if r.code != 0 || !strings.Contains(r.stderr, "Verified") {
		t.Fatalf("--verify: exit %d\n%s", r.code, r.stderr)
	}
	// Pinned to GitHub's real issuer, the emulator's token must be refused.
	r = s.runEnv(env, "", "oidc", "token", "--verify", "--issuer", "https://token.actions.githubusercontent.com")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "issuer") {
		t.Fatalf("--verify with another issuer: exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestOIDCTokenErrors(t *testing.T) {
	w := startWorkload(t, workload.Config{})
	s := newSandbox(t)

	// Outside a job with id-token: write, say what to add.
	r := s.run("", "oidc", "token", "--source", "github-actions")
	if r.code != 1 || !strings.Contains(r.stderr, "id-token: write") {
		t.Fatalf("no Actions variables: exit %d\n%s", r.code, r.stderr)
	}
	// A wrong bearer: the endpoint's 401 reaches the user, without the bearer.
	env := s.with(w.ActionsEnv()...)
	for i, kv := range env {
		if strings.HasPrefix(kv, "ACTIONS_ID_TOKEN_REQUEST_TOKEN=") {
			env[i] = "ACTIONS_ID_TOKEN_REQUEST_TOKEN=wrong-bearer-canary"
		}
	}
	r = s.runEnv(env, "", "oidc", "token")
	if r.code != 1 || !strings.Contains(r.stderr, "401") || strings.Contains(r.stderr, "wrong-bearer-canary") {
		t.Fatalf("wrong bearer: exit %d\n%s", r.code, r.stderr)
	}
	// Usage errors.
	for _, args := range [][]string{
		{"oidc", "token", "--source", "azure"},
		{"oidc", "token", "--licenses"},
		{"oidc", "token", "--format", "weird"},
		{"oidc", "exchange"},
		{"oidc", "exchange", "--provider", "projects/x/pools/y"},
		{"oidc", "exchange", "--provider", e2eProvider, "--lifetime", "2h"},
		{"oidc", "cred-config", "--provider", e2eProvider, "--output", filepath.Join(s.dir, "c.json")},
	} {
		if r := s.run("", args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
}

func TestOIDCTokenMetadataServer(t *testing.T) {
	w := startWorkload(t, workload.Config{})
	s := newSandbox(t)
	env := s.with("GCE_METADATA_HOST=" + w.MetadataHost())

	r := s.runEnv(env, "", "oidc", "token", "--audience", "https://run.example", "--full", "--licenses", "--decode")
	if r.code != 0 {
		t.Fatalf("gce token: exit %d\n%s", r.code, r.stderr)
	}
	c, _ := decodeJSON(t, r.stdout)["claims"].(map[string]any)
	g, _ := c["google"].(map[string]any)
	ce, _ := g["compute_engine"].(map[string]any)
	if c["aud"] != "https://run.example" || c["iss"] != w.GoogleIssuer() || ce["project_id"] == nil || ce["license_id"] == nil {
		t.Fatalf("claims = %v", c)
	}
	// --format full is the metadata server's own name for --full.
	r = s.runEnv(env, "", "oidc", "token", "--audience", "a", "--format", "full", "--decode")
	if c, _ := decodeJSON(t, r.stdout)["claims"].(map[string]any); c["google"] == nil {
		t.Fatalf("--format full: claims = %v", c)
	}
	// The metadata server requires an audience.
	r = s.runEnv(env, "", "oidc", "token", "--source", "gce")
	if r.code != 2 || !strings.Contains(r.stderr, "--audience is required") {
		t.Fatalf("gce without audience: exit %d\n%s", r.code, r.stderr)
	}
	// And the token verifies against Google's (fake) discovery.
	r = s.runEnv(env, "", "oidc", "token", "--source", "gce", "--audience", "https://run.example", "--verify")
	if r.code != 0 {
		t.Fatalf("gce --verify: exit %d\n%s", r.code, r.stderr)
	}
}

func TestOIDCExchange(t *testing.T) {
	w := startWorkload(t, workload.Config{})
	s := newSandbox(t)
	env := workloadEnv(s, w)

	// STS only: a federated access token, with its expiry in JSON.
	r := s.runEnv(env, "", "oidc", "exchange", "--provider", "//iam.googleapis.com/"+e2eProvider, "--json")
	noCanary(t, r)
	if r.code != 0 {
		t.Fatalf("exchange: exit %d\n%s", r.code, r.stderr)
	}
	out := decodeJSON(t, r.stdout)
	exp, err := time.Parse(time.RFC3339, out["expires_at"].(string))
	if out["access_token"] == "" || out["token_type"] != "Bearer" || err != nil || time.Until(exp) < 30*time.Minute {
		t.Fatalf("exchange --json = %v", out)
	}

	// Impersonation: the service account's access token, printed alone.
	r = s.runEnv(env, "", "oidc", "exchange", "--provider", e2eProvider, "--service-account", e2eSA, "--lifetime", "600s")
	noCanary(t, r)
	if r.code != 0 || strings.Count(strings.TrimSpace(r.stdout), "\n") != 0 || strings.TrimSpace(r.stdout) == "" {
		t.Fatalf("exchange --service-account: exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
	// The service account's ID token.
	r = s.runEnv(env, "", "oidc", "exchange", "--provider", e2eProvider, "--service-account", e2eSA,
		"--id-token-audience", "https://api.example", "--json")
	if r.code != 0 {
		t.Fatalf("exchange --id-token-audience: exit %d\n%s", r.code, r.stderr)
	}
	if id, _ := decodeJSON(t, r.stdout)["id_token"].(string); strings.Count(id, ".") != 2 {
		t.Fatalf("id_token = %q", id)
	}

	// A token from a file instead of the job.
	tok := s.runEnv(env, "", "oidc", "token", "--audience", "https://iam.googleapis.com/"+e2eProvider)
	f := filepath.Join(s.dir, "subject.jwt")
	if err := os.WriteFile(f, []byte(tok.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	r = s.run("", "oidc", "exchange", "--provider", e2eProvider, "--subject-token-file", f,
		"--sts-url", w.URL()+"/v1/token")
	if r.code != 0 || strings.TrimSpace(r.stdout) == "" {
		t.Fatalf("exchange --subject-token-file: exit %d\n%s", r.code, r.stderr)
	}
	// The same from stdin, with the endpoint named as the credential configuration names it.
	r = s.run(tok.stdout, "oidc", "exchange", "--provider", e2eProvider, "--subject-token-file", "-",
		"--token-url", w.URL()+"/v1/token")
	if r.code != 0 || strings.TrimSpace(r.stdout) == "" {
		t.Fatalf("exchange --subject-token-file - --token-url: exit %d\n%s", r.code, r.stderr)
	}
}

func TestOIDCExchangeErrors(t *testing.T) {
	w := startWorkload(t, workload.Config{
		ServiceAccounts: []workload.ServiceAccount{
			{Email: e2eSA},
			{Email: "locked@emulator-project.iam.gserviceaccount.com", Allowed: func(string, map[string]any) bool { return false }},
		},
	})
	s := newSandbox(t)
	env := workloadEnv(s, w)
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"audience the provider does not allow", []string{"--audience", "https://elsewhere.example"}, []string{"invalid_grant", "audience"}},
		{"unknown provider", []string{"--provider", "projects/1/locations/global/workloadIdentityPools/nope/providers/none"}, []string{"invalid_target", "--provider"}},
		{"service account not allowed", []string{"--service-account", "locked@emulator-project.iam.gserviceaccount.com"}, []string{"403", "roles/iam.workloadIdentityUser"}},
		{"lifetime over the maximum", []string{"--service-account", e2eSA, "--lifetime", "7200s"}, []string{"lifetime"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"oidc", "exchange", "--provider", e2eProvider}
			args = append(args, c.args...)
			r := s.runEnv(env, "", args...)
			noCanary(t, r)
			if r.code != 1 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
			}
			for _, want := range c.want {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
		})
	}
}

// A credential configuration written by ghlogin is read by Google's own Go
// library, which fetches the job's token from the URL, exchanges it at STS and
// impersonates the service account: all against the fakes.
func TestOIDCCredConfigLoadedByGoogleLibrary(t *testing.T) {
	w := startWorkload(t, workload.Config{})
	s := newSandbox(t)
	env := workloadEnv(s, w)
	out := filepath.Join(s.dir, "gcp-creds.json")
	r := s.runEnv(env, "", "oidc", "cred-config", "--provider", e2eProvider, "--service-account", e2eSA,
		"--github-actions", "--output", out)
	noCanary(t, r)
	if r.code != 0 {
		t.Fatalf("cred-config: exit %d\n%s", r.code, r.stderr)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credential file: %v, mode %v", err, fi.Mode())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	cfg := decodeJSON(t, string(data))
	if cfg["type"] != "external_account" || cfg["audience"] != "//iam.googleapis.com/"+e2eProvider {
		t.Fatalf("config = %s", data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	creds, err := google.CredentialsFromJSONWithType(ctx, data, google.ExternalAccount, "https://www.googleapis.com/auth/cloud-platform")
	if err != nil {
		t.Fatalf("golang.org/x/oauth2/google refused ghlogin's configuration: %v", err)
	}
	tok, err := creds.TokenSource.Token()
	if err != nil {
		t.Fatalf("golang.org/x/oauth2/google could not get a token with it: %v", err)
	}
	if tok.AccessToken == "" || time.Until(tok.Expiry) < 5*time.Minute {
		t.Fatalf("token from the library: %+v", tok.Expiry)
	}
}

// iamBearer is the IAM API bearer (GOOGLE_OAUTH_ACCESS_TOKEN): a canary too.
const iamBearer = "ya29.IAM-BEARER-CANARY-3c9e1f"

// `oidc doctor` reads the provider from the IAM API fake and the token from
// the job, and agrees with `oidc exchange` on the same provider.
func TestOIDCDoctor(t *testing.T) {
	strict := "projects/123456789012/locations/global/workloadIdentityPools/github/providers/strict"
	w := startWorkload(t, workload.Config{
		AdminToken: iamBearer,
		Providers: []workload.Provider{
			{Name: e2eProvider, AttributeCondition: "assertion.repository_owner == 'octo-org'"},
			{Name: strict, AttributeMapping: map[string]string{"google.subject": "assertion.sub", "attribute.repository": "assertion.repository"},
				AttributeCondition: "assertion.repository_owner == 'octo-org' && assertion.ref == 'refs/heads/prod'"},
		},
	})
	s := newSandbox(t)
	env := workloadEnv(s, w, "GHLOGIN_IAM_URL="+w.URL(), "GOOGLE_OAUTH_ACCESS_TOKEN="+iamBearer)
	noSecrets := func(r run) {
		t.Helper()
		noCanary(t, r)
		if strings.Contains(r.stdout+r.stderr, iamBearer) {
			t.Fatalf("the IAM bearer leaked:\n%s\n%s", r.stdout, r.stderr)
		}
	}

	r := s.runEnv(env, "", "oidc", "doctor", "--provider", e2eProvider, "--service-account", e2eSA)
	noSecrets(r)
	if r.code != 0 || !strings.HasSuffix(strings.TrimSpace(r.stdout), "STS would accept this token.") || !strings.Contains(r.stdout, "gcloud iam service-accounts add-iam-policy-binding "+e2eSA) {
		t.Fatalf("doctor: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if x := s.runEnv(env, "", "oidc", "exchange", "--provider", e2eProvider); x.code != 0 {
		t.Fatalf("exchange disagrees: exit %d\n%s", x.code, x.stderr)
	}

	r = s.runEnv(env, "", "oidc", "doctor", "--provider", strict, "--json")
	noSecrets(r)
	if r.code != 1 {
		t.Fatalf("strict doctor: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	d := decodeJSON(t, r.stdout)
	if d["failed_check"] != "condition" || d["accepted"] != false {
		t.Fatalf("strict doctor: %v", d)
	}
	x := s.runEnv(env, "", "oidc", "exchange", "--provider", strict)
	if x.code != 1 || !strings.Contains(x.stderr, "unauthorized_client") {
		t.Fatalf("exchange disagrees: exit %d\n%s", x.code, x.stderr)
	}

	// A wrong IAM bearer: the API's 401 is explained, the bearer never shown.
	bad := workloadEnv(s, w, "GHLOGIN_IAM_URL="+w.URL(), "GOOGLE_OAUTH_ACCESS_TOKEN=wrong-"+iamBearer)
	r = s.runEnv(bad, "", "oidc", "doctor", "--provider", e2eProvider)
	noSecrets(r)
	if r.code != 1 || !strings.Contains(r.stderr, "GOOGLE_OAUTH_ACCESS_TOKEN was refused") {
		t.Fatalf("wrong bearer: exit %d\n%s", r.code, r.stderr)
	}
	// A usage error.
	if r := s.runEnv(env, "", "oidc", "doctor"); r.code != 2 {
		t.Fatalf("no provider: exit %d\n%s", r.code, r.stderr)
	}
}

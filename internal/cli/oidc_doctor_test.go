package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/workload/wiftest"
)

var doctorT0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// Test keys: the issuer's (uploaded to the provider) and another one.
var testKeys = sync.OnceValues(func() (*wiftest.Key, *wiftest.Key) {
	return wiftest.NewRSAKey("issuer-key-1"), wiftest.NewRSAKey("attacker-key")
})

// loopbackOnly is an HTTP client that can reach loopback addresses only.
func loopbackOnly() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if !safe.IsLoopback(addr) {
				return nil, errors.New("tests reach loopback only")
			}
			return d.DialContext(ctx, network, addr)
		},
	}}
}

// runCLI runs ghlogin in-process and returns its exit status and output.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &Env{
		Stdin:      strings.NewReader(stdin),
		Stdout:     &out,
		Stderr:     &errOut,
		Getenv:     func(k string) string { return env[k] },
		HTTPClient: loopbackOnly(),
		Clock:      clock.NewFake(doctorT0),
	}
	code := Main(context.Background(), args, e)
	return code, out.String(), errOut.String()
}

// doctorFiles writes a provider file and a token file.
func doctorFiles(t *testing.T, provider []byte, token string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	pf, tf := filepath.Join(dir, "provider.json"), filepath.Join(dir, "token.jwt")
	if err := os.WriteFile(pf, provider, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tf, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return pf, tf
}

// doctorJSON is the --json document, as a test reads it.
type doctorJSON struct {
	Provider     string         `json:"provider"`
	SettingsFrom string         `json:"settings_from"`
	Accepted     bool           `json:"accepted"`
	FailedCheck  string         `json:"failed_check"`
	Reason       string         `json:"reason"`
	Claims       map[string]any `json:"claims"`
	Attributes   map[string]any `json:"attributes"`
	Condition    map[string]any `json:"condition"`
	Members      []string       `json:"members"`
	BindCommand  []string       `json:"bind_command"`
	Checks       []struct {
		Name    string   `json:"name"`
		Status  string   `json:"status"`
		Summary string   `json:"summary"`
		Details []string `json:"details"`
	} `json:"checks"`
}

func (d *doctorJSON) check(name string) (status, text string) {
	for _, c := range d.Checks {
		if c.Name == name {
			return c.Status, c.Summary + "\n" + strings.Join(c.Details, "\n")
		}
	}
	return "", ""
}

// The table: tokens signed by test keys against provider settings,
// each with the exit status and the first failing check.
func TestOIDCDoctorTable(t *testing.T) {
	key, attacker := testKeys()
	ec := wiftest.NewECKey("ec-key")
	now := doctorT0
	gh := wiftest.ActionsClaims(now, wiftest.DefaultAudience)
	vm := wiftest.MetadataClaims(now, "https://deploy.example")
	gp := func(cond string) *wiftest.ProviderResource { return wiftest.GitHubProvider(cond, key) }
	with := func(p *wiftest.ProviderResource, f func(*wiftest.ProviderResource)) *wiftest.ProviderResource {
		f(p)
		return p
	}
	gceProvider := func(cond string) *wiftest.ProviderResource {
		return &wiftest.ProviderResource{
			Name: wiftest.Provider, State: "ACTIVE",
			AttributeMapping:   map[string]string{"google.subject": "assertion.sub", "attribute.project": "assertion.google.compute_engine.project_id", "attribute.email": "assertion.email"},
			AttributeCondition: cond,
			OIDC:               &wiftest.OIDC{IssuerURI: wiftest.GoogleIssuer, AllowedAudiences: []string{"https://deploy.example"}, JWKSJSON: wiftest.JWKS(key)},
		}
	}
	type tc struct {
		name     string
		provider *wiftest.ProviderResource
		token    string
		args     []string // instead of --provider-file's name
		exit     int
		failed   string   // first failing check, "" when accepted
		contains []string // in the failing (or named) check's text
		warn     string   // a check expected to warn
	}
	cases := []tc{
		{name: "actions: owner condition holds", provider: gp("assertion.repository_owner == 'octo-org'"), token: key.Sign(gh), exit: 0},
		{name: "actions: numeric owner ID", provider: gp("assertion.repository_owner_id == '65' && assertion.repository_id == '74'"), token: key.Sign(gh), exit: 0},
		{name: "actions: in a list of repositories", provider: gp("assertion.repository in ['octo-org/octo-repo', 'octo-org/infra']"), token: key.Sign(gh), exit: 0},
		{name: "actions: repository not in the list", provider: gp("assertion.repository in ['octo-org/infra']"), token: key.Sign(gh), exit: 1, failed: "condition",
			contains: []string{`assertion.repository = "octo-org/octo-repo"`}},
		{name: "actions: startsWith on job_workflow_ref", provider: gp("assertion.job_workflow_ref.startsWith('octo-org/platform/.github/workflows/')"), token: key.Sign(gh), exit: 1, failed: "condition",
			contains: []string{"assertion.job_workflow_ref = \"octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main\""}},
		{name: "actions: matches on tags", provider: gp("assertion.ref.matches('^refs/tags/v[0-9]+')"), token: key.Sign(wiftest.With(gh, map[string]any{"ref": "refs/tags/v12", "ref_type": "tag"})), exit: 0},
		{name: "actions: && chain names the false conjunct", provider: gp("assertion.repository_owner == 'octo-org' && assertion.ref_type == 'tag' && assertion.actor == 'octocat'"), token: key.Sign(gh), exit: 1, failed: "condition",
			contains: []string{`false: assertion.ref_type == "tag" is false`, `assertion.ref_type = "branch"`}},
		{name: "actions: || alternative holds", provider: gp("assertion.ref == 'refs/heads/prod' || assertion.actor == 'octocat'"), token: key.Sign(gh), exit: 0},
		{name: "actions: || every alternative false", provider: gp("assertion.ref == 'refs/heads/prod' || assertion.ref_type == 'tag'"), token: key.Sign(gh), exit: 1, failed: "condition",
			contains: []string{"no alternative of", `assertion.ref = "refs/heads/main"`}},
		{name: "actions: environment guarded by has()", provider: gp("has(assertion.environment) && assertion.environment == 'production'"), token: key.Sign(wiftest.With(gh, map[string]any{"environment": "production", "sub": "repo:octo-org/octo-repo:environment:production"})), exit: 0},
		{name: "actions: has() false without an environment", provider: gp("has(assertion.environment) && assertion.environment == 'production'"), token: key.Sign(gh), exit: 1, failed: "condition",
			contains: []string{"false: has(assertion.environment) is false", "assertion.environment is absent"}},
		{name: "actions: condition reads a missing claim", provider: gp("assertion.environment == 'production'"), token: key.Sign(gh), exit: 1, failed: "condition",
			contains: []string{"fails to evaluate: no such key: environment"}},
		{name: "actions: extract() in the mapping", provider: with(gp("attribute.branch == 'main'"), func(p *wiftest.ProviderResource) {
			p.AttributeMapping["attribute.branch"] = "assertion.ref.extract('refs/heads/{branch}')"
		}), token: key.Sign(gh), exit: 0},
		{name: "actions: extract() in the condition", provider: gp("assertion.sub.extract('environment:{env}') == 'production'"), token: key.Sign(gh), exit: 1, failed: "condition",
			contains: []string{`assertion.sub = "repo:octo-org/octo-repo:ref:refs/heads/main"`}},
		{name: "actions: mapping makes a long subject", provider: with(gp("assertion.repository_owner == 'octo-org'"), func(p *wiftest.ProviderResource) {
			p.AttributeMapping["google.subject"] = "assertion.sub + '|' + assertion.job_workflow_ref + '|' + assertion.sha"
		}), token: key.Sign(gh), exit: 1, failed: "subject", contains: []string{"exceeds the 127 bytes limit"}},
		{name: "actions: subject mapped from a missing claim", provider: with(gp(""), func(p *wiftest.ProviderResource) {
			p.AttributeMapping["google.subject"] = "assertion.email"
		}), token: key.Sign(gh), exit: 1, failed: "mapping", contains: []string{"no such key: email"}},
		{name: "actions: custom attribute from a missing claim stays unset", provider: with(gp("assertion.repository_owner == 'octo-org'"), func(p *wiftest.ProviderResource) {
			p.AttributeMapping["attribute.environment"] = "assertion.environment"
		}), token: key.Sign(gh), exit: 0, warn: "mapping"},
		{name: "actions: wrong audience", provider: gp("assertion.repository_owner == 'octo-org'"), token: key.Sign(wiftest.With(gh, map[string]any{"aud": "https://github.com/octo-org"})), exit: 1, failed: "audience",
			contains: []string{"https://github.com/octo-org", wiftest.DefaultAudience}},
		{name: "actions: allowedAudiences", provider: with(gp("assertion.repository_owner == 'octo-org'"), func(p *wiftest.ProviderResource) {
			p.OIDC.AllowedAudiences = []string{"https://github.com/octo-org"}
		}), token: key.Sign(wiftest.With(gh, map[string]any{"aud": "https://github.com/octo-org"})), exit: 0},
		{name: "actions: wrong issuer", provider: gp("assertion.repository_owner == 'octo-org'"), token: key.Sign(wiftest.With(gh, map[string]any{"iss": "https://token.actions.githubusercontent.com/octo-org"})), exit: 1, failed: "issuer"},
		{name: "actions: expired", provider: gp("assertion.repository_owner == 'octo-org'"), token: key.Sign(wiftest.ActionsClaims(now.Add(-10*time.Minute), wiftest.DefaultAudience)), exit: 1, failed: "lifetime",
			contains: []string{"expired 5m0s ago"}},
		{name: "actions: issued in the future", provider: gp("assertion.repository_owner == 'octo-org'"), token: key.Sign(wiftest.ActionsClaims(now.Add(10*time.Minute), wiftest.DefaultAudience)), exit: 1, failed: "lifetime",
			contains: []string{"in the future"}},
		{name: "actions: lifetime over 24h", provider: gp("assertion.repository_owner == 'octo-org'"), token: key.Sign(wiftest.With(gh, map[string]any{"exp": now.Add(25 * time.Hour).Unix()})), exit: 1, failed: "lifetime", contains: []string{"24h"}},
		{name: "actions: signed by another key", provider: gp("assertion.repository_owner == 'octo-org'"), token: attacker.Sign(gh), exit: 1, failed: "signature", contains: []string{"attacker-key"}},
		{name: "actions: ES256 key", provider: with(gp("assertion.repository_owner == 'octo-org'"), func(p *wiftest.ProviderResource) { p.OIDC.JWKSJSON = wiftest.JWKS(ec) }), token: ec.Sign(gh), exit: 0},
		{name: "actions: no condition on GitHub's issuer", provider: gp(""), token: key.Sign(gh), exit: 0, warn: "lint"},
		{name: "actions: groups", provider: with(gp("'deployers' in google.groups"), func(p *wiftest.ProviderResource) { p.AttributeMapping["google.groups"] = "assertion.groups" }),
			token: key.Sign(wiftest.With(gh, map[string]any{"groups": []any{"deployers", "admins"}})), exit: 0},
		{name: "metadata: email and project", provider: gceProvider("assertion.email == '" + wiftest.VMEmail + "' && attribute.project == 'my-project'"), token: key.Sign(vm), exit: 0},
		{name: "metadata: another project", provider: gceProvider("assertion.google.compute_engine.project_id == 'prod-project'"), token: key.Sign(vm), exit: 1, failed: "condition",
			contains: []string{`assertion.google.compute_engine.project_id = "my-project"`}},
		{name: "metadata: audience not allowed", provider: gceProvider(""), token: key.Sign(wiftest.With(vm, map[string]any{"aud": "https://other.example"})), exit: 1, failed: "audience"},
		{name: "mapping does not compile", provider: with(gp(""), func(p *wiftest.ProviderResource) {
			p.AttributeMapping["attribute.repository"] = "assertion.repository +"
		}), token: key.Sign(gh), exit: 1, failed: "mapping",
			contains: []string{"attribute.repository (line 1, column", "^"}},
		{name: "condition does not compile", provider: gp("assertion.repository_owner = 'octo-org'"), token: key.Sign(gh), exit: 1, failed: "condition", contains: []string{"condition (line 1, column"}},
		{name: "provider disabled", provider: with(gp(""), func(p *wiftest.ProviderResource) { p.Disabled = true }), token: key.Sign(gh), exit: 1, failed: "provider-state", contains: []string{"disabled"}},
		{name: "provider deleted", provider: with(gp(""), func(p *wiftest.ProviderResource) { p.State = "DELETED" }), token: key.Sign(gh), exit: 1, failed: "provider-state", contains: []string{"undelete"}},
		{name: "uploaded JWKS with x5c", provider: with(gp(""), func(p *wiftest.ProviderResource) {
			p.OIDC.JWKSJSON = strings.Replace(wiftest.JWKS(key), `"kid"`, `"x5c":["MIIB"],"kid"`, 1)
		}), token: key.Sign(gh), exit: 1, failed: "signature", contains: []string{"x5c"}},
		{name: "a pool path given as provider", provider: gp("assertion.repository_owner == 'octo-org'"), token: key.Sign(gh),
			args: []string{"--provider", "projects/123456789012/locations/global/workloadIdentityPools/github"}, exit: 1, failed: "provider", contains: []string{"names the pool", "/providers/PROVIDER_ID"}},
		{name: "a project ID given as provider", provider: gp("assertion.repository_owner == 'octo-org'"), token: key.Sign(gh),
			args: []string{"--provider", "//iam.googleapis.com/projects/my-project/locations/global/workloadIdentityPools/github/providers/actions"}, exit: 1, failed: "provider", contains: []string{"project ID", "projectNumber"}},
		{name: "not a JWT", provider: gp(""), token: "not-a-token", exit: 1, failed: "token"},
	}
	if len(cases) < 25 {
		t.Fatalf("the table has %d cases; the issue asks for at least 25", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pf, tf := doctorFiles(t, c.provider.JSON(), c.token)
			args := append([]string{"oidc", "doctor", "--provider-file", pf, "--subject-token-file", tf, "--json"}, c.args...)
			code, stdout, stderr := runCLI(t, nil, "", args...)
			if code != c.exit {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.exit, stdout, stderr)
			}
			var d doctorJSON
			if err := json.Unmarshal([]byte(stdout), &d); err != nil {
				t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
			}
			if d.FailedCheck != c.failed || d.Accepted != (c.failed == "") {
				t.Fatalf("failed_check %q (accepted %v), want %q\n%s", d.FailedCheck, d.Accepted, c.failed, stdout)
			}
			name := c.failed
			if name == "" {
				name = c.warn
			}
			if c.warn != "" {
				if st, _ := d.check(c.warn); st != "warn" {
					t.Errorf("check %s is %q, want warn\n%s", c.warn, st, stdout)
				}
			}
			_, text := d.check(name)
			for _, w := range c.contains {
				if !strings.Contains(text, w) {
					t.Errorf("check %s lacks %q:\n%s", name, w, text)
				}
			}
			if strings.Contains(stdout+stderr, c.token) && c.token != "not-a-token" {
				t.Error("the token was printed")
			}
			// The text form names the same failing check on its last line.
			code2, text2, _ := runCLI(t, nil, "", append([]string{"oidc", "doctor", "--provider-file", pf, "--subject-token-file", tf}, c.args...)...)
			lines := strings.Split(strings.TrimSpace(text2), "\n")
			last := lines[len(lines)-1]
			switch {
			case code2 != c.exit:
				t.Errorf("text form: exit %d, want %d", code2, c.exit)
			case c.failed == "" && last != "STS would accept this token.":
				t.Errorf("last line %q", last)
			case c.failed != "" && !strings.HasPrefix(last, "STS would reject this token. First failing check: "+c.failed+": "):
				t.Errorf("last line %q, want the failing check %s", last, c.failed)
			}
		})
	}
}

// TestOIDCDoctorJSONShape checks the --json document's fields.
func TestOIDCDoctorJSONShape(t *testing.T) {
	key, _ := testKeys()
	p := wiftest.GitHubProvider("assertion.repository_owner == 'octo-org' && assertion.ref == 'refs/heads/prod'", key)
	pf, tf := doctorFiles(t, p.JSON(), key.Sign(wiftest.ActionsClaims(doctorT0, wiftest.DefaultAudience)))
	code, stdout, _ := runCLI(t, nil, "", "oidc", "doctor", "--provider-file", pf, "--subject-token-file", tf, "--json",
		"--service-account", "deployer@my-project.iam.gserviceaccount.com")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"provider", "settings_from", "accepted", "failed_check", "reason", "checks", "claims", "attributes", "condition", "members", "bind_command"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("the document lacks %q", k)
		}
	}
	var d doctorJSON
	_ = json.Unmarshal([]byte(stdout), &d)
	var names []string
	for _, c := range d.Checks {
		names = append(names, c.Name)
		if c.Status != "pass" && c.Status != "fail" && c.Status != "warn" && c.Status != "skip" {
			t.Errorf("check %s has status %q", c.Name, c.Status)
		}
	}
	want := "provider provider-state token signature issuer audience lifetime mapping subject condition lint members"
	if strings.Join(names, " ") != want {
		t.Errorf("checks %q, want %q", names, want)
	}
	if d.Provider != "//iam.googleapis.com/"+wiftest.Provider || d.SettingsFrom != pf || d.Claims["repository"] != "octo-org/octo-repo" {
		t.Errorf("document = %+v", d)
	}
	if d.Attributes["google.subject"] != "repo:octo-org/octo-repo:ref:refs/heads/main" || d.Attributes["attribute.repository"] != "octo-org/octo-repo" {
		t.Errorf("attributes = %v", d.Attributes)
	}
	if d.Condition["op"] != "&&" || len(d.Condition["parts"].([]any)) != 2 || d.Condition["value"] != false {
		t.Errorf("condition = %v", d.Condition)
	}
	pool := "iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github"
	wantMembers := []string{
		"principal://" + pool + "/subject/repo:octo-org/octo-repo:ref:refs/heads/main",
		"principalSet://" + pool + "/attribute.repository/octo-org/octo-repo",
		"principalSet://" + pool + "/attribute.repository_owner/octo-org",
		"principalSet://" + pool + "/*",
	}
	if strings.Join(d.Members, "\n") != strings.Join(wantMembers, "\n") {
		t.Errorf("members:\n%s", strings.Join(d.Members, "\n"))
	}
	if strings.Join(d.BindCommand, " ") != "gcloud iam service-accounts add-iam-policy-binding deployer@my-project.iam.gserviceaccount.com --role=roles/iam.workloadIdentityUser --member="+wantMembers[0] {
		t.Errorf("bind_command = %q", d.BindCommand)
	}
}

// TestOIDCDoctorUsage: mistakes in the command line exit 2.
func TestOIDCDoctorUsage(t *testing.T) {
	key, _ := testKeys()
	pf, tf := doctorFiles(t, wiftest.GitHubProvider("", key).JSON(), key.Sign(wiftest.ActionsClaims(doctorT0, wiftest.DefaultAudience)))
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"oidc", "doctor"}, nil, "--provider is required"},
		{[]string{"oidc", "doctor", "--provider", wiftest.Provider, "--subject-token-file", tf}, nil, "GOOGLE_OAUTH_ACCESS_TOKEN"},
		{[]string{"oidc", "doctor", "--provider-file", pf, "--subject-token-file", tf, "--source", "gce"}, nil, "--subject-token-file gives the token"},
		{[]string{"oidc", "doctor", "--provider-file", pf, "--subject-token-file", tf, "--audience", "x"}, nil, "--subject-token-file gives the token"},
		{[]string{"oidc", "doctor", "--provider-file", pf, "--source", "azure"}, nil, "--source"},
		{[]string{"oidc", "doctor", "--provider-file", pf, "--subject-token-file", tf, "--service-account", "Not An Email"}, nil, "--service-account"},
		{[]string{"oidc", "doctor", "--provider-file", pf, "--subject-token-file", tf, "--iam-url", "http://127.0.0.1:1"}, nil, "--iam-url applies"},
		{[]string{"oidc", "doctor", "--provider", wiftest.Provider, "--subject-token-file", tf, "--iam-url", "http://iam.example"}, map[string]string{"GOOGLE_OAUTH_ACCESS_TOKEN": "t"}, "loopback"},
		{[]string{"oidc", "doctor", "--provider", wiftest.Provider, "--subject-token-file", tf}, map[string]string{"GOOGLE_OAUTH_ACCESS_TOKEN": "t", "GHLOGIN_IAM_URL": "ftp://x"}, "GHLOGIN_IAM_URL"},
		{[]string{"oidc", "doctor", "--provider-file", pf, "extra"}, nil, "takes no arguments"},
		{[]string{"oidc", "doctor", "--no-such-flag"}, nil, "unknown flag"},
	} {
		code, _, stderr := runCLI(t, c.env, "", c.args...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, want 2 with %q\n%s", c.args, code, c.want, stderr)
		}
	}
	// A pool's path given as the provider fails the first check without
	// asking for credentials to read it (exit 1, the check named).
	pool := strings.Split(wiftest.Provider, "/providers/")[0]
	if code, stdout, stderr := runCLI(t, nil, "", "oidc", "doctor", "--provider", pool, "--subject-token-file", tf); code != ExitFailure || !strings.Contains(stdout, "not a provider") || strings.Contains(stderr, "GOOGLE_OAUTH_ACCESS_TOKEN") {
		t.Errorf("pool as provider without credentials: exit %d\n%s%s", code, stdout, stderr)
	}
	// A provider file without a name and no --provider is a usage error too.
	noName := wiftest.GitHubProvider("", key)
	noName.Name = ""
	pf2, _ := doctorFiles(t, noName.JSON(), "")
	if code, _, stderr := runCLI(t, nil, "", "oidc", "doctor", "--provider-file", pf2, "--subject-token-file", tf); code != ExitUsage || !strings.Contains(stderr, "add --provider") {
		t.Errorf("nameless provider file: exit %d\n%s", code, stderr)
	}
	// A provider file that is not JSON fails (exit 1) and says so.
	bad, _ := doctorFiles(t, []byte("{nope"), "")
	if code, _, stderr := runCLI(t, nil, "", "oidc", "doctor", "--provider-file", bad, "--subject-token-file", tf); code != ExitFailure || !strings.Contains(stderr, "--provider-file") {
		t.Errorf("bad provider file: exit %d\n%s", code, stderr)
	}
}

// TestOIDCDoctorStdinAndText reads the token from stdin and shows the text
// report, whose server-chosen text is sanitised.
func TestOIDCDoctorStdinAndText(t *testing.T) {
	key, _ := testKeys()
	claims := wiftest.With(wiftest.ActionsClaims(doctorT0, wiftest.DefaultAudience), map[string]any{"actor": "evil\x1b]52;c;cGF3bmVk\x07actor"})
	pf, _ := doctorFiles(t, wiftest.GitHubProvider("assertion.actor == 'octocat'", key).JSON(), "")
	code, stdout, _ := runCLI(t, nil, key.Sign(claims), "oidc", "doctor", "--provider-file", pf, "--subject-token-file", "-")
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	if strings.ContainsAny(stdout, "\x1b\x07") {
		t.Errorf("control characters reached the terminal: %q", stdout)
	}
	for _, w := range []string{"✗ condition", "✓ signature", "! lint", "assertion.actor = ", "First failing check: condition"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, stdout)
		}
	}
}

// TestOIDCTokenForkWording: in an Actions job without id-token: write, the
// error names the permission and GitHub's fork rule.
func TestOIDCTokenForkWording(t *testing.T) {
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request"}
	for _, args := range [][]string{
		{"oidc", "token", "--source", "github-actions"},
		{"oidc", "token"},
	} {
		code, stdout, stderr := runCLI(t, env, "", args...)
		if code != ExitFailure || stdout != "" {
			t.Fatalf("%v: exit %d, stdout %q", args, code, stdout)
		}
		for _, w := range []string{"permissions: id-token: write", "pull requests from forks never get an OIDC token", "must not rely on one there", "pull_request event"} {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", args, w, stderr)
			}
		}
	}
}

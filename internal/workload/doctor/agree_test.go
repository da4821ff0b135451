package doctor_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator/workload"
	"github.com/ghlogin/ghlogin/internal/workload/doctor"
	"github.com/ghlogin/ghlogin/internal/workload/federation"
)

// TestDoctorAgreesWithExchange runs each condition (and a few mappings)
// through the emulator's STS (what `oidc exchange` meets) and through the
// doctor, which reads the same provider from the emulator's IAM API: both
// must reach the same verdict, and the expected one.
func TestDoctorAgreesWithExchange(t *testing.T) {
	mapping := map[string]string{
		"google.subject":       "assertion.sub",
		"google.groups":        "assertion.groups",
		"attribute.repository": "assertion.repository",
		"attribute.branch":     "assertion.ref.extract('refs/heads/{branch}')",
	}
	cases := []struct {
		condition string
		mapping   map[string]string // nil: mapping above
		accept    bool
		check     string // the doctor's failing check when rejected
	}{
		{"", nil, true, ""},
		{"assertion.repository_owner == 'octo-org'", nil, true, ""},
		{"assertion.repository_owner == 'someone-else'", nil, false, "condition"},
		{"assertion.repository in ['octo-org/octo-repo', 'octo-org/infra']", nil, true, ""},
		{"assertion.ref.startsWith('refs/tags/')", nil, false, "condition"},
		{"assertion.ref.matches('^refs/heads/(main|master)$')", nil, true, ""},
		{"has(assertion.environment)", nil, false, "condition"},
		{"assertion.environment == 'production'", nil, false, "condition"},
		{"attribute.branch == 'main'", nil, true, ""},
		{"assertion.sub.extract('repo:{repo}:') == 'octo-org/octo-repo'", nil, true, ""},
		{"'deployers' in google.groups", nil, true, ""},
		{"'admins' in google.groups", nil, false, "condition"},
		{"assertion.repository_owner == 'octo-org' && assertion.ref_type == 'tag'", nil, false, "condition"},
		{"assertion.ref_type == 'tag' || assertion.actor == 'octocat'", nil, true, ""},
		{"attribute.unmapped == 'x'", nil, false, "condition"},
		{"assertion.ref_protected == 'true' && assertion.runner_environment == 'github-hosted' && attribute.repository.startsWith('octo-org/')", nil, true, ""},
		{"", map[string]string{"google.subject": "assertion.sub + ':' + assertion.job_workflow_ref + ':' + assertion.sha"}, false, "subject"},
		{"", map[string]string{"google.subject": "assertion.email"}, false, "mapping"},
		{"", map[string]string{"google.subject": "assertion.sub", "attribute.run": "assertion.run_number + 1"}, false, "mapping"},
	}
	var providers []workload.Provider
	for i, c := range cases {
		m := c.mapping
		if m == nil {
			m = mapping
		}
		providers = append(providers, workload.Provider{
			Name:               fmt.Sprintf("projects/123456789012/locations/global/workloadIdentityPools/github/providers/case-%02d", i),
			AttributeMapping:   m,
			AttributeCondition: c.condition,
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := workload.Start(ctx, "", workload.Config{Providers: providers, ActionsClaims: map[string]any{"groups": []any{"deployers", "devs"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	hc := &http.Client{Timeout: 10 * time.Second}
	fc := &federation.Config{STSURL: w.URL() + "/v1/token", HTTPClient: hc}
	for i, c := range cases {
		name := providers[i].Name
		t.Run(fmt.Sprintf("%02d %s", i, c.condition), func(t *testing.T) {
			p, err := federation.ParseProvider(name)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := w.SignActionsToken(p.DefaultTokenAudience(), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, xerr := fc.Exchange(ctx, federation.ExchangeRequest{Provider: p, SubjectToken: tok})
			rep, err := doctor.Run(ctx, doctor.Options{Provider: name, IAMURL: w.URL(), AccessToken: workload.DefaultAdminToken, SubjectToken: tok, HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			if (xerr == nil) != rep.Accepted {
				t.Fatalf("they disagree: exchange error %v; doctor accepted=%v (%s: %s)", xerr, rep.Accepted, rep.FailedCheck, rep.Reason)
			}
			if rep.Accepted != c.accept || rep.FailedCheck != c.check {
				t.Fatalf("doctor: accepted=%v failed=%q (%s), want accepted=%v failed=%q", rep.Accepted, rep.FailedCheck, rep.Reason, c.accept, c.check)
			}
			if xerr != nil {
				var se *federation.STSError
				wantCode := "invalid_grant"
				if c.check == "condition" {
					wantCode = "unauthorized_client"
				}
				if !errors.As(xerr, &se) || se.Code != wantCode {
					t.Fatalf("exchange error %v, want %s", xerr, wantCode)
				}
				if strings.Contains(xerr.Error(), tok) {
					t.Fatal("the token reached the error")
				}
			}
		})
	}
}

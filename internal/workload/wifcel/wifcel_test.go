package wifcel

import (
	"errors"
	"strings"
	"testing"
)

// actionsClaims are a GitHub Actions ID token's claims.
func actionsClaims() map[string]any {
	return map[string]any{
		"sub":                 "repo:octo-org/octo-repo:ref:refs/heads/main",
		"repository":          "octo-org/octo-repo",
		"repository_owner":    "octo-org",
		"repository_owner_id": "65",
		"ref":                 "refs/heads/main",
		"ref_type":            "branch",
		"actor":               "octocat",
		"job_workflow_ref":    "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
		"groups":              []any{"admins", "devs"},
		"iat":                 float64(1735732800),
	}
}

// Google's IAM Conditions reference documents extract() with these.
func TestExtract(t *testing.T) {
	const name = "projects/_/buckets/acme-orders-aaa/objects/data_lake/orders/order_date=2019-11-03/aef87g87ae0876"
	for _, c := range []struct{ s, tmpl, want string }{
		{name, "/order_date={date}/", "2019-11-03"},
		{name, "buckets/{name}/", "acme-orders-aaa"},
		{name, "/orders/{empty}order_date", ""},
		{name, "{start}/data_lake", "projects/_/buckets/acme-orders-aaa/objects"},
		{name, "orders/{end}", "order_date=2019-11-03/aef87g87ae0876"},
		{name, "404.txt/{id}", ""},
		{"arn:aws:sts::1:assumed-role/deployer/s1", "assumed-role/{role}/", "deployer"},
		{"repo:o/r:environment:prod", "environment:{env}", "prod"},
	} {
		got, err := Extract(c.s, c.tmpl)
		if err != nil || got != c.want {
			t.Errorf("%q.extract(%q) = %q, %v; want %q", c.s, c.tmpl, got, err, c.want)
		}
	}
	for _, bad := range []string{"no placeholder", "{a}{b}", "}{"} {
		if _, err := Extract("x", bad); err == nil {
			t.Errorf("template %q accepted", bad)
		}
	}
}

func TestCompileProblems(t *testing.T) {
	cases := []struct {
		name      string
		mapping   map[string]string
		condition string
		want      []string
	}{
		{"syntax error with its position", map[string]string{KeySubject: "assertion.sub"}, "assertion.ref == 'x' &&", []string{"condition (line 1, column"}},
		{"undeclared variable", map[string]string{KeySubject: "assertion.sub"}, "claims.ref == 'x'", []string{"undeclared reference to 'claims'"}},
		{"no subject", map[string]string{"attribute.repo": "assertion.repository"}, "", []string{"google.subject must be mapped"}},
		{"bad key", map[string]string{KeySubject: "assertion.sub", "attribute.Repo": "assertion.repository"}, "", []string{"attribute.Repo", "a-z"}},
		{"unknown google key", map[string]string{KeySubject: "assertion.sub", "google.name": "assertion.sub"}, "", []string{"google.name"}},
		{"non-bool condition", nil, "'a' + 'b'", []string{"boolean"}},
		{"long condition", nil, strings.Repeat("true && ", 600) + "true", []string{"4096"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(c.mapping, c.condition)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *ConfigError", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
		})
	}
}

func TestJudge(t *testing.T) {
	long := strings.Repeat("x", 120)
	cases := []struct {
		name      string
		mapping   map[string]string
		condition string
		claims    func(map[string]any)
		stage     Stage // "" = accepted
		want      string
	}{
		{"default mapping, no condition", nil, "", nil, "", ""},
		{"owner condition", nil, "assertion.repository_owner == 'octo-org'", nil, "", ""},
		{"false condition", nil, "assertion.repository_owner == 'other'", nil, StageCondition, "is false"},
		{"absent claim in condition", nil, "assertion.environment == 'prod'", nil, StageCondition, "no such key: environment"},
		{"has() guards", nil, "has(assertion.environment) && assertion.environment == 'prod'", nil, StageCondition, "is false"},
		{"in list", map[string]string{KeySubject: "assertion.sub", KeyGroups: "assertion.groups"}, "'admins' in google.groups", nil, "", ""},
		{"extract in mapping", map[string]string{KeySubject: "assertion.sub", "attribute.branch": "assertion.ref.extract('refs/heads/{b}')"}, "attribute.branch == 'main'", nil, "", ""},
		{"long subject", map[string]string{KeySubject: "assertion.sub + ':' + assertion.job_workflow_ref + '" + long + "'"}, "", nil, StageSubject, "127 bytes"},
		{"empty subject", map[string]string{KeySubject: "''"}, "", nil, StageSubject, "empty"},
		{"subject from absent claim", map[string]string{KeySubject: "assertion.email"}, "", nil, StageMapping, "no such key: email"},
		{"attribute from absent claim is unset", map[string]string{KeySubject: "assertion.sub", "attribute.env": "assertion.environment"}, "", nil, "", ""},
		{"unset attribute in condition", map[string]string{KeySubject: "assertion.sub", "attribute.env": "assertion.environment"}, "attribute.env == 'prod'", nil, StageCondition, "no such key: env"},
		{"non-string value", map[string]string{KeySubject: "assertion.sub", "attribute.iat": "assertion.iat"}, "", nil, StageMapping, "string(...)"},
		{"matches", nil, "assertion.ref.matches('^refs/(heads|tags)/v[0-9]+$')", func(c map[string]any) { c["ref"] = "refs/tags/v2" }, "", ""},
		{"non-bool at run time", nil, "assertion.sub", nil, StageCondition, "not a bool"},
		{"or chain false", nil, "assertion.ref == 'refs/heads/prod' || assertion.ref_type == 'tag'", nil, StageCondition, "is false"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Compile(c.mapping, c.condition)
			if err != nil {
				t.Fatal(err)
			}
			claims := actionsClaims()
			if c.claims != nil {
				c.claims(claims)
			}
			res := p.Judge(claims)
			switch {
			case c.stage == "" && res.Rejection != nil:
				t.Fatalf("rejected: %+v", res.Rejection)
			case c.stage != "" && (res.Rejection == nil || res.Rejection.Stage != c.stage):
				t.Fatalf("rejection %+v, want stage %s", res.Rejection, c.stage)
			case c.stage != "" && !strings.Contains(res.Rejection.Message, c.want):
				t.Fatalf("message %q lacks %q", res.Rejection.Message, c.want)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	p, err := Compile(map[string]string{KeySubject: "assertion.sub", "attribute.repo": "assertion.repository"},
		"assertion.repository_owner == 'octo-org' && (assertion.ref == 'refs/heads/prod' || assertion.ref_type == 'tag') && attribute.repo.startsWith('octo-org/')")
	if err != nil {
		t.Fatal(err)
	}
	claims := actionsClaims()
	res := p.Judge(claims)
	ex := p.Condition().Explain(claims, res.Attributes)
	if ex.Op != "&&" || len(ex.Parts) != 3 || ex.Value == nil || *ex.Value {
		t.Fatalf("explanation = %+v", ex)
	}
	if v := ex.Parts[0].Value; v == nil || !*v {
		t.Errorf("first conjunct %+v", ex.Parts[0])
	}
	culprit := ex.Culprit()
	if culprit != ex.Parts[1] || culprit.Op != "||" || len(culprit.Parts) != 2 {
		t.Fatalf("culprit = %+v", culprit)
	}
	if r := culprit.Parts[0].Refs; len(r) != 1 || r[0].Path != "assertion.ref" || r[0].Value != "refs/heads/main" {
		t.Errorf("refs = %+v", r)
	}
	// An absent claim: the failing conjunct carries the error.
	p, _ = Compile(nil, "assertion.repository_owner == 'octo-org' && assertion.environment == 'prod'")
	ex = p.Condition().Explain(claims, p.Judge(claims).Attributes)
	c := ex.Culprit()
	if c.Error == "" || !strings.Contains(c.Text, "environment") || len(c.Refs) != 1 || c.Refs[0].Present {
		t.Fatalf("culprit = %+v", c)
	}
}

package doctor

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ghlogin/ghlogin/internal/workload/wifcel"
)

// sharedIssuers are issuers whose tokens any of their many tenants can
// get: a provider that trusts one needs a condition naming the tenant.
var sharedIssuers = map[string]string{
	"https://token.actions.githubusercontent.com": "GitHub Actions (any repository on GitHub)",
	"https://gitlab.com":                          "GitLab.com (any project on gitlab.com)",
	"https://app.terraform.io":                    "HCP Terraform (any organization)",
}

// githubIssuer is GitHub Actions' issuer, for which Google requires a condition.
const githubIssuer = "https://token.actions.githubusercontent.com"

// checkPolicy runs the mapping, subject, condition, lint and members checks.
func (d *doctor) checkPolicy() {
	s := d.settings()
	if s == nil || d.failed(CheckToken) {
		why := "not evaluated: no usable provider settings"
		if d.failed(CheckToken) {
			why = "not evaluated: the token cannot be read"
		}
		for _, n := range []string{CheckMapping, CheckSubject, CheckCondition, CheckLint, CheckMembers} {
			d.add(n, Skip, why)
		}
		return
	}
	mapping, condition := d.res.AttributeMapping, d.res.AttributeCondition
	pol, err := wifcel.Compile(mapping, condition)
	var ce *wifcel.ConfigError
	if err != nil && !errors.As(err, &ce) {
		d.add(CheckMapping, Fail, "the CEL environment cannot be built: "+err.Error())
		return
	}
	if ce != nil {
		d.reportConfigProblems(ce, condition)
		return
	}
	res := pol.Judge(d.claims)
	d.rep.Attributes = res.Attributes
	d.reportMapping(pol, res)
	d.reportSubject(res)
	d.reportCondition(pol, res)
	d.lint(pol, res)
	d.members(res)
}

// reportConfigProblems reports expressions that do not compile.
func (d *doctor) reportConfigProblems(ce *wifcel.ConfigError, condition string) {
	var mapDetails, condDetails []string
	for _, p := range ce.Problems {
		line := describe(p)
		if p.Key == "condition" {
			condDetails = append(condDetails, line...)
		} else {
			mapDetails = append(mapDetails, line...)
		}
	}
	if len(mapDetails) > 0 {
		d.add(CheckMapping, Fail, "the attribute mapping is not valid", mapDetails...)
		d.add(CheckSubject, Skip, "not evaluated: the mapping is not valid")
	} else {
		d.add(CheckMapping, Skip, "not evaluated: the condition is not valid")
		d.add(CheckSubject, Skip, "not evaluated: the condition is not valid")
	}
	if len(condDetails) > 0 {
		d.add(CheckCondition, Fail, "the attribute condition is not valid CEL", condDetails...)
	} else if strings.TrimSpace(condition) != "" {
		d.add(CheckCondition, Skip, "not evaluated: the mapping is not valid")
	} else {
		d.add(CheckCondition, Skip, "no condition")
	}
	d.add(CheckLint, Skip, "not run: fix the expressions first")
	d.add(CheckMembers, Skip, "unknown: the mapping or condition is not valid")
}

// describe turns an expression problem into detail lines, with a caret
// under the position when it is known.
func describe(p *wifcel.ExprError) []string {
	out := []string{p.Error()}
	if p.Expr == "" {
		return out
	}
	lines := strings.Split(p.Expr, "\n")
	if p.Line >= 1 && p.Line <= len(lines) {
		src := lines[p.Line-1]
		out = append(out, "  "+src)
		col := min(max(p.Column, 1), len(src)+1)
		out = append(out, "  "+strings.Repeat(" ", col-1)+"^")
	} else {
		out = append(out, "  "+p.Expr)
	}
	return out
}

func (d *doctor) reportMapping(pol *wifcel.Policy, res *wifcel.Result) {
	var details []string
	for _, m := range pol.Mappings() {
		key := m[0]
		if v, ok := res.Attributes[key]; ok {
			details = append(details, fmt.Sprintf("%s = %s   ← %s", key, show(v), m[1]))
		}
	}
	for _, u := range res.Unset {
		details = append(details, fmt.Sprintf("%s: unset, the token has no %q (← %s)", u.Key, u.Absent, u.Expr))
	}
	if len(res.MappingErrors) > 0 {
		for _, e := range res.MappingErrors {
			details = append(details, describe(e)...)
		}
		d.add(CheckMapping, Fail, "the attribute mapping fails on this token: "+res.MappingErrors[0].Error(), details...)
		return
	}
	if rj := res.Rejection; rj != nil && rj.Stage == wifcel.StageMapping {
		d.add(CheckMapping, Fail, rj.Message, details...)
		return
	}
	if len(res.Unset) > 0 {
		d.add(CheckMapping, Warn, fmt.Sprintf("%d attribute(s) mapped, %d left unset (the token lacks their claims)", len(res.Attributes), len(res.Unset)), details...)
		return
	}
	d.add(CheckMapping, Pass, fmt.Sprintf("%d attribute(s) mapped", len(res.Attributes)), details...)
}

func (d *doctor) reportSubject(res *wifcel.Result) {
	if len(res.MappingErrors) > 0 || (res.Rejection != nil && res.Rejection.Stage == wifcel.StageMapping) {
		d.add(CheckSubject, Skip, "not evaluated: the mapping fails")
		return
	}
	sub := res.Attributes.Subject()
	if rj := res.Rejection; rj != nil && rj.Stage == wifcel.StageSubject {
		details := []string{"google.subject = " + show(sub)}
		if len(sub) > wifcel.MaxSubjectBytes {
			details = append(details, "map a shorter value, for example assertion.sub, or a part of it with extract()")
		}
		d.add(CheckSubject, Fail, rj.Message, details...)
		return
	}
	d.add(CheckSubject, Pass, fmt.Sprintf("google.subject is %d bytes (at most %d)", len(sub), wifcel.MaxSubjectBytes), "google.subject = "+show(sub))
}

func (d *doctor) reportCondition(pol *wifcel.Policy, res *wifcel.Result) {
	c := pol.Condition()
	switch {
	case res.Rejection != nil && res.Rejection.Stage != wifcel.StageCondition:
		if c == nil {
			d.add(CheckCondition, Skip, "no condition")
		} else {
			d.add(CheckCondition, Skip, "not evaluated: the mapping fails")
		}
		return
	case c == nil:
		d.add(CheckCondition, Pass, "no attribute condition: every token the provider trusts is accepted")
		return
	}
	ex := c.Explain(d.claims, res.Attributes)
	d.rep.Condition = ex
	if res.Allowed && res.ConditionError == nil {
		d.add(CheckCondition, Pass, "true", explainLines(ex, "")...)
		return
	}
	culprit := ex.Culprit()
	var summary string
	switch {
	case res.ConditionError != nil && culprit.Error != "":
		summary = fmt.Sprintf("fails to evaluate: %s (in %s)", culprit.Error, culprit.Text)
	case res.ConditionError != nil:
		summary = "fails to evaluate: " + res.ConditionError.Message
	case culprit.Op == "||":
		summary = "false: no alternative of " + culprit.Text + " holds"
	case culprit == ex:
		summary = "false"
	default:
		summary = "false: " + culprit.Text + " is false"
	}
	d.add(CheckCondition, Fail, summary, explainLines(ex, "")...)
}

// explainLines renders a clause tree: each part with its value, and the
// values each leaf read.
func explainLines(c *wifcel.Clause, indent string) []string {
	val := "error: " + c.Error
	if c.Value != nil {
		val = fmt.Sprint(*c.Value)
	}
	out := []string{indent + c.Text + "  →  " + val}
	for _, r := range c.Refs {
		if r.Present {
			out = append(out, indent+"    "+r.Path+" = "+show(r.Value))
		} else {
			out = append(out, indent+"    "+r.Path+" is absent")
		}
	}
	if len(c.Parts) > 0 {
		for _, p := range c.Parts {
			out = append(out, explainLines(p, indent+"  ")...)
		}
	}
	return out
}

func (d *doctor) lint(pol *wifcel.Policy, res *wifcel.Result) {
	var warns []string
	issuer := d.res.OIDC.IssuerURI
	c := pol.Condition()
	if who, shared := sharedIssuers[strings.TrimSuffix(issuer, "/")]; shared && c == nil {
		msg := "no attribute condition, and the issuer is shared by " + who + ": any of them can use this pool; add a condition naming yours, such as assertion.repository_owner_id == 'ID'"
		if strings.TrimSuffix(issuer, "/") == githubIssuer {
			msg += " (Google requires a condition on providers that trust GitHub's issuer)"
		}
		warns = append(warns, msg)
	}
	condAttrs := map[string]bool{}
	if c != nil {
		for _, r := range c.Reads(d.claims, res.Attributes) {
			switch {
			case strings.HasPrefix(r.Path, "assertion") && !r.Present && !r.TestOnly:
				warns = append(warns, fmt.Sprintf("the condition reads %s, which this token does not have (guard it with has(%s) if it is optional)", r.Path, r.Path))
			case strings.HasPrefix(r.Path, "attribute."):
				name, _, _ := strings.Cut(strings.TrimPrefix(r.Path, "attribute."), ".")
				condAttrs[name] = true
				if _, mapped := mappingOf(pol, "attribute."+name); !mapped {
					warns = append(warns, fmt.Sprintf("the condition reads %s, which the mapping never sets", r.Path))
				}
			case strings.HasPrefix(r.Path, "google.") && !r.Present:
				warns = append(warns, fmt.Sprintf("the condition reads %s, which the mapping does not set for this token", r.Path))
			}
		}
	}
	var unused []string
	for _, m := range pol.Mappings() {
		if name, ok := strings.CutPrefix(m[0], "attribute."); ok && !condAttrs[name] {
			unused = append(unused, m[0])
		}
	}
	if len(unused) > 0 && c != nil {
		warns = append(warns, "mapped but never tested by the condition: "+strings.Join(unused, ", ")+" (fine when an IAM binding's principalSet uses them)")
	}
	if len(warns) == 0 {
		d.add(CheckLint, Pass, "nothing to remark")
		return
	}
	d.add(CheckLint, Warn, fmt.Sprintf("%d remark(s)", len(warns)), warns...)
}

// mappingOf returns a mapping's expression.
func mappingOf(pol *wifcel.Policy, key string) (string, bool) {
	for _, m := range pol.Mappings() {
		if m[0] == key {
			return m[1], true
		}
	}
	return "", false
}

func (d *doctor) members(res *wifcel.Result) {
	sub := res.Attributes.Subject()
	switch {
	case !d.provOK:
		d.add(CheckMembers, Skip, "unknown: the provider's name is not valid")
		return
	case sub == "" || len(res.MappingErrors) > 0:
		d.add(CheckMembers, Skip, "unknown: the mapping gives no google.subject")
		return
	}
	p := d.prov
	pool := "iam.googleapis.com/projects/" + p.Project + "/locations/" + p.Location + "/workloadIdentityPools/" + p.Pool
	principal := "principal://" + pool + "/subject/" + sub
	members := []string{principal}
	for _, g := range res.Attributes.Values(wifcel.KeyGroups) {
		members = append(members, "principalSet://"+pool+"/group/"+g)
	}
	for _, k := range res.Attributes.Keys() {
		if name, ok := strings.CutPrefix(k, "attribute."); ok {
			for _, v := range res.Attributes.Values(k) {
				members = append(members, "principalSet://"+pool+"/attribute."+name+"/"+v)
			}
		}
	}
	members = append(members, "principalSet://"+pool+"/*")
	d.rep.Members = members
	details := slices.Clone(members)
	details[len(details)-1] += "   (every identity of the pool)"
	if d.opts.ServiceAccount != "" {
		d.rep.BindCommand = []string{"gcloud", "iam", "service-accounts", "add-iam-policy-binding", d.opts.ServiceAccount,
			"--role=roles/iam.workloadIdentityUser", "--member=" + principal}
	}
	summary := fmt.Sprintf("this token is %d IAM member(s); grant roles to one of them", len(members))
	if res.Rejection != nil {
		summary = fmt.Sprintf("once accepted, this token would be %d IAM member(s)", len(members))
	}
	d.add(CheckMembers, Pass, summary, details...)
}

// show renders a value as JSON (strings quoted).
func show(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Package doctor says whether Google's Security Token Service would accept
// a workload's OIDC token for a workload identity pool provider, and if not,
// exactly why: it runs the checks STS runs (the provider's state, the
// token's signature, issuer, audience and times, the attribute mapping and
// the attribute condition, evaluated with the same CEL environment as
// package wifcel) and reports each with the values it involved, offline,
// before anyone edits a policy. It follows Google's workload identity
// federation guide and the IAM API's WorkloadIdentityPoolProvider reference.
//
// Reports carry claims (they are not secrets) but never the token itself.
package doctor

import (
	"context"
	"errors"
	"github.com/ghlogin/ghlogin/internal/clock"
	"net/http"
	"time"

	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
	"github.com/ghlogin/ghlogin/internal/workload/federation"
	"github.com/ghlogin/ghlogin/internal/workload/wifcel"
)

// Status is a check's outcome.
type Status string

// Outcomes of a check.
const (
	Pass Status = "pass" // ✓
	Fail Status = "fail" // ✗: STS would reject the token for this reason
	Warn Status = "warn" // !: STS accepts, but something deserves a look
	Skip Status = "skip" // not run: an earlier check failed or it does not apply
)

// Names of the checks, in the order they run.
const (
	CheckProvider      = "provider"
	CheckProviderState = "provider-state"
	CheckToken         = "token"
	CheckSignature     = "signature"
	CheckIssuer        = "issuer"
	CheckAudience      = "audience"
	CheckLifetime      = "lifetime"
	CheckMapping       = "mapping"
	CheckSubject       = "subject"
	CheckCondition     = "condition"
	CheckLint          = "lint"
	CheckMembers       = "members"
)

// Check is one check's outcome: a one-line summary and the values involved.
type Check struct {
	Name    string   `json:"name"`
	Status  Status   `json:"status"`
	Summary string   `json:"summary"`
	Details []string `json:"details,omitempty"`
}

// Report is everything the doctor found.
type Report struct {
	// Provider is the provider's full name as given or as read.
	Provider string `json:"provider"`
	// SettingsFrom says where the provider's settings came from.
	SettingsFrom string `json:"settings_from"`
	// Accepted is true when STS would accept the token.
	Accepted bool `json:"accepted"`
	// FailedCheck names the first failing check, "" when accepted.
	FailedCheck string `json:"failed_check,omitempty"`
	// Reason is the first failing check's summary.
	Reason string `json:"reason,omitempty"`
	// Checks are every check, in order.
	Checks []Check `json:"checks"`
	// Claims are the token's claims (never the token).
	Claims map[string]any `json:"claims,omitempty"`
	// Attributes are the mapped attributes.
	Attributes map[string]any `json:"attributes,omitempty"`
	// Condition is the condition's evaluation, clause by clause.
	Condition *wifcel.Clause `json:"condition,omitempty"`
	// Members are the IAM members this token is.
	Members []string `json:"members,omitempty"`
	// BindCommand is the gcloud command that lets the token's principal
	// impersonate Options.ServiceAccount, as arguments.
	BindCommand []string `json:"bind_command,omitempty"`
}

// Check returns the named check, or nil.
func (r *Report) Check(name string) *Check {
	for i := range r.Checks {
		if r.Checks[i].Name == name {
			return &r.Checks[i]
		}
	}
	return nil
}

// Options are the doctor's inputs.
type Options struct {
	// Provider is the provider's name as the user gave it; "" takes the
	// name from ProviderJSON.
	Provider string
	// ProviderJSON is the provider resource (a --provider-file); nil means
	// fetch it from the IAM API with AccessToken.
	ProviderJSON []byte
	// ProviderSource names where ProviderJSON came from (a file name).
	ProviderSource string
	// IAMURL is the IAM API's base URL; "" means DefaultIAMURL. It must pass
	// safe.CheckURL (the caller checks it).
	IAMURL string
	// AccessToken is the bearer for the IAM API (a secret, never reported).
	AccessToken string
	// SubjectToken is the workload's OIDC token (a secret, never reported).
	SubjectToken string
	// ServiceAccount, when set, adds the gcloud command that grants the
	// token's principal roles/iam.workloadIdentityUser on it.
	ServiceAccount string
	// HTTPClient fetches the provider and the issuer's keys; nil is a
	// client with Timeout.
	HTTPClient *http.Client
	// Clock is the clock the token's times are checked against; nil means
	// clock.Real.
	Clock clock.Clock
	// Timeout bounds each network request; 0 means 30s.
	Timeout time.Duration
}

// ErrNoProviderName is returned when neither Options.Provider nor the
// provider resource names the provider.
var ErrNoProviderName = errors.New("no provider name: the provider resource has no name")

// doctor is one run.
type doctor struct {
	opts   Options
	now    time.Time
	hc     *http.Client
	rep    *Report
	prov   federation.Provider // valid when provOK
	provOK bool
	res    *ProviderResource
	claims map[string]any
	header map[string]any
	aud    []string
}

// Run runs every check. It returns an error only when it cannot judge at
// all: the provider resource cannot be read (*ResourceError, *FetchError)
// or named (ErrNoProviderName). A rejected token is a Report with Accepted
// false, not an error.
func Run(ctx context.Context, opts Options) (*Report, error) {
	d := &doctor{opts: opts, rep: &Report{}}
	d.now = clock.Or(opts.Clock).Now()
	if d.opts.Timeout <= 0 {
		d.opts.Timeout = 30 * time.Second
	}
	d.hc = safehttp.HTTPClient(opts.HTTPClient, d.opts.Timeout)
	if err := d.loadProvider(ctx); err != nil {
		return nil, err
	}
	d.checkToken()
	d.checkSignature(ctx)
	d.checkIssuer()
	d.checkAudience()
	d.checkLifetime()
	d.checkPolicy()
	for _, c := range d.rep.Checks {
		if c.Status == Fail {
			d.rep.FailedCheck, d.rep.Reason = c.Name, c.Summary
			break
		}
	}
	d.rep.Accepted = d.rep.FailedCheck == ""
	return d.rep, nil
}

// add records a check.
func (d *doctor) add(name string, st Status, summary string, details ...string) {
	d.rep.Checks = append(d.rep.Checks, Check{Name: name, Status: st, Summary: summary, Details: details})
}

// failed reports whether any of the named checks failed or was skipped.
func (d *doctor) failed(names ...string) bool {
	for _, n := range names {
		if c := d.rep.Check(n); c == nil || c.Status == Fail || c.Status == Skip {
			return true
		}
	}
	return false
}

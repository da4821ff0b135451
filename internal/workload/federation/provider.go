package federation

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
)

// IAMHost is the host that names workload identity pool providers.
const IAMHost = "iam.googleapis.com"

// ProviderShape is the form --provider takes, shown in usage errors.
const ProviderShape = "//iam.googleapis.com/projects/PROJECT_NUMBER/locations/global/workloadIdentityPools/POOL_ID/providers/PROVIDER_ID"

// Provider names a workload identity pool provider.
type Provider struct {
	Project  string // project number
	Location string // "global" for workload identity pools
	Pool     string // pool ID
	ID       string // provider ID
}

var (
	projectRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{1,20}$`) })
	locationRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`) })
	poolIDRe   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9-]{4,32}$`) })
)

// ParseProvider reads a provider's full resource name, with or without the
// "//iam.googleapis.com/" prefix, and checks every segment.
func ParseProvider(s string) (Provider, error) {
	in := strings.TrimSpace(s)
	bad := func(reason string) (Provider, error) {
		return Provider{}, &UsageError{Name: "provider", Value: s, Reason: reason + "; expected " + ProviderShape}
	}
	if in == "" {
		return bad("no provider given")
	}
	rest := in
	switch {
	case strings.HasPrefix(rest, "//"):
		host, path, _ := strings.Cut(rest[2:], "/")
		if host != IAMHost {
			return bad(fmt.Sprintf("the name must start with //%s/", IAMHost))
		}
		rest = path
	case strings.HasPrefix(rest, "https://"), strings.HasPrefix(rest, "http://"), strings.HasPrefix(rest, "principal"):
		return bad("this is not a provider resource name")
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 8 || parts[0] != "projects" || parts[2] != "locations" || parts[4] != "workloadIdentityPools" || parts[6] != "providers" {
		return bad("the name does not have the expected segments")
	}
	p := Provider{Project: parts[1], Location: parts[3], Pool: parts[5], ID: parts[7]}
	if err := p.Validate(); err != nil {
		return bad(err.(*UsageError).Reason)
	}
	return p, nil
}

// Validate checks each field of p.
func (p Provider) Validate() error {
	bad := func(reason string) error {
		return &UsageError{Name: "provider", Value: p.Name(), Reason: reason}
	}
	switch {
	case !projectRe().MatchString(p.Project):
		return bad(fmt.Sprintf("project %q must be the project number (digits), not the project ID", p.Project))
	case !locationRe().MatchString(p.Location):
		return bad(fmt.Sprintf("location %q is not valid (workload identity pools use \"global\")", p.Location))
	case !poolIDRe().MatchString(p.Pool) || strings.HasPrefix(p.Pool, "gcp-"):
		return bad(fmt.Sprintf("pool ID %q must be 4-32 lowercase letters, digits or hyphens, not starting with gcp-", p.Pool))
	case !poolIDRe().MatchString(p.ID) || strings.HasPrefix(p.ID, "gcp-"):
		return bad(fmt.Sprintf("provider ID %q must be 4-32 lowercase letters, digits or hyphens, not starting with gcp-", p.ID))
	}
	return nil
}

// Name is the provider's relative resource name:
// "projects/N/locations/L/workloadIdentityPools/P/providers/X".
func (p Provider) Name() string {
	return "projects/" + p.Project + "/locations/" + p.Location + "/workloadIdentityPools/" + p.Pool + "/providers/" + p.ID
}

// String returns Audience().
func (p Provider) String() string { return p.Audience() }

// Audience is the STS audience, also the credential configuration's
// audience: "//iam.googleapis.com/projects/N/locations/L/workloadIdentityPools/P/providers/X".
func (p Provider) Audience() string { return "//" + IAMHost + "/" + p.Name() }

// DefaultTokenAudience is the audience an OIDC provider allows when none is
// configured, so what the workload's ID token's aud must be:
// "https://iam.googleapis.com/projects/N/locations/L/workloadIdentityPools/P/providers/X".
func (p Provider) DefaultTokenAudience() string { return "https://" + IAMHost + "/" + p.Name() }

// PrincipalSet is the principalSet that stands for every identity of the
// provider's pool, the member to grant roles/iam.workloadIdentityUser to.
func (p Provider) PrincipalSet() string {
	return "principalSet://" + IAMHost + "/projects/" + p.Project + "/locations/" + p.Location + "/workloadIdentityPools/" + p.Pool + "/*"
}

var (
	saLocalRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,99}$`) })
	saDomainRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)
	})
	uniqueIDRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{1,30}$`) })
)

// ValidateServiceAccount checks a service account's email (or its numeric
// unique ID, which IAM Credentials also accepts).
func ValidateServiceAccount(email string) error {
	if uniqueIDRe().MatchString(email) {
		return nil
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || !saLocalRe().MatchString(local) || len(domain) > 253 || !saDomainRe().MatchString(domain) {
		return &UsageError{Name: "service account", Value: email, Reason: "expected an email such as NAME@PROJECT_ID.iam.gserviceaccount.com (lowercase)"}
	}
	return nil
}

// MinLifetime and MaxLifetime bound a generated access token's lifetime.
// Above DefaultLifetime, the organization must allow it with the policy
// constraints/iam.allowServiceAccountCredentialLifetimeExtension.
const (
	MinLifetime     = time.Second
	DefaultLifetime = time.Hour
	MaxLifetime     = 12 * time.Hour
)

// ValidateLifetime checks a token lifetime: whole seconds from 1s to 43200s.
func ValidateLifetime(d time.Duration) error {
	if d < MinLifetime || d > MaxLifetime {
		return &UsageError{Name: "lifetime", Value: d.String(), Reason: "must be between 1s and 43200s (12h)"}
	}
	if d%time.Second != 0 {
		return &UsageError{Name: "lifetime", Value: d.String(), Reason: "must be a whole number of seconds"}
	}
	return nil
}

// UsageError is an argument that cannot be right: a malformed provider name,
// service account, lifetime, audience or endpoint. It never holds a token.
type UsageError struct {
	Name   string // what was given ("provider", "service account", ...)
	Value  string // the value given, shortened
	Reason string // what is wrong and what is expected
}

func (e *UsageError) Error() string {
	v := e.Value
	if len(v) > 200 {
		v = v[:200] + "…"
	}
	return fmt.Sprintf("invalid %s %q: %s", e.Name, v, e.Reason)
}

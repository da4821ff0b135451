package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
	"github.com/ghlogin/ghlogin/internal/workload/federation"
	"github.com/ghlogin/ghlogin/oauth"
)

// DefaultIAMURL is the IAM API's base URL.
const DefaultIAMURL = "https://iam.googleapis.com"

// maxProviderBytes bounds a provider resource (its JWKS included).
const maxProviderBytes = 1 << 20

// ProviderResource is a workload identity pool provider as the IAM API
// returns it (GET v1/{name}) and as `gcloud iam workload-identity-pools
// providers describe --format=json` prints it.
type ProviderResource struct {
	Name               string            `json:"name"`
	DisplayName        string            `json:"displayName,omitempty"`
	State              string            `json:"state,omitempty"`
	Disabled           bool              `json:"disabled,omitempty"`
	AttributeMapping   map[string]string `json:"attributeMapping,omitempty"`
	AttributeCondition string            `json:"attributeCondition,omitempty"`
	OIDC               *OIDCSettings     `json:"oidc,omitempty"`
	AWS                json.RawMessage   `json:"aws,omitempty"`
	SAML               json.RawMessage   `json:"saml,omitempty"`
	X509               json.RawMessage   `json:"x509,omitempty"`
}

// OIDCSettings are an OIDC provider's settings.
type OIDCSettings struct {
	IssuerURI        string   `json:"issuerUri"`
	AllowedAudiences []string `json:"allowedAudiences,omitempty"`
	// JWKSJSON is the uploaded JWKS, a JSON document in a string; when set,
	// Google verifies signatures with it instead of the issuer's keys.
	JWKSJSON string `json:"jwksJson,omitempty"`
}

// ParseProviderResource reads a provider resource's JSON.
func ParseProviderResource(b []byte) (*ProviderResource, error) {
	var p ProviderResource
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&p); err != nil {
		return nil, &ResourceError{Reason: "it is not the JSON of a provider resource: " + jsonProblem(err)}
	}
	return &p, nil
}

// ResourceError is a provider file that cannot be read as a provider resource.
type ResourceError struct{ Reason string }

// Error says why the file is not a provider resource.
func (e *ResourceError) Error() string { return e.Reason }

func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("the field %q has the wrong type", te.Field)
	}
	return safe.Short(err.Error(), 200)
}

// FetchError is a failed IAM API request for the provider resource (other
// than 404, which the provider-state check reports). It never holds the
// bearer token.
type FetchError struct {
	// URL is the request URL.
	URL string
	// StatusCode is the reply's status, 0 when no reply came.
	StatusCode int
	// Status is Google's error status (PERMISSION_DENIED, ...), if any.
	Status string
	// Message is Google's message, or the network error, sanitised.
	Message string
	// Location is where a redirect pointed (redirects are not followed).
	Location string
}

// Error names the request and what came back.
func (e *FetchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "reading the provider from the IAM API (GET %s)", e.URL)
	switch {
	case e.StatusCode == 0:
		b.WriteString(" failed: " + e.Message)
	case e.Location != "":
		fmt.Fprintf(&b, ": HTTP %d redirect to %s, not followed because the request carries a bearer token", e.StatusCode, e.Location)
	default:
		fmt.Fprintf(&b, ": HTTP %d", e.StatusCode)
		if e.Status != "" {
			b.WriteString(" " + e.Status)
		}
		if e.Message != "" {
			fmt.Fprintf(&b, ": %q", e.Message)
		}
	}
	return b.String()
}

// fetchProvider GETs {base}/v1/{name} with the bearer; a 404 returns
// (nil, nil). Redirects are never followed (the request carries a secret).
func fetchProvider(ctx context.Context, hc *http.Client, base, name, bearer string, timeout time.Duration) (*ProviderResource, error) {
	u := strings.TrimRight(base, "/") + "/v1/" + name
	where := u
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &FetchError{URL: where, Message: "the URL cannot be requested"}
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Accept", "application/json")
	// The request carries a bearer token: safe's policy never lets it
	// follow a redirect.
	resp, err := safehttp.HTTPClient(hc, timeout).Do(req)
	if err != nil {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
			return nil, ctx.Err()
		}
		var re *safehttp.RedirectError
		if errors.As(err, &re) {
			loc := re.LocationHost
			if re.LocationScheme != "" {
				loc = re.LocationScheme + "://" + loc
			}
			return nil, &FetchError{URL: where, StatusCode: re.Status, Location: safe.Short(loc, 200)}
		}
		return nil, &FetchError{URL: where, Message: safe.Short(safe.Redact(oauth.StripURL(err).Error(), bearer), 300)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProviderBytes+1))
	if err != nil {
		return nil, &FetchError{URL: where, Message: safe.Short(safe.Redact(err.Error(), bearer), 300)}
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, &FetchError{URL: where, StatusCode: resp.StatusCode, Location: "(no Location)"}
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		fe := &FetchError{URL: where, StatusCode: resp.StatusCode}
		var ge struct {
			Error *struct {
				Message string `json:"message"`
				Status  string `json:"status"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &ge) == nil && ge.Error != nil {
			fe.Status = safe.Short(ge.Error.Status, 60)
			fe.Message = safe.Short(safe.Redact(ge.Error.Message, bearer), 300)
		}
		return nil, fe
	}
	if len(body) > maxProviderBytes {
		return nil, &FetchError{URL: where, StatusCode: resp.StatusCode, Message: "the reply is larger than 1 MiB"}
	}
	p, err := ParseProviderResource(body)
	if err != nil {
		return nil, &FetchError{URL: where, StatusCode: resp.StatusCode, Message: "the reply " + err.Error()}
	}
	return p, nil
}

var (
	poolPathRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(?://iam\.googleapis\.com/)?projects/([^/]+)/locations/([^/]+)/workloadIdentityPools/([^/]+)/?$`)
	})
	anyProviderRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(?://iam\.googleapis\.com/)?projects/([^/]+)/locations/([^/]+)/workloadIdentityPools/([^/]+)/providers/([^/]+)$`)
	})
	digitsRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+$`) })
)

// ProviderNameProblem says what is wrong with a provider's resource name
// (the doctor's first check), or "" when it names a provider.
func ProviderNameProblem(name string) string {
	_, problem := diagnoseProviderName(strings.TrimSpace(name))
	return problem
}

// diagnoseProviderName explains what is wrong with a provider name, in
// the terms people get wrong most: a pool instead of a provider, a
// project ID instead of its number, a principal or audience URL.
func diagnoseProviderName(s string) (federation.Provider, string) {
	in := strings.TrimSpace(s)
	if m := poolPathRe().FindStringSubmatch(in); m != nil {
		return federation.Provider{}, fmt.Sprintf("this names the pool %q, not a provider: add /providers/PROVIDER_ID (gcloud iam workload-identity-pools providers list --workload-identity-pool=%s --location=%s)", m[3], m[3], m[2])
	}
	if m := anyProviderRe().FindStringSubmatch(in); m != nil && !digitsRe().MatchString(m[1]) {
		return federation.Provider{}, fmt.Sprintf("%q is a project ID; the provider's name takes the project NUMBER (gcloud projects describe %s --format='value(projectNumber)')", m[1], m[1])
	}
	if strings.HasPrefix(in, "https://iam.googleapis.com/") {
		return federation.Provider{}, "this is the provider's default audience (an https URL); the provider's name starts with //iam.googleapis.com/projects/..."
	}
	if strings.HasPrefix(in, "principal") {
		return federation.Provider{}, "this is an IAM principal (a member of a binding), not a provider; the provider's name is //iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER"
	}
	p, err := federation.ParseProvider(in)
	if err != nil {
		var ue *federation.UsageError
		if errors.As(err, &ue) {
			return p, ue.Reason
		}
		return p, err.Error()
	}
	return p, ""
}

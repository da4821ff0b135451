// Package wiftest makes what tests of workload identity federation need:
// signing keys with their JWKS, GitHub Actions and Google metadata server
// ID token claims, and provider resources as the IAM API returns them. It
// is for tests only.
package wiftest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"maps"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Values the claims and providers use.
const (
	// GitHubIssuer is GitHub Actions' OIDC issuer.
	GitHubIssuer = "https://token.actions.githubusercontent.com"
	// GoogleIssuer is the issuer of Google-signed ID tokens.
	GoogleIssuer = "https://accounts.google.com"
	// Provider is a provider's relative name.
	Provider = "projects/123456789012/locations/global/workloadIdentityPools/github/providers/actions"
	// DefaultAudience is Provider's default token audience.
	DefaultAudience = "https://iam.googleapis.com/" + Provider
	// VMEmail is the metadata server's service account.
	VMEmail = "vm@my-project.iam.gserviceaccount.com"
)

// Key is a signing key with its key ID.
type Key struct {
	ID     string
	Alg    jose.SignatureAlgorithm
	signer jose.Signer
	public jose.JSONWebKey
}

// NewRSAKey makes a 2048-bit RS256 key.
func NewRSAKey(kid string) *Key {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return newKey(kid, jose.RS256, priv, &priv.PublicKey)
}

// NewECKey makes a P-256 ES256 key.
func NewECKey(kid string) *Key {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return newKey(kid, jose.ES256, priv, &priv.PublicKey)
}

func newKey(kid string, alg jose.SignatureAlgorithm, priv, pub any) *Key {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: priv, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		panic(err)
	}
	return &Key{ID: kid, Alg: alg, signer: s, public: jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: string(alg), Use: "sig"}}
}

// Sign returns a compact JWT of claims.
func (k *Key) Sign(claims map[string]any) string {
	tok, err := jwt.Signed(k.signer).Claims(claims).Serialize()
	if err != nil {
		panic(err)
	}
	return tok
}

// JWKS is the key set holding the public keys, as JSON.
func JWKS(keys ...*Key) string {
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.public)
	}
	b, err := json.Marshal(set)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// ActionsClaims are a GitHub Actions job's ID token claims for a push to
// main of octo-org/octo-repo, issued at now, for aud.
func ActionsClaims(now time.Time, aud string) map[string]any {
	return map[string]any{
		"iss":                   GitHubIssuer,
		"aud":                   aud,
		"sub":                   "repo:octo-org/octo-repo:ref:refs/heads/main",
		"jti":                   "6f6a1d3c-1e7a-4a8b-9d51-0f5c2b7e3a10",
		"iat":                   now.Unix(),
		"nbf":                   now.Add(-10 * time.Minute).Unix(),
		"exp":                   now.Add(5 * time.Minute).Unix(),
		"ref":                   "refs/heads/main",
		"ref_type":              "branch",
		"ref_protected":         "true",
		"sha":                   "d6cd1e2bd19e03a81132a23b2025920577f84e37",
		"repository":            "octo-org/octo-repo",
		"repository_id":         "74",
		"repository_owner":      "octo-org",
		"repository_owner_id":   "65",
		"repository_visibility": "private",
		"actor":                 "octocat",
		"actor_id":              "583231",
		"workflow":              "deploy",
		"workflow_ref":          "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
		"job_workflow_ref":      "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
		"event_name":            "push",
		"run_id":                "1234567890",
		"runner_environment":    "github-hosted",
	}
}

// MetadataClaims are a Google-signed ID token's claims as the metadata
// server of a VM in my-project issues them with format=full.
func MetadataClaims(now time.Time, aud string) map[string]any {
	return map[string]any{
		"iss":            GoogleIssuer,
		"aud":            aud,
		"azp":            "112233445566778899001",
		"sub":            "112233445566778899001",
		"email":          VMEmail,
		"email_verified": true,
		"iat":            now.Unix(),
		"exp":            now.Add(time.Hour).Unix(),
		"google": map[string]any{"compute_engine": map[string]any{
			"project_id":     "my-project",
			"project_number": 123456789012,
			"zone":           "us-central1-a",
			"instance_id":    "4462897381716371209",
			"instance_name":  "builder",
		}},
	}
}

// With returns a copy of claims with extra merged in; a nil value deletes
// the claim.
func With(claims map[string]any, extra map[string]any) map[string]any {
	out := maps.Clone(claims)
	for k, v := range extra {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// ProviderResource is an OIDC provider resource as the IAM API returns it.
type ProviderResource struct {
	Name               string            `json:"name"`
	State              string            `json:"state,omitempty"`
	Disabled           bool              `json:"disabled,omitempty"`
	AttributeMapping   map[string]string `json:"attributeMapping,omitempty"`
	AttributeCondition string            `json:"attributeCondition,omitempty"`
	OIDC               *OIDC             `json:"oidc,omitempty"`
	AWS                map[string]any    `json:"aws,omitempty"`
}

// OIDC is a provider's oidc settings.
type OIDC struct {
	IssuerURI        string   `json:"issuerUri"`
	AllowedAudiences []string `json:"allowedAudiences,omitempty"`
	JWKSJSON         string   `json:"jwksJson,omitempty"`
}

// GitHubProvider trusts GitHub's issuer with keys, maps google.subject and
// the repository attributes, and has condition.
func GitHubProvider(condition string, keys ...*Key) *ProviderResource {
	return &ProviderResource{
		Name:  Provider,
		State: "ACTIVE",
		AttributeMapping: map[string]string{
			"google.subject":             "assertion.sub",
			"attribute.repository":       "assertion.repository",
			"attribute.repository_owner": "assertion.repository_owner",
		},
		AttributeCondition: condition,
		OIDC:               &OIDC{IssuerURI: GitHubIssuer, JWKSJSON: JWKS(keys...)},
	}
}

// JSON is the resource's JSON.
func (p *ProviderResource) JSON() []byte {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

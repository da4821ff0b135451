package doctor

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/workload/federation"
	"github.com/ghlogin/ghlogin/internal/workload/idtoken"
	"github.com/ghlogin/ghlogin/internal/workload/wifcel"
)

// signingAlgs are the JWS algorithms Google accepts for OIDC subject tokens.
var signingAlgs = []string{"RS256", "ES256"}

// loadProvider runs the provider and provider-state checks and loads the
// provider's settings.
func (d *doctor) loadProvider(ctx context.Context) error {
	o := d.opts
	if o.ProviderJSON != nil {
		res, err := ParseProviderResource(o.ProviderJSON)
		if err != nil {
			return err
		}
		d.res = res
		d.rep.SettingsFrom = o.ProviderSource
		if d.rep.SettingsFrom == "" {
			d.rep.SettingsFrom = "the provider file"
		}
	}
	given := strings.TrimSpace(o.Provider)
	if given == "" {
		if d.res == nil || d.res.Name == "" {
			return ErrNoProviderName
		}
		given = d.res.Name
	}
	d.rep.Provider = given
	p, problem := diagnoseProviderName(given)
	switch {
	case problem != "":
		d.add(CheckProvider, Fail, problem, "given: "+given)
	case d.res != nil && d.res.Name != "" && strings.TrimPrefix(d.res.Name, "//"+federation.IAMHost+"/") != p.Name():
		d.add(CheckProvider, Fail, "the provider file describes another provider",
			"given:         "+p.Audience(), "provider file: "+d.res.Name)
	default:
		d.prov, d.provOK = p, true
		d.rep.Provider = p.Audience()
		d.add(CheckProvider, Pass, fmt.Sprintf("project number %s · pool %s · provider %s", p.Project, p.Pool, p.ID))
	}
	if d.res == nil {
		if !d.provOK {
			d.add(CheckProviderState, Skip, "not read: the provider's name is not valid")
			return nil
		}
		base := o.IAMURL
		if base == "" {
			base = DefaultIAMURL
		}
		d.rep.SettingsFrom = "the IAM API (" + base + ")"
		res, err := fetchProvider(ctx, d.hc, base, d.prov.Name(), o.AccessToken, d.opts.Timeout)
		if err != nil {
			return err
		}
		if res == nil {
			d.add(CheckProviderState, Fail, "the provider does not exist",
				"the IAM API answered 404 for "+d.prov.Name(),
				fmt.Sprintf("list the pool's providers: gcloud iam workload-identity-pools providers list --workload-identity-pool=%s --location=%s --project=%s", d.prov.Pool, d.prov.Location, d.prov.Project))
			return nil
		}
		d.res = res
	}
	r := d.res
	switch {
	case r.State == "DELETED":
		d.add(CheckProviderState, Fail, "the provider is deleted (STS answers invalid_target)",
			fmt.Sprintf("within 30 days it can be restored: gcloud iam workload-identity-pools providers undelete %s --workload-identity-pool=%s --location=%s --project=%s", d.prov.ID, d.prov.Pool, d.prov.Location, d.prov.Project))
	case r.Disabled:
		d.add(CheckProviderState, Fail, "the provider is disabled (STS answers invalid_target)",
			fmt.Sprintf("enable it: gcloud iam workload-identity-pools providers update-oidc %s --workload-identity-pool=%s --location=%s --project=%s --no-disabled", d.prov.ID, d.prov.Pool, d.prov.Location, d.prov.Project))
	case r.OIDC == nil:
		kind := "not an OIDC provider"
		switch {
		case len(r.AWS) > 0:
			kind = "an AWS provider"
		case len(r.SAML) > 0:
			kind = "a SAML provider"
		case len(r.X509) > 0:
			kind = "an X.509 provider"
		}
		d.add(CheckProviderState, Fail, "the provider is "+kind+"; it does not accept OIDC tokens")
	case strings.TrimSpace(r.OIDC.IssuerURI) == "":
		d.add(CheckProviderState, Fail, "the provider has no oidc.issuerUri")
	default:
		state := r.State
		if state == "" {
			state = "ACTIVE"
		}
		details := []string{"issuerUri:        " + r.OIDC.IssuerURI}
		if len(r.OIDC.AllowedAudiences) > 0 {
			details = append(details, "allowedAudiences: "+strings.Join(r.OIDC.AllowedAudiences, ", "))
		} else {
			details = append(details, "allowedAudiences: none set, so the default audience")
		}
		if r.OIDC.JWKSJSON != "" {
			details = append(details, "keys:             the uploaded JWKS (oidc.jwksJson)")
		} else {
			details = append(details, "keys:             the issuer's, by OIDC discovery")
		}
		d.add(CheckProviderState, Pass, state+" and enabled", details...)
	}
	return nil
}

// settings returns the OIDC settings when the provider can judge a token.
func (d *doctor) settings() *OIDCSettings {
	if d.failed(CheckProviderState) {
		return nil
	}
	return d.res.OIDC
}

func (d *doctor) checkToken() {
	dec, err := idtoken.Decode(d.opts.SubjectToken)
	if err != nil {
		d.add(CheckToken, Fail, safe.Text(err.Error()))
		return
	}
	d.claims, d.header, d.aud = dec.Claims, dec.Header, dec.Audience()
	d.rep.Claims = dec.Claims
	alg, _ := dec.Header["alg"].(string)
	kid, _ := dec.Header["kid"].(string)
	summary := fmt.Sprintf("a signed JWT: alg %s, %d claims", alg, len(dec.Claims))
	details := []string{}
	if kid != "" {
		details = append(details, "key id (kid): "+kid)
	}
	if iss, _ := dec.Claims["iss"].(string); iss != "" {
		details = append(details, "iss: "+iss)
	}
	if sub, _ := dec.Claims["sub"].(string); sub != "" {
		details = append(details, "sub: "+sub)
	}
	d.add(CheckToken, Pass, summary, details...)
}

func (d *doctor) checkSignature(ctx context.Context) {
	s := d.settings()
	switch {
	case d.failed(CheckToken):
		d.add(CheckSignature, Skip, "not checked: the token cannot be read")
		return
	case s == nil:
		d.add(CheckSignature, Skip, "not checked: no usable provider settings")
		return
	}
	alg, _ := d.header["alg"].(string)
	kid, _ := d.header["kid"].(string)
	if !slices.Contains(signingAlgs, alg) {
		d.add(CheckSignature, Fail, fmt.Sprintf("the token is signed with %s; Google accepts %s", alg, strings.Join(signingAlgs, " and ")))
		return
	}
	var keys oidc.KeySet
	where := ""
	if s.JWKSJSON != "" {
		set, problem := parseUploadedJWKS(s.JWKSJSON)
		if problem != "" {
			d.add(CheckSignature, Fail, "the provider's uploaded JWKS (oidc.jwksJson) "+problem)
			return
		}
		pubs := make([]crypto.PublicKey, 0, len(set.Keys))
		for _, k := range set.Keys {
			if kid == "" || k.KeyID == "" || k.KeyID == kid {
				pubs = append(pubs, k.Key)
			}
		}
		if len(pubs) == 0 {
			d.add(CheckSignature, Fail, fmt.Sprintf("the provider's uploaded JWKS has no key with the token's key id %q", kid),
				"key ids in oidc.jwksJson: "+keyIDs(set))
			return
		}
		keys = &oidc.StaticKeySet{PublicKeys: pubs}
		where = "the provider's uploaded JWKS (oidc.jwksJson)"
	} else {
		if _, err := safe.CheckURL(s.IssuerURI); err != nil {
			d.add(CheckSignature, Fail, "the provider's issuerUri cannot be used to fetch keys: "+err.Error())
			return
		}
		cctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, d.hc), d.opts.Timeout)
		defer cancel()
		prov, err := oidc.NewProvider(cctx, s.IssuerURI)
		if err != nil {
			d.add(CheckSignature, Fail, "STS cannot fetch the issuer's keys (\"Error connecting to the given credential's issuer\")",
				"discovery at "+strings.TrimSuffix(s.IssuerURI, "/")+"/.well-known/openid-configuration failed: "+safe.Short(safe.Redact(err.Error(), d.opts.SubjectToken), 300))
			return
		}
		var disc struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if err := prov.Claims(&disc); err != nil || disc.JWKSURI == "" {
			d.add(CheckSignature, Fail, "the issuer's discovery document names no jwks_uri")
			return
		}
		if _, err := safe.CheckURL(disc.JWKSURI); err != nil {
			d.add(CheckSignature, Fail, "the issuer's jwks_uri cannot be used: "+err.Error())
			return
		}
		keys = oidc.NewRemoteKeySet(cctx, disc.JWKSURI)
		where = "the issuer's keys (" + disc.JWKSURI + ")"
	}
	vctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	if _, err := keys.VerifySignature(vctx, d.opts.SubjectToken); err != nil {
		msg := safe.Short(safe.Redact(err.Error(), d.opts.SubjectToken), 300)
		summary := "the signature does not verify with " + where
		if strings.Contains(msg, "fetching keys") {
			summary = "STS cannot fetch the issuer's keys"
		}
		details := []string{msg}
		if kid != "" {
			details = append(details, "token key id (kid): "+kid)
		}
		d.add(CheckSignature, Fail, summary, details...)
		return
	}
	sum := "verified with " + where
	if kid != "" {
		sum += ", key " + kid
	}
	d.add(CheckSignature, Pass, sum)
}

// parseUploadedJWKS reads oidc.jwksJson as Google does: a JWKS whose keys
// carry no certificate fields (Google refuses x5c and x5t there).
func parseUploadedJWKS(raw string) (*jose.JSONWebKeySet, string) {
	var probe struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(raw), &probe); err != nil || len(probe.Keys) == 0 {
		return nil, "is not a JWKS with keys"
	}
	for _, k := range probe.Keys {
		for _, f := range []string{"x5c", "x5t", "x5t#S256"} {
			if _, ok := k[f]; ok {
				return nil, "holds " + f + ", which Google refuses (\"Input JWK is not in a valid json format\"): remove x5c and x5t from each key"
			}
		}
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(raw), &set); err != nil {
		return nil, "cannot be read: " + safe.Short(err.Error(), 200)
	}
	return &set, ""
}

func keyIDs(set *jose.JSONWebKeySet) string {
	var ids []string
	for _, k := range set.Keys {
		if k.KeyID != "" {
			ids = append(ids, k.KeyID)
		}
	}
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

func (d *doctor) checkIssuer() {
	s := d.settings()
	switch {
	case d.failed(CheckToken):
		d.add(CheckIssuer, Skip, "not checked: the token cannot be read")
		return
	case s == nil:
		d.add(CheckIssuer, Skip, "not checked: no usable provider settings")
		return
	}
	iss, _ := d.claims["iss"].(string)
	if iss == s.IssuerURI {
		d.add(CheckIssuer, Pass, "iss is the provider's issuerUri, "+iss)
		return
	}
	details := []string{"token iss:          " + orNone(iss, "(none)"), "provider issuerUri: " + s.IssuerURI}
	if strings.TrimSuffix(iss, "/") == strings.TrimSuffix(s.IssuerURI, "/") {
		details = append(details, "they differ only by a trailing slash: Google compares them exactly")
	}
	d.add(CheckIssuer, Fail, "the token's issuer is not the provider's issuerUri", details...)
}

func (d *doctor) checkAudience() {
	s := d.settings()
	switch {
	case d.failed(CheckToken):
		d.add(CheckAudience, Skip, "not checked: the token cannot be read")
		return
	case s == nil:
		d.add(CheckAudience, Skip, "not checked: no usable provider settings")
		return
	}
	auds := d.aud
	allowed := s.AllowedAudiences
	what := "allowedAudiences"
	if len(allowed) == 0 {
		if !d.provOK {
			d.add(CheckAudience, Skip, "not checked: the default audience needs a valid provider name")
			return
		}
		allowed = []string{d.prov.DefaultTokenAudience(), d.prov.Audience()}
		what = "the default audience (no allowedAudiences are set)"
	}
	for _, a := range auds {
		if slices.Contains(allowed, a) {
			d.add(CheckAudience, Pass, "aud "+a+" is allowed by "+what)
			return
		}
	}
	details := []string{"token aud: " + joinList(auds), "allowed:   " + joinList(allowed)}
	if len(s.AllowedAudiences) == 0 && d.provOK {
		details = append(details, "request the token for "+d.prov.DefaultTokenAudience()+" (GitHub Actions: the audience input; ghlogin: --audience)")
	}
	d.add(CheckAudience, Fail, "the token's audience is not one the provider allows", details...)
}

func (d *doctor) checkLifetime() {
	if d.failed(CheckToken) {
		d.add(CheckLifetime, Skip, "not checked: the token cannot be read")
		return
	}
	now := d.now
	exp, okExp := numeric(d.claims["exp"])
	iat, okIat := numeric(d.claims["iat"])
	if !okExp || !okIat {
		d.add(CheckLifetime, Fail, "the token needs numeric exp and iat claims")
		return
	}
	details := []string{
		"local clock: " + now.UTC().Format(time.RFC3339),
		"iat:         " + stamp(iat, now),
		"exp:         " + stamp(exp, now),
	}
	nbf, okNbf := numeric(d.claims["nbf"])
	if okNbf {
		details = append(details, "nbf:         "+stamp(nbf, now))
	}
	details = append(details, fmt.Sprintf("STS allows iat and nbf up to %s ahead of its clock, no grace after exp, and exp - iat of at most %s", wifcel.ClockSkew, wifcel.MaxTokenLifetime))
	switch {
	case !now.Before(exp):
		d.add(CheckLifetime, Fail, "the token expired "+ago(now.Sub(exp))+" ago; get a fresh one", details...)
	case iat.After(now.Add(wifcel.ClockSkew)):
		d.add(CheckLifetime, Fail, "the token is issued "+ago(iat.Sub(now))+" in the future: this machine's clock, or the issuer's, is wrong", details...)
	case okNbf && nbf.After(now.Add(wifcel.ClockSkew)):
		d.add(CheckLifetime, Fail, "the token is not valid before "+nbf.UTC().Format(time.RFC3339), details...)
	case exp.Sub(iat) > wifcel.MaxTokenLifetime:
		d.add(CheckLifetime, Fail, fmt.Sprintf("the token's lifetime (exp - iat) is %s; Google accepts at most 24h", exp.Sub(iat)), details...)
	default:
		d.add(CheckLifetime, Pass, "valid for another "+ago(exp.Sub(now))+"; issued "+ago(now.Sub(iat))+" ago", details...)
	}
}

// numeric reads a NumericDate claim.
func numeric(v any) (time.Time, bool) {
	f, ok := v.(float64)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// stamp shows a time and its distance from now.
func stamp(t, now time.Time) string {
	s := t.UTC().Format(time.RFC3339)
	switch d := t.Sub(now); {
	case d > 0:
		return s + " (in " + ago(d) + ")"
	case d < 0:
		return s + " (" + ago(-d) + " ago)"
	}
	return s + " (now)"
}

// ago formats a duration to the second.
func ago(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	return d.Round(time.Second).String()
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func joinList(ss []string) string {
	if len(ss) == 0 {
		return "(none)"
	}
	return strings.Join(ss, ", ")
}

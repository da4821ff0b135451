package workload

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator/internal/emuhttp"
	"github.com/ghlogin/ghlogin/internal/workload/wifcel"
)

// Token exchange (RFC 8693) values STS accepts.
const (
	TokenExchangeGrantType = "urn:ietf:params:oauth:grant-type:token-exchange"
	AccessTokenType        = "urn:ietf:params:oauth:token-type:access_token"
	JWTTokenType           = "urn:ietf:params:oauth:token-type:jwt"
	IDTokenType            = "urn:ietf:params:oauth:token-type:id_token"
	// CloudPlatformScope is the scope STS grants when none is asked for.
	CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"
)

// Google's texts for the STS errors the fakes send.
const (
	stsInvalidTarget = "The target service indicated by the \"audience\" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn't exist."
	stsBadAudience   = "Invalid value for \"audience\". This value should be the full resource name of the Identity Provider. See https://cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token for the list of possible formats."
	stsCondition     = "The given credential is rejected by the attribute condition."
)

var providerAudienceRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^//iam\.googleapis\.com/(projects/[^/]+/locations/[^/]+/workloadIdentityPools/[^/]+/providers/[^/]+)$`)
})

// camelSTS maps the JSON (proto3) names of STS's fields to the form names.
var camelSTS = map[string]string{
	"grantType":          "grant_type",
	"requestedTokenType": "requested_token_type",
	"subjectToken":       "subject_token",
	"subjectTokenType":   "subject_token_type",
}

// stsError answers an STS error: HTTP 400 with a JSON body.
func stsError(rec *emuhttp.Recorder, code, desc string) {
	rec.ErrorCode = code
	rec.Header().Set("Cache-Control", "no-store")
	emuhttp.WriteJSON(rec, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc})
}

// handleSTS serves POST /v1/token, the token exchange of workload identity federation.
func (w *Server) handleSTS(rec *emuhttp.Recorder, r *http.Request) {
	if r.Method != http.MethodPost {
		rec.Header().Set("Allow", "POST")
		http.Error(rec, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt != "application/x-www-form-urlencoded" && mt != "application/json" {
		stsError(rec, "invalid_request", "The request body must be application/x-www-form-urlencoded or application/json.")
		return
	}
	p, err := emuhttp.ParseParams(rec, r)
	if err != nil {
		stsError(rec, "invalid_request", "The request body could not be parsed: "+err.Error())
		return
	}
	for camel, snake := range camelSTS {
		if v := p.Get(camel); v != "" && p.Get(snake) == "" {
			p.Set(snake, v)
		}
	}
	switch gt := p.Get("grant_type"); gt {
	case TokenExchangeGrantType:
	case "":
		stsError(rec, "invalid_request", "Missing required parameter: \"grant_type\".")
		return
	default:
		stsError(rec, "unsupported_grant_type", fmt.Sprintf("Unsupported grant_type %q: use %s.", gt, TokenExchangeGrantType))
		return
	}
	if rt := p.Get("requested_token_type"); rt != AccessTokenType {
		stsError(rec, "invalid_request", fmt.Sprintf("Invalid value for \"requested_token_type\": %q. Supported values: %s.", rt, AccessTokenType))
		return
	}
	if st := p.Get("subject_token_type"); st != JWTTokenType && st != IDTokenType {
		stsError(rec, "invalid_request", fmt.Sprintf("Invalid value for \"subject_token_type\": %q. Supported values for an OIDC provider: %s, %s.", st, JWTTokenType, IDTokenType))
		return
	}
	subject := p.Get("subject_token")
	if subject == "" {
		stsError(rec, "invalid_request", "Missing required parameter: \"subject_token\".")
		return
	}
	aud := p.Get("audience")
	if aud == "" {
		stsError(rec, "invalid_request", "Missing required parameter: \"audience\".")
		return
	}
	m := providerAudienceRe().FindStringSubmatch(aud)
	if m == nil {
		stsError(rec, "invalid_request", stsBadAudience)
		return
	}
	prov, ok := w.providers[m[1]]
	if !ok || prov.Disabled {
		stsError(rec, "invalid_target", stsInvalidTarget)
		return
	}
	if prov.err != nil {
		stsError(rec, "invalid_target", "The provider's attribute mapping or condition is invalid: "+prov.err.Error())
		return
	}
	for _, s := range strings.Fields(p.Get("scope")) {
		if !strings.HasPrefix(s, "https://www.googleapis.com/auth/") {
			stsError(rec, "invalid_scope", fmt.Sprintf("The scope %q is invalid: scopes are https://www.googleapis.com/auth/... URLs, such as %s.", s, CloudPlatformScope))
			return
		}
	}
	if o := p.Get("options"); o != "" {
		var opts map[string]any
		if json.Unmarshal([]byte(o), &opts) != nil {
			stsError(rec, "invalid_request", "Invalid value for \"options\": it must be a JSON object.")
			return
		}
	}
	claims, sub, code, desc := w.checkSubjectToken(r, m[1], prov, subject)
	if code != "" {
		stsError(rec, code, desc)
		return
	}
	tok := "ya29.d." + emuhttp.RandomString(emuhttp.Base62+"-_", 160)
	now := w.clk.Now()
	w.mu.Lock()
	for k, f := range w.federated {
		if !now.Before(f.expiry) {
			delete(w.federated, k)
		}
	}
	w.federated[tok] = &federatedToken{
		principal: "principal://iam.googleapis.com/" + poolOf(m[1]) + "/subject/" + sub,
		claims:    claims,
		expiry:    now.Add(FederatedTokenLifetime),
	}
	w.mu.Unlock()
	rec.Header().Set("Cache-Control", "no-store")
	emuhttp.WriteJSON(rec, http.StatusOK, map[string]any{
		"access_token":      tok,
		"issued_token_type": AccessTokenType,
		"token_type":        "Bearer",
		"expires_in":        int64(FederatedTokenLifetime / time.Second),
	})
}

// checkSubjectToken verifies the subject token as the provider does and
// returns its claims and mapped google.subject, or an STS error code and
// description.
func (w *Server) checkSubjectToken(r *http.Request, name string, prov *provider, raw string) (map[string]any, string, string, string) {
	claims, code, desc := w.verifySubjectToken(r, name, prov, raw)
	if code != "" {
		return nil, "", code, desc
	}
	res := prov.policy.Judge(claims)
	if rj := res.Rejection; rj != nil {
		switch {
		case rj.Stage == wifcel.StageCondition:
			return nil, "", "unauthorized_client", stsCondition
		case rj.Stage == wifcel.StageSubject && res.Attributes.Subject() == "":
			return nil, "", "invalid_grant", "The mapped attribute google.subject is empty: the ID Token has no sub claim, or the mapping yields an empty value."
		case rj.Stage == wifcel.StageSubject:
			return nil, "", "invalid_grant", fmt.Sprintf("The size of mapped attribute google.subject exceeds the %d bytes limit.", wifcel.MaxSubjectBytes)
		}
		return nil, "", "invalid_grant", "The attribute mapping cannot be applied to the ID Token: " + rj.Message + "."
	}
	return claims, res.Attributes.Subject(), "", ""
}

// verifySubjectToken checks the subject token's signature, issuer, times
// and audience and returns its claims, or an STS error code and description.
func (w *Server) verifySubjectToken(r *http.Request, name string, prov *provider, raw string) (map[string]any, string, string) {
	unverified, err := unverifiedClaims(raw)
	if err != nil {
		return nil, "invalid_grant", "Unable to parse the ID Token: the subject token is not a signed JWT (RS256)."
	}
	base := w.base(r)
	issuer := prov.Issuer
	if issuer == "" {
		issuer = base + actionsIssuerPath
	}
	if iss, _ := unverified["iss"].(string); iss != issuer {
		return nil, "invalid_grant", fmt.Sprintf("The issuer in ID Token %s does not match the expected ISSUER %s.", iss, issuer)
	}
	set, err := w.keysFor(r.Context(), base, issuer)
	if err != nil {
		return nil, "invalid_grant", "Unable to fetch the issuer's signing keys by OIDC discovery: " + err.Error()
	}
	claims, err := verifyJWT(raw, set)
	if errors.Is(err, errJWTMalformed) {
		return nil, "invalid_grant", "Unable to parse the ID Token."
	}
	if err != nil {
		return nil, "invalid_grant", "Invalid ID Token signature: it does not verify with any of the issuer's keys (JWKS)."
	}
	now := w.clk.Now()
	iat, okIat := numericClaim(claims, "iat")
	exp, okExp := numericClaim(claims, "exp")
	if !okIat || !okExp {
		return nil, "invalid_grant", "The ID Token must have numeric iat and exp claims."
	}
	if !now.Before(time.Unix(exp, 0)) {
		return nil, "invalid_grant", fmt.Sprintf("ID Token issued at %d is stale to sign-in.", iat)
	}
	if time.Unix(iat, 0).After(now.Add(wifcel.ClockSkew)) {
		return nil, "invalid_grant", fmt.Sprintf("ID Token issued at %d is in the future.", iat)
	}
	if nbf, ok := numericClaim(claims, "nbf"); ok && time.Unix(nbf, 0).After(now.Add(wifcel.ClockSkew)) {
		return nil, "invalid_grant", fmt.Sprintf("ID Token is not valid before %d.", nbf)
	}
	if time.Unix(exp, 0).Sub(time.Unix(iat, 0)) > wifcel.MaxTokenLifetime {
		return nil, "invalid_grant", "The ID Token's lifetime (exp - iat) exceeds 24 hours."
	}
	allowed := prov.AllowedAudiences
	if len(allowed) == 0 {
		allowed = []string{"https://iam.googleapis.com/" + name, "//iam.googleapis.com/" + name}
	}
	auds := audienceClaim(claims)
	if !anyIn(auds, allowed) {
		return nil, "invalid_grant", fmt.Sprintf("The audience in ID Token [%s] does not match the expected audience %s.", strings.Join(auds, ", "), strings.Join(allowed, ", "))
	}
	return claims, "", ""
}

// numericClaim returns a NumericDate claim in whole seconds.
func numericClaim(claims map[string]any, name string) (int64, bool) {
	v, ok := claims[name].(float64)
	return int64(v), ok
}

// audienceClaim returns aud as a list (it may be a string or an array).
func audienceClaim(claims map[string]any) []string {
	switch v := claims["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, a := range v {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func anyIn(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}

// federatedPrincipal returns the live STS token named by the request's bearer.
func (w *Server) federatedPrincipal(r *http.Request) (*federatedToken, bool) {
	tok, ok := emuhttp.Bearer(r)
	if !ok {
		return nil, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	f, ok := w.federated[tok]
	if !ok || !w.clk.Now().Before(f.expiry) {
		return nil, false
	}
	return f, true
}

package workload

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator/internal/emuhttp"
	"github.com/ghlogin/ghlogin/internal/workload/wifcel"
)

// maxExtendedLifetime is the longest access token lifetime Google ever
// grants (with constraints/iam.allowServiceAccountCredentialLifetimeExtension).
const maxExtendedLifetime = 43200 * time.Second

var durationRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d{1,12})(\.\d{1,9})?s$`) })

// googleError answers with a Google API error:
// {"error":{"code":N,"message":"...","status":"...","details":[...]}}.
func googleError(rec *emuhttp.Recorder, code int, status, msg string, details ...any) {
	rec.ErrorCode = status
	body := map[string]any{"code": code, "message": msg, "status": status}
	if len(details) > 0 {
		body["details"] = details
	}
	if code == http.StatusUnauthorized {
		rec.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
	}
	rec.Header().Set("Vary", "Origin, X-Origin, Referer")
	emuhttp.WriteJSON(rec, code, map[string]any{"error": body})
}

// errorInfo is a google.rpc.ErrorInfo detail.
func errorInfo(reason string, metadata map[string]string) map[string]any {
	return map[string]any{
		"@type":    "type.googleapis.com/google.rpc.ErrorInfo",
		"reason":   reason,
		"domain":   "iam.googleapis.com",
		"metadata": metadata,
	}
}

// badRequest is a google.rpc.BadRequest detail naming one field.
func badRequest(field, desc string) map[string]any {
	return map[string]any{
		"@type":           "type.googleapis.com/google.rpc.BadRequest",
		"fieldViolations": []map[string]string{{"field": field, "description": desc}},
	}
}

// handleIAM serves POST /v1/projects/-/serviceAccounts/{email}:generateAccessToken
// and :generateIdToken, and returns the endpoint's name.
func (w *Server) handleIAM(rec *emuhttp.Recorder, r *http.Request) string {
	rest := strings.TrimPrefix(r.URL.Path, iamPrefix)
	resource, method, _ := strings.Cut(rest, ":")
	if strings.Contains(resource, "/workloadIdentityPools/") && !strings.Contains(r.URL.Path, ":") {
		return w.handleProviderGet(rec, r, "projects/"+resource)
	}
	project, acct, ok := strings.Cut(resource, "/serviceAccounts/")
	name := iamPrefix + "-/serviceAccounts/{account}:" + method
	if !ok || acct == "" || strings.Contains(acct, "/") || (method != "generateAccessToken" && method != "generateIdToken") {
		googleError(rec, http.StatusNotFound, "NOT_FOUND", "The requested URL was not found on this server.")
		return iamPrefix + "(not found)"
	}
	if r.Method != http.MethodPost {
		rec.Header().Set("Allow", "POST")
		googleError(rec, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "The "+method+" method requires POST.")
		return name
	}
	fed, ok := w.federatedPrincipal(r)
	if !ok {
		msg := "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
		if r.Header.Get("Authorization") != "" {
			msg = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
		}
		googleError(rec, http.StatusUnauthorized, "UNAUTHENTICATED", msg, errorInfo("ACCESS_TOKEN_TYPE_UNSUPPORTED", map[string]string{"service": "iamcredentials.googleapis.com", "method": "google.iam.credentials.v1.IAMCredentials." + capitalize(method)}))
		return name
	}
	if project != "-" {
		googleError(rec, http.StatusBadRequest, "INVALID_ARGUMENT", "The name must be projects/-/serviceAccounts/{ACCOUNT}: the - wildcard is required in place of the project.", badRequest("name", "use projects/-/serviceAccounts/"+acct))
		return name
	}
	mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	if !strings.EqualFold(strings.TrimSpace(mt), "application/json") {
		googleError(rec, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received: the request's Content-Type must be application/json.")
		return name
	}
	var body struct {
		Scope        []string `json:"scope"`
		Lifetime     *string  `json:"lifetime"`
		Delegates    []string `json:"delegates"`
		Audience     string   `json:"audience"`
		IncludeEmail bool     `json:"includeEmail"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(rec, r.Body, emuhttp.MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		googleError(rec, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. "+jsonProblem(err))
		return name
	}
	if method == "generateAccessToken" && (body.Audience != "" || body.IncludeEmail) {
		googleError(rec, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. Unknown name \"audience\" or \"includeEmail\": generateAccessToken takes scope, lifetime and delegates.")
		return name
	}
	if method == "generateIdToken" && (body.Scope != nil || body.Lifetime != nil) {
		googleError(rec, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. Unknown name \"scope\" or \"lifetime\": generateIdToken takes audience, includeEmail and delegates.")
		return name
	}
	perm := "iam.serviceAccounts.getAccessToken"
	if method == "generateIdToken" {
		perm = "iam.serviceAccounts.getOpenIdToken"
	}
	sa := w.account(acct)
	if sa == nil || (sa.Allowed != nil && !sa.Allowed(fed.principal, fed.claims)) {
		googleError(rec, http.StatusForbidden, "PERMISSION_DENIED",
			fmt.Sprintf("Permission '%s' denied on resource (or it may not exist).", perm),
			errorInfo("IAM_PERMISSION_DENIED", map[string]string{"permission": perm}))
		return name
	}
	if len(body.Delegates) > 0 {
		googleError(rec, http.StatusBadRequest, "INVALID_ARGUMENT", "The emulator does not support delegation chains: leave delegates empty.", badRequest("delegates", "not supported by the emulator"))
		return name
	}
	if method == "generateIdToken" {
		w.generateIDToken(rec, r, sa, body.Audience, body.IncludeEmail)
		return name
	}
	w.generateAccessToken(rec, body.Scope, body.Lifetime)
	return name
}

// generateAccessToken answers :generateAccessToken.
func (w *Server) generateAccessToken(rec *emuhttp.Recorder, scope []string, lifetime *string) {
	if len(scope) == 0 {
		googleError(rec, http.StatusBadRequest, "INVALID_ARGUMENT", "Scope required.", badRequest("scope", "at least one OAuth scope is required, such as "+CloudPlatformScope))
		return
	}
	for _, s := range scope {
		if strings.TrimSpace(s) == "" {
			googleError(rec, http.StatusBadRequest, "INVALID_ARGUMENT", "Scope must not be empty.", badRequest("scope", "empty scope"))
			return
		}
	}
	life := time.Hour
	if lifetime != nil {
		m := durationRe().FindStringSubmatch(*lifetime)
		if m == nil {
			googleError(rec, http.StatusBadRequest, "INVALID_ARGUMENT",
				fmt.Sprintf("Invalid value at 'lifetime' (type.googleapis.com/google.protobuf.Duration), Field 'lifetime', Illegal duration format; duration must end with 's' (got %q).", *lifetime),
				badRequest("lifetime", "Illegal duration format; duration must end with 's'"))
			return
		}
		d, _ := time.ParseDuration(m[1] + m[2] + "s")
		life = d
	}
	if life <= 0 {
		googleError(rec, http.StatusBadRequest, "INVALID_ARGUMENT", "The lifetime must be positive.", badRequest("lifetime", "must be at least 1s"))
		return
	}
	limit := min(w.cfg.MaxLifetime, maxExtendedLifetime)
	if life > limit {
		googleError(rec, http.StatusBadRequest, "INVALID_ARGUMENT",
			fmt.Sprintf("Requested lifetime %ds exceeds the maximum of %ds. Lifetimes up to 43200s need the organization policy constraint constraints/iam.allowServiceAccountCredentialLifetimeExtension to list the service account.", int64(life/time.Second), int64(limit/time.Second)),
			badRequest("lifetime", fmt.Sprintf("must be at most %ds", int64(limit/time.Second))))
		return
	}
	expire := w.clk.Now().Add(life).UTC().Truncate(time.Second)
	rec.Header().Set("Cache-Control", "no-store")
	emuhttp.WriteJSON(rec, http.StatusOK, map[string]string{
		"accessToken": "ya29.c." + emuhttp.RandomString(emuhttp.Base62+"-_", 160),
		"expireTime":  expire.Format(time.RFC3339),
	})
}

// generateIDToken answers :generateIdToken with a Google-signed ID token.
func (w *Server) generateIDToken(rec *emuhttp.Recorder, r *http.Request, sa *ServiceAccount, audience string, includeEmail bool) {
	if audience == "" {
		googleError(rec, http.StatusBadRequest, "INVALID_ARGUMENT", "Audience required.", badRequest("audience", "the audience of the ID token is required"))
		return
	}
	tok, err := w.google.sign(w.googleClaims(w.base(r), sa.Email, audience, includeEmail))
	if err != nil {
		googleError(rec, http.StatusInternalServerError, "INTERNAL", "Internal error encountered.")
		return
	}
	rec.Header().Set("Cache-Control", "no-store")
	emuhttp.WriteJSON(rec, http.StatusOK, map[string]string{"token": tok})
}

// account finds a service account by email or unique ID.
func (w *Server) account(id string) *ServiceAccount {
	for _, a := range w.accounts {
		if strings.EqualFold(a.Email, id) || uniqueID(a.Email) == id {
			return a
		}
	}
	return nil
}

// jsonProblem describes a JSON decoding error without echoing the input.
func jsonProblem(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "Unknown name " + name + ": Cannot find field."
	}
	if strings.Contains(msg, "cannot unmarshal") {
		return "A field has the wrong type."
	}
	return "The body is not valid JSON."
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// handleProviderGet serves the IAM API's
// GET /v1/projects/{N}/locations/{L}/workloadIdentityPools/{P}/providers/{X}
// (projects.locations.workloadIdentityPools.providers.get), with the bearer
// Config.AdminToken, and returns the endpoint's name.
func (w *Server) handleProviderGet(rec *emuhttp.Recorder, r *http.Request, name string) string {
	const endpoint = iamPrefix + "{project}/locations/{location}/workloadIdentityPools/{pool}/providers/{provider}"
	if r.Method != http.MethodGet {
		rec.Header().Set("Allow", "GET")
		googleError(rec, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "providers.get requires GET.")
		return endpoint
	}
	tok, ok := emuhttp.Bearer(r)
	if !ok || !emuhttp.SecretEqual(tok, w.cfg.AdminToken) {
		googleError(rec, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
		return endpoint
	}
	if !providerNameRe().MatchString(name) {
		googleError(rec, http.StatusNotFound, "NOT_FOUND", "The requested URL was not found on this server.")
		return endpoint
	}
	p, ok := w.providers[name]
	if !ok {
		googleError(rec, http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.")
		return endpoint
	}
	issuer := p.Issuer
	if issuer == "" {
		issuer = w.base(r) + actionsIssuerPath
	}
	oidc := map[string]any{"issuerUri": issuer}
	if len(p.AllowedAudiences) > 0 {
		oidc["allowedAudiences"] = p.AllowedAudiences
	}
	mapping := p.AttributeMapping
	if len(mapping) == 0 {
		mapping = wifcel.DefaultMapping()
	}
	body := map[string]any{
		"name":             name,
		"state":            "ACTIVE",
		"attributeMapping": mapping,
		"oidc":             oidc,
	}
	if p.AttributeCondition != "" {
		body["attributeCondition"] = p.AttributeCondition
	}
	if p.Disabled {
		body["disabled"] = true
	}
	emuhttp.WriteJSON(rec, http.StatusOK, body)
	return endpoint
}

var providerNameRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^projects/[^/]+/locations/[^/]+/workloadIdentityPools/[^/]+/providers/[^/]+$`)
})

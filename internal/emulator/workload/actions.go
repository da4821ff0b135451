package workload

import (
	"net/http"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator/internal/emuhttp"
)

// actionsClaimNames are the claims an Actions ID token carries, as GitHub
// documents them (also the discovery document's claims_supported).
var actionsClaimNames = []string{
	"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "sha", "repository",
	"repository_id", "repository_owner", "repository_owner_id", "enterprise",
	"enterprise_id", "run_id", "run_number", "run_attempt", "actor", "actor_id",
	"workflow", "workflow_ref", "workflow_sha", "head_ref", "base_ref",
	"event_name", "ref_type", "ref_protected", "environment", "environment_node_id",
	"job_workflow_ref", "job_workflow_sha", "repository_visibility",
	"runner_environment", "check_run_id",
}

// actionsClaims returns the claims of an Actions ID token issued now.
func (w *Server) actionsClaims(base, audience string) map[string]any {
	now := w.clk.Now()
	life := w.cfg.IDTokenLifetime
	if life <= 0 {
		life = DefaultActionsTokenLifetime
	}
	c := map[string]any{
		"ref":                   "refs/heads/main",
		"sha":                   "d6cd1e2bd19e03a81132a23b2025920577f84e37",
		"repository":            "octo-org/octo-repo",
		"repository_owner":      "octo-org",
		"repository_owner_id":   "65",
		"repository_id":         "74",
		"repository_visibility": "private",
		"run_id":                "1234567890",
		"run_number":            "10",
		"run_attempt":           "1",
		"actor":                 "octocat",
		"actor_id":              "583231",
		"workflow":              "deploy",
		"workflow_ref":          "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
		"workflow_sha":          "d6cd1e2bd19e03a81132a23b2025920577f84e37",
		"job_workflow_ref":      "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
		"job_workflow_sha":      "d6cd1e2bd19e03a81132a23b2025920577f84e37",
		"head_ref":              "",
		"base_ref":              "",
		"event_name":            "push",
		"ref_type":              "branch",
		"ref_protected":         "true",
		"runner_environment":    "github-hosted",
	}
	for k, v := range w.cfg.ActionsClaims {
		c[k] = v
	}
	if _, ok := w.cfg.ActionsClaims["sub"]; !ok {
		c["sub"] = actionsSubject(c)
	}
	if audience == "" {
		owner, _ := c["repository_owner"].(string)
		audience = "https://github.com/" + owner
	}
	c["aud"] = audience
	c["jti"] = newUUID()
	c["iss"] = base + actionsIssuerPath
	c["iat"] = now.Unix()
	c["nbf"] = now.Add(-10 * time.Minute).Unix() // GitHub's nbf precedes iat
	c["exp"] = now.Add(life).Unix()
	return c
}

// actionsSubject builds sub as GitHub does by default: the environment, a
// pull request, or the ref.
func actionsSubject(c map[string]any) string {
	repo, _ := c["repository"].(string)
	if env, _ := c["environment"].(string); env != "" {
		return "repo:" + repo + ":environment:" + env
	}
	if ev, _ := c["event_name"].(string); ev == "pull_request" || ev == "pull_request_target" {
		return "repo:" + repo + ":pull_request"
	}
	ref, _ := c["ref"].(string)
	return "repo:" + repo + ":ref:" + ref
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	h := []byte(emuhttp.RandomHex(16))
	h[12] = '4'
	h[16] = "89ab"[strings.IndexByte("0123456789abcdef", h[16])%4]
	s := string(h)
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// actionsError answers as the Actions service does: a JSON error object.
func actionsError(rec *emuhttp.Recorder, status int, typeKey, msg string) {
	emuhttp.WriteJSON(rec, status, map[string]any{
		"$id":            "1",
		"innerException": nil,
		"message":        msg,
		"typeName":       "Microsoft.TeamFoundation.Framework.Server." + typeKey + ", Microsoft.TeamFoundation.Framework.Server",
		"typeKey":        typeKey,
		"errorCode":      0,
		"eventId":        3000,
	})
}

// handleActionsToken serves GET .../plans/{plan}/jobs/{job}/idtoken.
func (w *Server) handleActionsToken(rec *emuhttp.Recorder, r *http.Request) {
	rest := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, actionsIDTokenPath), "/idtoken")
	plan, job, ok := strings.Cut(rest, "/jobs/")
	if !ok || !emuhttp.ValidName(plan) || !emuhttp.ValidName(job) {
		actionsError(rec, http.StatusNotFound, "NotFoundException", "The plan or job in the request URL does not exist.")
		return
	}
	if r.Method != http.MethodGet {
		rec.Header().Set("Allow", "GET")
		actionsError(rec, http.StatusMethodNotAllowed, "MethodNotAllowedException", "The requested resource does not support http method '"+r.Method+"'.")
		return
	}
	tok, ok := emuhttp.Bearer(r)
	if !ok || !emuhttp.SecretEqual(tok, w.cfg.ActionsRequestToken) {
		rec.Header().Set("WWW-Authenticate", "Bearer")
		actionsError(rec, http.StatusUnauthorized, "UnauthorizedRequestException", "TF400813: The user is not authorized to access this resource. Send ACTIONS_ID_TOKEN_REQUEST_TOKEN as a Bearer token.")
		return
	}
	q := r.URL.Query()
	switch v := q.Get("api-version"); v {
	case "2.0":
	case "":
		actionsError(rec, http.StatusBadRequest, "VssVersionNotSpecifiedException", "No api-version was supplied for the \"GET\" request. An api-version of 2.0 is required.")
		return
	default:
		actionsError(rec, http.StatusBadRequest, "VssVersionOutOfRangeException", "The requested REST API version of "+v+" is out of range for this server. Use api-version=2.0.")
		return
	}
	jwt, err := w.actions.sign(w.actionsClaims(w.base(r), q.Get("audience")))
	if err != nil {
		actionsError(rec, http.StatusInternalServerError, "InternalServerException", "The ID token could not be signed.")
		return
	}
	rec.Header().Set("Cache-Control", "no-store")
	emuhttp.WriteJSON(rec, http.StatusOK, map[string]string{"value": jwt})
}

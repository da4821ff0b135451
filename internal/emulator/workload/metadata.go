package workload

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator/internal/emuhttp"
)

// instanceInfo describes the emulated VM (the google.compute_engine claims).
type instanceInfo struct {
	zone      string
	id        string
	name      string
	createdAt int64
	licenses  []string
}

func newInstanceInfo(now time.Time) instanceInfo {
	return instanceInfo{
		zone:      "us-central1-a",
		id:        "4462897381716371209",
		name:      "emulator-vm",
		createdAt: now.Add(-24 * time.Hour).Unix(),
		licenses:  []string{"5926592092274602096"},
	}
}

// metadataText answers as the metadata server does: Metadata-Flavor: Google
// and a text body.
func metadataText(rec *emuhttp.Recorder, status int, body string) {
	h := rec.Header()
	h.Set("Metadata-Flavor", "Google")
	h.Set("Server", "Metadata Server for VM")
	h.Set("Content-Type", "application/text")
	h.Set("X-Content-Type-Options", "nosniff")
	rec.WriteHeader(status)
	_, _ = rec.Write([]byte(body))
}

// handleMetadata serves /computeMetadata/v1/... and returns the endpoint's name.
func (w *Server) handleMetadata(rec *emuhttp.Recorder, r *http.Request) string {
	rest := strings.TrimPrefix(r.URL.Path, metadataPrefix)
	name := metadataPrefix + rest
	var acct string
	if sa, ok := strings.CutPrefix(rest, "instance/service-accounts/"); ok {
		acct, rest, _ = strings.Cut(sa, "/")
		rest = "instance/service-accounts/{account}/" + rest
		name = metadataPrefix + rest
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		rec.Header().Set("Allow", "GET")
		metadataText(rec, http.StatusMethodNotAllowed, "Method Not Allowed\n")
		return name
	}
	if r.Header.Get("X-Forwarded-For") != "" {
		metadataText(rec, http.StatusForbidden, "Request had X-Forwarded-For header and was rejected.\n")
		return name
	}
	if r.Header.Get("Metadata-Flavor") != "Google" {
		metadataText(rec, http.StatusForbidden, "Missing required header: Metadata-Flavor\n")
		return name
	}
	email := w.accounts[0].Email
	if acct != "" && acct != "default" && acct != email {
		metadataText(rec, http.StatusNotFound, "Not Found\n")
		return name
	}
	switch rest {
	case "instance/service-accounts/{account}/identity":
		w.metadataIdentity(rec, r, email)
	case "instance/service-accounts/{account}/email":
		metadataText(rec, http.StatusOK, email)
	case "project/project-id":
		metadataText(rec, http.StatusOK, ProjectID)
	case "project/numeric-project-id":
		metadataText(rec, http.StatusOK, strconv.Itoa(ProjectNumber))
	case "instance/id":
		metadataText(rec, http.StatusOK, w.instance.id)
	case "instance/name":
		metadataText(rec, http.StatusOK, w.instance.name)
	case "instance/zone":
		metadataText(rec, http.StatusOK, "projects/"+strconv.Itoa(ProjectNumber)+"/zones/"+w.instance.zone)
	default:
		metadataText(rec, http.StatusNotFound, "Not Found\n")
		return metadataPrefix + "(not found)"
	}
	return name
}

// metadataIdentity serves .../service-accounts/default/identity.
func (w *Server) metadataIdentity(rec *emuhttp.Recorder, r *http.Request, email string) {
	q := r.URL.Query()
	aud := q.Get("audience")
	if aud == "" {
		metadataText(rec, http.StatusBadRequest, "non-empty audience parameter required\n")
		return
	}
	format := q.Get("format")
	if format != "" && format != "standard" && format != "full" {
		metadataText(rec, http.StatusBadRequest, "invalid format parameter: use standard or full\n")
		return
	}
	lic := q.Get("licenses")
	if lic != "" && lic != "TRUE" && lic != "FALSE" {
		metadataText(rec, http.StatusBadRequest, "invalid licenses parameter: use TRUE or FALSE\n")
		return
	}
	claims := w.googleClaims(w.base(r), email, aud, true)
	if format == "full" {
		ce := map[string]any{
			"project_id":                  ProjectID,
			"project_number":              ProjectNumber,
			"zone":                        w.instance.zone,
			"instance_id":                 w.instance.id,
			"instance_name":               w.instance.name,
			"instance_creation_timestamp": w.instance.createdAt,
		}
		if lic == "TRUE" {
			ce["license_id"] = w.instance.licenses
		}
		claims["google"] = map[string]any{"compute_engine": ce}
	}
	tok, err := w.google.sign(claims)
	if err != nil {
		metadataText(rec, http.StatusInternalServerError, "cannot sign the ID token\n")
		return
	}
	rec.Header().Set("Cache-Control", "no-store")
	metadataText(rec, http.StatusOK, tok)
}

// googleClaims are the claims of a Google-signed ID token for a service account.
func (w *Server) googleClaims(base, email, audience string, includeEmail bool) map[string]any {
	now := w.clk.Now()
	life := w.cfg.IDTokenLifetime
	if life <= 0 {
		life = DefaultGoogleTokenLifetime
	}
	id := uniqueID(email)
	c := map[string]any{
		"iss": base + googleIssuerPath,
		"aud": audience,
		"azp": id,
		"sub": id,
		"iat": now.Unix(),
		"exp": now.Add(life).Unix(),
	}
	if includeEmail {
		c["email"] = email
		c["email_verified"] = true
	}
	return c
}

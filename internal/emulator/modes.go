package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ghlogin/ghlogin/internal/emulator/internal/emuhttp"
)

// TokenMode says how the API answers GET /user for one token, so that tests
// can meet the refusals GitHub and other servers send.
type TokenMode int

// The ways the API can answer for a token.
const (
	// TokenNormal: the usual answer (200, or 401 for a token that is not
	// valid).
	TokenNormal TokenMode = iota
	// TokenSSORequired: 403 with X-GitHub-SSO: required; url=…, as GitHub
	// answers for a token not yet authorized for an organisation's SAML
	// single sign-on.
	TokenSSORequired
	// TokenInvalid403: 403 with WWW-Authenticate: Bearer
	// error="invalid_token" (RFC 6750 §3.1), as some OpenID Connect
	// servers answer for a dead token at userinfo.
	TokenInvalid403
	// TokenForbidden: a plain 403 (the token works but may not do this).
	TokenForbidden
)

// tokenModeNames are the names the admin endpoint takes.
var tokenModeNames = map[string]TokenMode{
	"normal": TokenNormal, "sso-required": TokenSSORequired, "invalid-token": TokenInvalid403, "forbidden": TokenForbidden,
}

// SSOOrganization is the organisation named in TokenSSORequired answers.
const SSOOrganization = "octo-org"

// ErrUnknownToken is a token the emulator did not issue (SetTokenMode).
var ErrUnknownToken = errors.New("the emulator did not issue this token")

// SetTokenMode makes the API answer GET /user for token as mode says (for
// tests). It returns ErrUnknownToken for a token the emulator did not issue.
func (s *Server) SetTokenMode(token string, mode TokenMode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tokens[token]; !ok {
		return ErrUnknownToken
	}
	if mode == TokenNormal {
		delete(s.modes, token)
	} else {
		s.modes[token] = mode
	}
	return nil
}

// answerMode writes the refusal mode calls for and reports whether it did.
func (s *Server) answerMode(w http.ResponseWriter, r *http.Request, mode TokenMode) bool {
	switch mode {
	case TokenSSORequired:
		// GitHub points at the organisation's SSO page on its own host.
		u := "https://" + r.Host + "/orgs/" + SSOOrganization + "/sso?authorization_request=" + emuhttp.RandomString(emuhttp.Base62, 40)
		w.Header().Set("X-GitHub-SSO", "required; url="+u)
		apiError(w, http.StatusForbidden, "Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization.")
	case TokenInvalid403:
		w.Header().Set("WWW-Authenticate", `Bearer realm="emulator", error="invalid_token", error_description="The access token is invalid"`)
		apiError(w, http.StatusForbidden, "invalid_token")
	case TokenForbidden:
		apiError(w, http.StatusForbidden, "Resource not accessible by integration")
	default:
		return false
	}
	return true
}

// AdminTokenModePath is the admin endpoint that sets a token's mode from
// another process: POST token=TOKEN&mode=normal|sso-required|invalid-token|forbidden.
const AdminTokenModePath = "/_emulator/token-mode"

// handleTokenMode serves AdminTokenModePath.
func (s *Server) handleTokenMode(w *emuhttp.Recorder, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		apiError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, emuhttp.MaxBody)
	if err := r.ParseForm(); err != nil {
		apiError(w, http.StatusBadRequest, "Bad Request")
		return
	}
	mode, ok := tokenModeNames[r.PostForm.Get("mode")]
	if !ok {
		apiError(w, http.StatusUnprocessableEntity, "mode must be one of "+strings.Join(modeNames(), ", "))
		return
	}
	if err := s.SetTokenMode(r.PostForm.Get("token"), mode); err != nil {
		apiError(w, http.StatusNotFound, "Not Found")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func modeNames() []string {
	return []string{"normal", "sso-required", "invalid-token", "forbidden"}
}

// SetTokenModeURL sets a token's mode on a running emulator at base (its
// URL) through the admin endpoint, for tests that run it in another
// process.
func SetTokenModeURL(client *http.Client, base, token, mode string) error {
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.PostForm(strings.TrimRight(base, "/")+AdminTokenModePath, url.Values{"token": {token}, "mode": {mode}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("setting the token mode: HTTP %d", resp.StatusCode)
	}
	return nil
}

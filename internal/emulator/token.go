package emulator

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"sync"

	"github.com/ghlogin/ghlogin/internal/emulator/internal/emuhttp"
)

// handleToken serves POST /login/oauth/access_token. Like GitHub it answers
// every OAuth error with HTTP 200 and an error field.
func (s *Server) handleToken(w *emuhttp.Recorder, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, http.MethodPost)
		return
	}
	p, err := emuhttp.ParseParams(w, r)
	if err != nil {
		oauthError(w, r, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	// Clients may authenticate with HTTP Basic instead of parameters.
	if id, secret, ok := r.BasicAuth(); ok && p.Get("client_id") == "" {
		p.Set("client_id", id)
		p.Set("client_secret", secret)
	}
	grant := p.Get("grant_type")
	switch grant {
	case DeviceGrantType, "refresh_token", "authorization_code", "":
	default:
		oauthError(w, r, http.StatusOK, "unsupported_grant_type", "")
		return
	}
	c := s.clients[p.Get("client_id")]
	if c == nil {
		oauthError(w, r, http.StatusOK, "incorrect_client_credentials", "")
		return
	}
	switch grant {
	case DeviceGrantType:
		s.deviceGrant(w, r, c, p.Get("device_code"))
	case "refresh_token":
		s.refreshGrant(w, r, c, p)
	default: // GitHub's web flow sends no grant_type
		s.codeGrant(w, r, c, p)
	}
}

// codeGrant exchanges a web flow code. GitHub requires the client secret here.
func (s *Server) codeGrant(w *emuhttp.Recorder, r *http.Request, c *Client, p url.Values) {
	if !emuhttp.SecretEqual(p.Get("client_secret"), c.Secret) {
		oauthError(w, r, http.StatusOK, "incorrect_client_credentials", "")
		return
	}
	now := s.clk.Now()
	s.mu.Lock()
	code := p.Get("code")
	ac, ok := s.codes[code]
	if !ok || ac.clientID != c.ID || !now.Before(ac.expires) {
		s.mu.Unlock()
		oauthError(w, r, http.StatusOK, "bad_verification_code", "")
		return
	}
	// A code is single-use: any exchange attempt consumes it, so a wrong
	// verifier cannot be retried against the same code.
	delete(s.codes, code)
	if ru := p.Get("redirect_uri"); ru != "" && ru != ac.redirect {
		s.mu.Unlock()
		oauthError(w, r, http.StatusOK, "redirect_uri_mismatch", "")
		return
	}
	if ac.challenge != "" && !pkceMatches(ac.challenge, p.Get("code_verifier")) {
		s.mu.Unlock()
		oauthError(w, r, http.StatusOK, "bad_verification_code",
			"The code_verifier does not match the code_challenge sent to the authorization endpoint.")
		return
	}
	fields := s.issue(c, ac.login, ac.scopes, false)
	s.mu.Unlock()
	writeOAuth(w, r, http.StatusOK, fields)
}

// verifierRe is RFC 7636's code_verifier: 43 to 128 unreserved characters.
var verifierRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`) })

// challengeRe is an S256 code_challenge: base64url of a SHA-256 hash.
var challengeRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`) })

func pkceMatches(challenge, verifier string) bool {
	if !verifierRe().MatchString(verifier) {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return emuhttp.SecretEqual(base64.RawURLEncoding.EncodeToString(sum[:]), challenge)
}

// refreshGrant rotates a GitHub App's token pair. The client secret is
// required unless the token came from the device flow, as GitHub documents.
func (s *Server) refreshGrant(w *emuhttp.Recorder, r *http.Request, c *Client, p url.Values) {
	secret := p.Get("client_secret")
	if secret != "" && !emuhttp.SecretEqual(secret, c.Secret) {
		oauthError(w, r, http.StatusOK, "incorrect_client_credentials", "")
		return
	}
	now := s.clk.Now()
	s.mu.Lock()
	old := p.Get("refresh_token")
	rt, ok := s.refresh[old]
	if !ok || rt.clientID != c.ID || !now.Before(rt.expires) {
		s.mu.Unlock()
		oauthError(w, r, http.StatusOK, "bad_refresh_token", "")
		return
	}
	if secret == "" && !rt.viaDevice {
		s.mu.Unlock()
		oauthError(w, r, http.StatusOK, "incorrect_client_credentials",
			"The client_secret is required to refresh a token that did not come from the device flow.")
		return
	}
	// Rotation: the old refresh token and the old access token stop working.
	delete(s.refresh, old)
	delete(s.tokens, rt.access)
	fields := s.issue(c, rt.login, rt.scopes, rt.viaDevice)
	s.stats.Refreshes++
	s.mu.Unlock()
	writeOAuth(w, r, http.StatusOK, fields)
}

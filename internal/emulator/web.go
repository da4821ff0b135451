package emulator

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/ghlogin/ghlogin/internal/emulator/internal/emuhttp"
	"github.com/ghlogin/ghlogin/internal/safe"
)

// handleAuthorize serves GET and POST /login/oauth/authorize.
func (s *Server) handleAuthorize(w *emuhttp.Recorder, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.getAuthorize(w, r)
	case http.MethodPost:
		s.postAuthorize(w, r)
	default:
		methodNotAllowed(w, "GET, POST")
	}
}

func (s *Server) getAuthorize(w *emuhttp.Recorder, r *http.Request) {
	q := r.URL.Query()
	c := s.clients[q.Get("client_id")]
	if c == nil {
		// GitHub shows an error page and never redirects for an unknown client.
		renderMessage(w, http.StatusNotFound, "Application not found",
			"No application has this client_id. Check the client ID the application was set up with.", false)
		return
	}
	state := q.Get("state")
	redirect, ok := redirectAllowed(c, q.Get("redirect_uri"))
	if !ok {
		cb, err := url.Parse(c.CallbackURL)
		if err != nil || cb.Host == "" {
			renderMessage(w, http.StatusBadRequest, "Redirect URI mismatch",
				"The redirect_uri does not match the application's callback URL.", false)
			return
		}
		// GitHub sends the browser to the registered callback URL instead.
		w.ErrorCode = "redirect_uri_mismatch"
		http.Redirect(w, r, withParams(c.CallbackURL,
			"error", "redirect_uri_mismatch",
			"error_description", "The redirect_uri MUST match the registered callback URL for this application.",
			"error_uri", docAuthzErrors+"#redirect-uri-mismatch",
			"state", state), http.StatusFound)
		return
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	if challenge != "" || method != "" {
		var problem string
		switch {
		case method != "S256":
			problem = "code_challenge_method must be S256; the plain method is not supported."
		case !challengeRe().MatchString(challenge):
			problem = "code_challenge must be 43 characters: the base64url SHA-256 hash of the code_verifier."
		}
		if problem != "" {
			w.ErrorCode = "invalid_request"
			http.Redirect(w, r, withParams(redirect,
				"error", "invalid_request",
				"error_description", problem,
				"error_uri", docAuthzErrors,
				"state", state), http.StatusFound)
			return
		}
	}
	scopes := normalizeScopes(q.Get("scope"))
	if c.App {
		scopes = nil
	}
	login := q.Get("login")
	if !s.knownUser(login) {
		login = s.users[0]
	}
	now := s.clk.Now()
	if s.cfg.AutoApproveWeb {
		s.mu.Lock()
		code := s.newCodeLocked(c, login, redirect, scopes, challenge)
		s.mu.Unlock()
		http.Redirect(w, r, withParams(redirect, "code", code, "state", state), http.StatusFound)
		return
	}
	ar := &authRequest{
		id: emuhttp.RandomHex(16), clientID: c.ID, redirect: redirect, state: state,
		challenge: challenge, loginHint: login, scopes: scopes, expires: now.Add(AuthCodeLifetime),
	}
	s.mu.Lock()
	if len(s.pending) >= pendingCap {
		s.pruneLocked(now)
	}
	full := len(s.pending) >= pendingCap
	if !full {
		s.pending[ar.id] = ar
	}
	s.mu.Unlock()
	if full {
		renderMessage(w, http.StatusServiceUnavailable, "Too many requests",
			"Too many authorization requests are waiting. Try again in a few minutes.", false)
		return
	}
	renderPage(w, http.StatusOK, authorizePage(), authorizePageData{
		Title: "Authorize " + c.Name, App: c.Name, Redirect: redirect, CSRF: s.csrfToken(),
		RequestID: ar.id, Login: login, Scopes: scopes, Users: s.users,
	}, origin(redirect))
}

func (s *Server) postAuthorize(w *emuhttp.Recorder, r *http.Request) {
	p, err := emuhttp.ParseParams(w, r)
	if err != nil {
		renderMessage(w, http.StatusBadRequest, "Bad request", "The form could not be read. Start again from the application.", false)
		return
	}
	if !s.checkCSRF(p.Get("authenticity_token")) {
		renderMessage(w, http.StatusForbidden, "Form expired",
			"This form is invalid or has expired. Start the login again from the application.", false)
		return
	}
	action, login := p.Get("action"), p.Get("login")
	if action != "approve" && action != "deny" {
		renderMessage(w, http.StatusBadRequest, "Bad request", "Choose Authorize or Cancel.", false)
		return
	}
	if action == "approve" && !s.knownUser(login) {
		renderMessage(w, http.StatusBadRequest, "Unknown user", "Choose one of the listed users.", false)
		return
	}
	now := s.clk.Now()
	s.mu.Lock()
	ar, ok := s.pending[p.Get("request_id")]
	if ok {
		delete(s.pending, ar.id) // each page answers once
	}
	if !ok || !now.Before(ar.expires) {
		s.mu.Unlock()
		renderMessage(w, http.StatusBadRequest, "Request expired",
			"This authorization request has expired or was already answered. Start the login again from the application.", false)
		return
	}
	if action == "deny" {
		s.mu.Unlock()
		w.ErrorCode = "access_denied"
		http.Redirect(w, r, withParams(ar.redirect,
			"error", "access_denied",
			"error_description", "The user has denied your application access.",
			"error_uri", docAuthzErrors+"#access-denied",
			"state", ar.state), http.StatusFound)
		return
	}
	code := s.newCodeLocked(s.clients[ar.clientID], login, ar.redirect, ar.scopes, ar.challenge)
	s.mu.Unlock()
	http.Redirect(w, r, withParams(ar.redirect, "code", code, "state", ar.state), http.StatusFound)
}

// newCodeLocked issues a single-use web flow code, valid for 10 minutes. s.mu is held.
func (s *Server) newCodeLocked(c *Client, login, redirect string, scopes []string, challenge string) string {
	now := s.clk.Now()
	s.pruneLocked(now)
	code := emuhttp.RandomHex(10) // 20 hex characters, as GitHub's codes are
	s.codes[code] = &authCode{
		clientID: c.ID, login: login, redirect: redirect, scopes: scopes,
		challenge: challenge, expires: now.Add(AuthCodeLifetime),
	}
	return code
}

// redirectAllowed applies GitHub's redirect_uri rules and returns the URI to
// redirect to. Without redirect_uri, the registered callback URL is used.
// Otherwise the scheme must match; the host must match (an OAuth app also
// allows its subdomains) and so must the port, except that a loopback
// callback accepts any port (RFC 8252); and the path must be the callback's
// path or under it (a GitHub App's must match exactly, with no query).
func redirectAllowed(c *Client, raw string) (string, bool) {
	cb, err := url.Parse(c.CallbackURL)
	if err != nil || cb.Host == "" {
		return "", false
	}
	if raw == "" {
		return c.CallbackURL, true
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return "", false
	}
	if !strings.EqualFold(u.Scheme, cb.Scheme) {
		return "", false
	}
	uh, ch := strings.ToLower(u.Hostname()), strings.ToLower(cb.Hostname())
	if safe.IsLoopback(ch) {
		if uh != ch {
			return "", false
		}
	} else {
		if uh != ch && (c.App || !strings.HasSuffix(uh, "."+ch)) {
			return "", false
		}
		if effectivePort(u) != effectivePort(cb) {
			return "", false
		}
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return "", false
		}
	}
	cp := strings.TrimSuffix(cb.Path, "/")
	up := u.Path
	if c.App {
		if strings.TrimSuffix(up, "/") != cp || u.RawQuery != "" {
			return "", false
		}
	} else if strings.TrimSuffix(up, "/") != cp && !strings.HasPrefix(up, cp+"/") {
		return "", false
	}
	return raw, true
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// withParams adds query parameters (name, value pairs; empty values are
// skipped) to raw, keeping the query it already has.
func withParams(raw string, kv ...string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// origin returns scheme://host[:port] of raw, for the page's CSP form-action.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

package emulator

import (
	"encoding/json"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"

	"github.com/ghlogin/ghlogin/internal/emulator/internal/emuhttp"
)

// knownIDs are the real account IDs of GitHub's mascots; other users get a
// stable ID derived from the login.
var knownIDs = map[string]int64{"octocat": 583231, "hubot": 480938, "monalisa": 2}

func userID(login string) int64 {
	if id, ok := knownIDs[login]; ok {
		return id
	}
	h := fnv.New32a()
	h.Write([]byte(login))
	return 1000000 + int64(h.Sum32()%9000000)
}

// apiError writes a GitHub REST API error body.
func apiError(w http.ResponseWriter, status int, msg string) {
	emuhttp.WriteJSON(w, status, map[string]string{
		"message":           msg,
		"documentation_url": "https://docs.github.com/rest",
		"status":            strconv.Itoa(status),
	})
}

// handleUser serves GET /user and GET /api/v3/user.
func (s *Server) handleUser(w *emuhttp.Recorder, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		apiError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	if r.Header.Get("Authorization") == "" {
		apiError(w, http.StatusUnauthorized, "Requires authentication")
		return
	}
	tok, ok := emuhttp.Bearer(r)
	if !ok {
		apiError(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	s.mu.Lock()
	t, ok := s.lookupToken(tok)
	var login string
	var scopes []string
	if ok {
		login, scopes = t.login, t.scopes
	}
	mode := s.modes[tok]
	s.mu.Unlock()
	if !ok {
		apiError(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	if s.answerMode(w, r, mode) {
		return
	}
	base := s.base(r)
	h := w.Header()
	h.Set("X-OAuth-Scopes", strings.Join(scopes, ", "))
	h.Set("X-Accepted-OAuth-Scopes", "")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	emuhttp.WriteJSON(w, http.StatusOK, map[string]any{
		"login":      login,
		"id":         userID(login),
		"node_id":    "U_emulator_" + login,
		"avatar_url": base + "/avatars/" + login,
		"url":        base + "/api/v3/users/" + login,
		"html_url":   base + "/" + login,
		"type":       "User",
		"site_admin": false,
		"name":       login,
		"email":      nil,
	})
}

// handleRevoke serves DELETE /applications/{client_id}/token: the app,
// authenticated with Basic client_id:client_secret, revokes one of its
// tokens given as {"access_token": "..."}.
func (s *Server) handleRevoke(w *emuhttp.Recorder, r *http.Request, clientID string) {
	if r.Method != http.MethodDelete {
		w.Header().Set("Allow", "DELETE")
		apiError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	c := s.clients[clientID]
	id, secret, ok := r.BasicAuth()
	if c == nil || !ok || id != c.ID || !emuhttp.SecretEqual(secret, c.Secret) {
		apiError(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, emuhttp.MaxBody)
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.AccessToken == "" {
		apiError(w, http.StatusUnprocessableEntity, "Validation Failed")
		return
	}
	s.mu.Lock()
	t, ok := s.tokens[body.AccessToken]
	if ok && t.clientID == c.ID {
		s.revokeLocked(body.AccessToken)
	}
	s.mu.Unlock()
	if !ok || t.clientID != c.ID {
		apiError(w, http.StatusNotFound, "Not Found")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

package emulator

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator/internal/emuhttp"
)

// Device code states.
const (
	statePending = iota
	stateApproved
	stateDenied
)

type deviceCode struct {
	device   string
	user     string // "WDJB-MJHT"
	clientID string
	scopes   []string
	issued   time.Time
	expires  time.Time
	interval time.Duration
	lastPoll time.Time
	polls    int // timely polls while pending
	state    int
	login    string
	log      *PollRecord
}

type authCode struct {
	clientID  string
	login     string
	redirect  string // the redirect URI the code was sent to
	scopes    []string
	challenge string // PKCE S256 code_challenge, "" when none was sent
	expires   time.Time
}

type authRequest struct {
	id        string
	clientID  string
	redirect  string
	state     string
	challenge string
	loginHint string
	scopes    []string
	expires   time.Time
}

type accessToken struct {
	clientID  string
	login     string
	scopes    []string
	expires   time.Time // zero: never
	refresh   string    // the paired refresh token, if any
	viaDevice bool
}

type refreshToken struct {
	clientID  string
	login     string
	scopes    []string
	expires   time.Time
	access    string
	viaDevice bool
}

// Stats are the emulator's counters, for tests and benchmarks.
type Stats struct {
	DeviceCodes  int // device codes issued
	Polls        int // device_code grant requests that named a known device code
	EarlyPolls   int // of those, answered with slow_down
	TokensIssued int // access tokens issued by any grant
	Refreshes    int // successful refresh_token grants
	// Requests counts requests per "METHOD /endpoint".
	Requests map[string]int
	// Codes holds each device code's polling history, keyed by user code.
	Codes map[string]PollRecord
}

// PollRecord is one device code's polling history.
type PollRecord struct {
	ClientID string
	Issued   time.Time     // when the code was issued (on Config.Clock)
	Polls    []time.Time   // every poll, timely or early
	Early    int           // polls answered with slow_down
	Interval time.Duration // the interval now in force
}

func newStats() Stats {
	return Stats{Requests: map[string]int{}}
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.stats
	out.Requests = maps.Clone(s.stats.Requests)
	out.Codes = make(map[string]PollRecord, len(s.pollLog))
	for k, v := range s.pollLog {
		c := *v
		c.Polls = slices.Clone(v.Polls)
		out.Codes[k] = c
	}
	return out
}

// --- random values -------------------------------------------------------

// userCodeAlphabet is RFC 8628's base-20 set of consonants: no vowels (so no
// words) and nothing easily confused, such as 0/O or 1/I.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// newToken returns prefix + n emuhttp.Base62 characters whose last six are a
// checksum (CRC32 of the rest, emuhttp.Base62), as GitHub's token format has.
func newToken(prefix string, n int) string {
	body := emuhttp.RandomString(emuhttp.Base62, n-6)
	sum := crc32.ChecksumIEEE([]byte(body))
	check := make([]byte, 6)
	for i := 5; i >= 0; i-- {
		check[i] = emuhttp.Base62[sum%62]
		sum /= 62
	}
	return prefix + body + string(check)
}

func newUserCode() string {
	c := emuhttp.RandomString(userCodeAlphabet, 8)
	return c[:4] + "-" + c[4:]
}

// normalizeUserCode uppercases and drops dashes and spaces, so "wdjb mjht"
// and "WDJB-MJHT" name the same code.
func normalizeUserCode(s string) string {
	s = strings.ToUpper(s)
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
}

// normalizeScopes splits a scope parameter on spaces and commas (GitHub
// accepts both), drops duplicates and sorts, as GitHub's replies are.
func normalizeScopes(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '+' || r == '\t' })
	slices.Sort(f)
	return slices.Compact(f)
}

// --- replies ---------------------------------------------------------------

type field struct {
	k string
	v any
}

// wantsJSON reports whether the client asked for JSON with Accept.
func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(part, ";")
		if strings.EqualFold(strings.TrimSpace(mt), "application/json") {
			return true
		}
	}
	return false
}

// writeOAuth answers as GitHub's OAuth endpoints do: JSON when the client
// sends Accept: application/json, form-encoded otherwise.
func writeOAuth(w http.ResponseWriter, r *http.Request, status int, fields []field) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if wantsJSON(r) {
		m := make(map[string]any, len(fields))
		for _, f := range fields {
			m[f.k] = f.v
		}
		b, _ := json.Marshal(m)
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write(b)
		return
	}
	v := url.Values{}
	for _, f := range fields {
		v.Set(f.k, fmt.Sprint(f.v))
	}
	h.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(v.Encode()))
}

// Documentation links sent as error_uri.
const (
	docDeviceErrors = "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow"
	docTokenErrors  = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/"
	docAuthzErrors  = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/"
	docRefresh      = "https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens"
)

// oauthErrors maps each error code the emulator sends to its description and documentation.
var oauthErrors = map[string][2]string{
	"authorization_pending":        {"The authorization request is still pending.", docDeviceErrors},
	"slow_down":                    {"Too many requests have been made in the same timeframe.", docDeviceErrors},
	"expired_token":                {"The device_code has expired.", docDeviceErrors},
	"unsupported_grant_type":       {"The grant type is not supported.", docDeviceErrors},
	"incorrect_device_code":        {"The device_code provided is not valid.", docDeviceErrors},
	"access_denied":                {"The authorization request was denied.", docDeviceErrors},
	"device_flow_disabled":         {"Device Flow must be explicitly enabled for this App", docDeviceErrors},
	"incorrect_client_credentials": {"The client_id and/or client_secret passed are incorrect.", docTokenErrors + "#incorrect-client-credentials"},
	"redirect_uri_mismatch":        {"The redirect_uri MUST match the registered callback URL for this application.", docTokenErrors + "#redirect-uri-mismatch"},
	"bad_verification_code":        {"The code passed is incorrect or expired.", docTokenErrors + "#bad-verification-code"},
	"bad_refresh_token":            {"The refresh token passed is incorrect or expired.", docRefresh},
	"invalid_request":              {"The request is missing a required parameter or is malformed.", docTokenErrors},
}

// oauthError answers with an OAuth error: code, error_description, error_uri and extra fields.
func oauthError(w *emuhttp.Recorder, r *http.Request, status int, code, desc string, extra ...field) {
	info := oauthErrors[code]
	if desc == "" {
		desc = info[0]
	}
	w.ErrorCode = code
	fields := append([]field{{"error", code}, {"error_description", desc}, {"error_uri", info[1]}}, extra...)
	writeOAuth(w, r, status, fields)
}

// --- tokens ----------------------------------------------------------------

// issue creates an access token (and, for a GitHub App, a refresh token) and
// returns the token endpoint's reply fields. s.mu is held.
func (s *Server) issue(c *Client, login string, scopes []string, viaDevice bool) []field {
	now := s.clk.Now()
	s.stats.TokensIssued++
	if !c.App {
		tok := newToken("gho_", 36)
		s.tokens[tok] = &accessToken{clientID: c.ID, login: login, scopes: scopes, viaDevice: viaDevice}
		return omitScope(c, []field{{"access_token", tok}, {"token_type", "bearer"}, {"scope", strings.Join(scopes, ",")}})
	}
	tok := newToken("ghu_", 36)
	ref := newToken("ghr_", 76)
	s.tokens[tok] = &accessToken{clientID: c.ID, login: login, expires: now.Add(c.TokenLifetime), refresh: ref, viaDevice: viaDevice}
	s.refresh[ref] = &refreshToken{clientID: c.ID, login: login, expires: now.Add(c.RefreshLifetime), access: tok, viaDevice: viaDevice}
	return omitScope(c, []field{
		{"access_token", tok},
		{"expires_in", int64(c.TokenLifetime / time.Second)},
		{"refresh_token", ref},
		{"refresh_token_expires_in", int64(c.RefreshLifetime / time.Second)},
		{"scope", ""},
		{"token_type", "bearer"},
	})
}

// omitScope drops the scope field from a token reply of a client with
// OmitScope.
func omitScope(c *Client, fields []field) []field {
	if !c.OmitScope {
		return fields
	}
	out := fields[:0]
	for _, f := range fields {
		if f.k != "scope" {
			out = append(out, f)
		}
	}
	return out
}

// lookupToken returns the token's record if the emulator issued it and it
// is neither revoked nor expired. s.mu is held.
func (s *Server) lookupToken(tok string) (*accessToken, bool) {
	t, ok := s.tokens[tok]
	if !ok {
		return nil, false
	}
	if !t.expires.IsZero() && !s.clk.Now().Before(t.expires) {
		return nil, false
	}
	return t, true
}

// Revoke makes an access token or a refresh token invalid: the API and git
// answer 401 for it, and the refresh grant bad_refresh_token.
func (s *Server) Revoke(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeLocked(token)
}

func (s *Server) revokeLocked(token string) {
	if t, ok := s.tokens[token]; ok {
		delete(s.tokens, token)
		delete(s.modes, token)
		if t.refresh != "" {
			delete(s.refresh, t.refresh)
		}
	}
	if r, ok := s.refresh[token]; ok {
		delete(s.refresh, token)
		delete(s.tokens, r.access)
	}
}

// TokenSet is what IssueToken returns. String() hides the secrets.
type TokenSet struct {
	AccessToken      string
	RefreshToken     string    // GitHub App clients only
	ExpiresAt        time.Time // zero for tokens that do not expire
	RefreshExpiresAt time.Time
	Scopes           []string
}

// String describes the set without its secrets.
func (t TokenSet) String() string {
	return fmt.Sprintf("TokenSet{AccessToken:[redacted] RefreshToken:[redacted] ExpiresAt:%s}", t.ExpiresAt.Format(time.RFC3339))
}

// IssueToken issues a token to login for clientID without a flow, as if the
// person had approved (for tests that need a stored token). Scopes apply to
// OAuth apps only.
func (s *Server) IssueToken(clientID, login string, scopes []string) (TokenSet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok {
		return TokenSet{}, fmt.Errorf("issue token for client %q: %w", clientID, ErrUnknownClient)
	}
	if !s.knownUser(login) {
		return TokenSet{}, fmt.Errorf("issue token for %q: %w (users: %s)", login, ErrUnknownUser, strings.Join(s.users, ", "))
	}
	sc := normalizeScopes(strings.Join(scopes, " "))
	if c.App {
		sc = nil
	}
	fields := s.issue(c, login, sc, true)
	var ts TokenSet
	for _, f := range fields {
		switch f.k {
		case "access_token":
			ts.AccessToken = f.v.(string)
		case "refresh_token":
			ts.RefreshToken = f.v.(string)
		}
	}
	if t := s.tokens[ts.AccessToken]; t != nil {
		ts.ExpiresAt = t.expires
		ts.Scopes = slices.Clone(t.scopes)
	}
	if r := s.refresh[ts.RefreshToken]; r != nil {
		ts.RefreshExpiresAt = r.expires
	}
	return ts, nil
}

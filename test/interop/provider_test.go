package interop

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// These tests pin down, with plain HTTP and no ghlogin, how the third-party
// server behaves where it differs from GitHub, and prove that the harness
// (the node server and the form-driving browser) works on its own. The
// ghlogin tests in login_test.go rely on exactly this behaviour.

const deviceScopes = "openid profile offline_access"

var userCodeRE = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// deviceAuthorization starts a device flow for client by hand.
func deviceAuthorization(ctx context.Context, t *testing.T, p *provider, client string) map[string]any {
	t.Helper()
	status, body, err := postForm(ctx, p.Endpoint("/device/auth"), url.Values{"client_id": {client}, "scope": {deviceScopes}}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK {
		t.Fatalf("POST /device/auth: HTTP %d %v", status, body)
	}
	return body
}

func pollToken(ctx context.Context, t *testing.T, p *provider, client, deviceCode string) (int, map[string]any) {
	t.Helper()
	status, body, err := postForm(ctx, p.Endpoint("/token"), url.Values{
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {deviceCode},
		"client_id":   {client},
	}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return status, body
}

func TestProviderDeviceFlowByHand(t *testing.T) {
	p := startProvider(t)
	ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
	defer cancel()

	da := deviceAuthorization(ctx, t, p, publicClient)
	userCode, _ := da["user_code"].(string)
	deviceCode, _ := da["device_code"].(string)
	if !userCodeRE.MatchString(userCode) || deviceCode == "" {
		t.Fatalf("device authorization reply %v: want a XXXX-XXXX user_code and a device_code", da)
	}
	if da["verification_uri"] != p.Endpoint("/device") || da["verification_uri_complete"] != p.Endpoint("/device?user_code="+userCode) {
		t.Fatalf("verification URIs = %v, %v", da["verification_uri"], da["verification_uri_complete"])
	}
	// Unlike GitHub, this server sends no interval: clients must default to 5 s.
	if _, ok := da["interval"]; ok {
		t.Fatalf("oidc-provider now sends interval (%v): ghlogin's default-interval path is no longer exercised", da["interval"])
	}

	status, body := pollToken(ctx, t, p, publicClient, deviceCode)
	if status != http.StatusBadRequest || body["error"] != "authorization_pending" {
		t.Fatalf("poll before approval: HTTP %d %v, want 400 authorization_pending", status, body)
	}

	steps, _ := approveDevice(newBrowser(ctx, t), p, approval{
		Login:           "alice",
		UserCode:        userCode,
		VerificationURI: da["verification_uri"].(string),
	})
	if want := []string{"device-input", "device-confirm", "login", "consent", "success"}; !slices.Equal(steps, want) {
		t.Fatalf("pages = %v, want %v", steps, want)
	}

	status, body = pollToken(ctx, t, p, publicClient, deviceCode)
	if status != http.StatusOK {
		t.Fatalf("poll after approval: HTTP %d %v", status, body)
	}
	access, _ := body["access_token"].(string)
	refresh, _ := body["refresh_token"].(string)
	if access == "" || refresh == "" || body["token_type"] != "Bearer" {
		t.Fatalf("token reply has keys %v: want access_token, refresh_token (offline_access) and token_type Bearer", keys(body))
	}
	claims, err := userinfo(ctx, p, access)
	if err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != "alice" || claims["preferred_username"] != "alice" {
		t.Fatalf("userinfo = %v, want alice", claims)
	}

	// Refresh tokens rotate for public clients; the old one then fails.
	status, body, err = postForm(ctx, p.Endpoint("/token"), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {publicClient}}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK || body["refresh_token"] == nil || body["refresh_token"] == refresh {
		t.Fatalf("refresh: HTTP %d, %v: want a new, rotated refresh_token\nprovider log:\n%s", status, body, p.Logs())
	}
	status, body, err = postForm(ctx, p.Endpoint("/token"), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {publicClient}}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("reusing a rotated refresh token: HTTP %d %v, want 400 invalid_grant", status, body)
	}

	// A used device code is gone: invalid_grant.
	status, body = pollToken(ctx, t, p, publicClient, deviceCode)
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("second redemption: HTTP %d %v, want 400 invalid_grant", status, body)
	}
}

func TestProviderDeviceFlowDenied(t *testing.T) {
	p := startProvider(t)
	for _, tc := range []struct {
		abortAt string
		steps   []string
	}{
		{abortOnConfirm, []string{"device-autosubmit", "device-confirm", "aborted"}},
		{abortOnConsent, []string{"device-autosubmit", "device-confirm", "login", "consent", "aborted"}},
	} {
		t.Run(tc.abortAt, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
			defer cancel()
			da := deviceAuthorization(ctx, t, p, publicClient)
			steps, last := approveDevice(newBrowser(ctx, t), p, approval{
				Login:                   "alice",
				VerificationURIComplete: da["verification_uri_complete"].(string),
				AbortAt:                 tc.abortAt,
			})
			if !strings.Contains(last.Text(), "The Sign-in request was interrupted") {
				t.Errorf("after the abort the person sees %s", last)
			}
			if !slices.Equal(steps, tc.steps) {
				t.Fatalf("pages = %v, want %v", steps, tc.steps)
			}
			status, body := pollToken(ctx, t, p, publicClient, da["device_code"].(string))
			if status != http.StatusBadRequest || body["error"] != "access_denied" {
				t.Fatalf("poll after denial: HTTP %d %v, want 400 access_denied", status, body)
			}
		})
	}
}

func TestProviderUnknownClient(t *testing.T) {
	p := startProvider(t)
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	status, body, err := postForm(ctx, p.Endpoint("/device/auth"), url.Values{"client_id": {"nope"}, "scope": {deviceScopes}}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Fatalf("unknown client: HTTP %d %v, want 401 invalid_client", status, body)
	}
}

func TestProviderConfidentialClients(t *testing.T) {
	p := startProvider(t)
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	form := func(client, secret string) url.Values {
		v := url.Values{"client_id": {client}, "scope": {deviceScopes}}
		if secret != "" {
			v.Set("client_secret", secret)
		}
		return v
	}
	for _, tc := range []struct {
		name         string
		form         url.Values
		user, pass   string
		wantStatus   int
		wantErrorKey string
	}{
		{"basic", form(basicClient, ""), basicClient, basicClientSecret, http.StatusOK, ""},
		{"basic secret in body refused", form(basicClient, basicClientSecret), "", "", http.StatusUnauthorized, "invalid_client"},
		{"post", form(postClient, postClientSecret), "", "", http.StatusOK, ""},
		{"post wrong secret", form(postClient, "wrong"), "", "", http.StatusUnauthorized, "invalid_client"},
		{"post secret in Basic refused", form(postClient, ""), postClient, postClientSecret, http.StatusUnauthorized, "invalid_client"},
		{"basic wrong secret", form(basicClient, ""), basicClient, "wrong", http.StatusUnauthorized, "invalid_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, err := postForm(ctx, p.Endpoint("/device/auth"), tc.form, tc.user, tc.pass)
			if err != nil {
				t.Fatal(err)
			}
			if status != tc.wantStatus || (tc.wantErrorKey != "" && body["error"] != tc.wantErrorKey) {
				t.Fatalf("HTTP %d %v, want %d %s", status, body, tc.wantStatus, tc.wantErrorKey)
			}
		})
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// The authorization code flow with PKCE to a loopback redirect URI on a port
// the client picked (RFC 8252 §7.3), by hand.
func TestProviderWebFlowByHand(t *testing.T) {
	p := startProvider(t)
	ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
	defer cancel()

	got := make(chan url.Values, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.URL.Query():
		default:
		}
		_, _ = io.WriteString(w, "<!DOCTYPE html><title>done</title>")
	}))
	defer cb.Close()
	redirect := cb.URL + "/callback"

	verifier := strings.Repeat("v", 64)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id":             {publicClient},
		"response_type":         {"code"},
		"redirect_uri":          {redirect},
		"scope":                 {"openid profile"},
		"state":                 {"state-123"},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	steps, _ := approveWeb(newBrowser(ctx, t), p, p.Endpoint("/auth?"+q.Encode()), "alice", false)
	if want := []string{"login", "consent", "callback"}; !slices.Equal(steps, want) {
		t.Fatalf("pages = %v, want %v", steps, want)
	}
	var params url.Values
	select {
	case params = <-got:
	case <-ctx.Done():
		t.Fatal("no callback")
	}
	if params.Get("state") != "state-123" || params.Get("code") == "" || params.Get("iss") != p.Issuer {
		t.Fatalf("callback %v: want state, code and iss", params)
	}
	status, body, err := postForm(ctx, p.Endpoint("/token"), url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {params.Get("code")},
		"redirect_uri":  {redirect},
		"client_id":     {publicClient},
		"code_verifier": {verifier},
	}, "", "")
	if err != nil || status != http.StatusOK || body["access_token"] == nil {
		t.Fatalf("code exchange: HTTP %d %v %v\nprovider log:\n%s", status, body, err, p.Logs())
	}
}

package emulator

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func (e *env) refresh(client, secret, rt string) reply {
	form := url.Values{"client_id": {client}, "grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if secret != "" {
		form.Set("client_secret", secret)
	}
	return e.post("/login/oauth/access_token", form, true)
}

func (e *env) userStatus(tok string) int {
	return e.get("/user", "Authorization", "Bearer "+tok).status
}

// appToken runs the device flow for the GitHub App client.
func appToken(t *testing.T, e *env) reply {
	t.Helper()
	dc := e.deviceCode(AppClientID, "repo")
	if err := e.s.Approve(dc.f["user_code"], "octocat"); err != nil {
		t.Fatal(err)
	}
	r := e.poll(AppClientID, dc.f["device_code"])
	if r.status != 200 || r.f["access_token"] == "" {
		t.Fatalf("app token: %s", r.body)
	}
	return r
}

func TestAppTokensShape(t *testing.T) {
	e := start(t, Config{})
	r := appToken(t, e)
	if !appTokenRe.MatchString(r.f["access_token"]) || !refreshTokenRe.MatchString(r.f["refresh_token"]) {
		t.Fatalf("token shapes: %d/%d chars", len(r.f["access_token"]), len(r.f["refresh_token"]))
	}
	if r.raw["expires_in"] != float64(28800) || r.raw["refresh_token_expires_in"] != float64(15897600) {
		t.Fatalf("lifetimes: %v %v", r.raw["expires_in"], r.raw["refresh_token_expires_in"])
	}
	if r.f["scope"] != "" || r.f["token_type"] != "bearer" {
		t.Fatalf("scope=%q token_type=%q", r.f["scope"], r.f["token_type"])
	}
	u := e.get("/user", "Authorization", "Bearer "+r.f["access_token"])
	if u.status != 200 || u.header.Get("X-OAuth-Scopes") != "" {
		t.Fatalf("/user with ghu_: %d scopes=%q", u.status, u.header.Get("X-OAuth-Scopes"))
	}
	// Expired after 8 hours.
	e.clk.Advance(8 * time.Hour)
	if st := e.userStatus(r.f["access_token"]); st != http.StatusUnauthorized {
		t.Fatalf("expired token: /user = %d", st)
	}
}

func TestRefreshRotation(t *testing.T) {
	e := start(t, Config{})
	first := appToken(t, e)
	e.clk.Advance(9 * time.Hour) // the access token has expired; the refresh token has not
	second := e.refresh(AppClientID, "", first.f["refresh_token"])
	if !appTokenRe.MatchString(second.f["access_token"]) || !refreshTokenRe.MatchString(second.f["refresh_token"]) ||
		second.f["refresh_token"] == first.f["refresh_token"] {
		t.Fatalf("refresh (device flow token, no secret): %s", second.body)
	}
	if e.userStatus(second.f["access_token"]) != 200 {
		t.Fatal("the new access token does not work")
	}
	wantError(t, e.refresh(AppClientID, "", first.f["refresh_token"]), 200, "bad_refresh_token")

	third := e.refresh(AppClientID, AppClientSecret, second.f["refresh_token"])
	if third.f["access_token"] == "" {
		t.Fatalf("refresh with secret: %s", third.body)
	}
	// Rotation: the old pair is dead even though the old access token had not expired.
	if e.userStatus(second.f["access_token"]) != http.StatusUnauthorized {
		t.Fatal("the rotated-out access token still works")
	}
	wantError(t, e.refresh(AppClientID, AppClientSecret, second.f["refresh_token"]), 200, "bad_refresh_token")
	if st := e.s.Stats(); st.Refreshes != 2 {
		t.Fatalf("refreshes = %d", st.Refreshes)
	}
}

func TestRefreshErrors(t *testing.T) {
	e := start(t, Config{Clients: []Client{
		{ID: AppClientID, Secret: AppClientSecret, App: true, TokenLifetime: time.Hour, RefreshLifetime: 2 * time.Hour},
		{ID: "Iv1.other", Secret: "other", App: true},
		{ID: DefaultClientID, Secret: DefaultClientSecret},
	}, AutoApproveWeb: true})
	tok := appToken(t, e)
	if tok.raw["expires_in"] != float64(3600) || tok.raw["refresh_token_expires_in"] != float64(7200) {
		t.Fatalf("configured lifetimes not used: %s", tok.body)
	}
	rt := tok.f["refresh_token"]
	wantError(t, e.refresh(AppClientID, "wrong", rt), 200, "incorrect_client_credentials")
	wantError(t, e.refresh("nope", "", rt), 200, "incorrect_client_credentials")
	wantError(t, e.refresh("Iv1.other", "other", rt), 200, "bad_refresh_token")
	wantError(t, e.refresh(AppClientID, AppClientSecret, "ghr_"+strings.Repeat("a", 76)), 200, "bad_refresh_token")
	wantError(t, e.refresh(AppClientID, AppClientSecret, tok.f["access_token"]), 200, "bad_refresh_token")
	wantError(t, e.refresh(DefaultClientID, DefaultClientSecret, rt), 200, "bad_refresh_token")

	// A web flow token needs the client secret to refresh.
	u := location(t, e.get(authorizeURL(AppClientID, "http://127.0.0.1:3000/callback", "s", "")))
	web := e.exchange(AppClientID, AppClientSecret, u.Query().Get("code"), "", "")
	if !refreshTokenRe.MatchString(web.f["refresh_token"]) {
		t.Fatalf("web flow app token: %s", web.body)
	}
	wantError(t, e.refresh(AppClientID, "", web.f["refresh_token"]), 200, "incorrect_client_credentials")
	if r := e.refresh(AppClientID, AppClientSecret, web.f["refresh_token"]); r.f["access_token"] == "" {
		t.Fatalf("refresh with secret: %s", r.body)
	}

	// An expired refresh token is refused.
	e.clk.Advance(2 * time.Hour)
	wantError(t, e.refresh(AppClientID, AppClientSecret, rt), 200, "bad_refresh_token")
}

func TestRevokeRefreshTokenKillsPair(t *testing.T) {
	e := start(t, Config{})
	tok := appToken(t, e)
	e.s.Revoke(tok.f["refresh_token"])
	if e.userStatus(tok.f["access_token"]) != http.StatusUnauthorized {
		t.Fatal("access token survives revoking its refresh token")
	}
	wantError(t, e.refresh(AppClientID, AppClientSecret, tok.f["refresh_token"]), 200, "bad_refresh_token")
}

func TestIssueToken(t *testing.T) {
	e := start(t, Config{})
	ts, err := e.s.IssueToken(DefaultClientID, "octocat", []string{"repo", "gist"})
	if err != nil || !oauthTokenRe.MatchString(ts.AccessToken) || !ts.ExpiresAt.IsZero() {
		t.Fatalf("IssueToken: %v", err)
	}
	if strings.Contains(ts.String(), ts.AccessToken) {
		t.Fatal("TokenSet.String shows the token")
	}
	u := e.get("/user", "Authorization", "Bearer "+ts.AccessToken)
	if u.header.Get("X-OAuth-Scopes") != "gist, repo" {
		t.Fatalf("scopes %q", u.header.Get("X-OAuth-Scopes"))
	}
	app, err := e.s.IssueToken(AppClientID, "hubot", nil)
	if err != nil || !refreshTokenRe.MatchString(app.RefreshToken) || !app.ExpiresAt.Equal(t0.Add(8*time.Hour)) {
		t.Fatalf("IssueToken app: %v %v", err, app)
	}
	if _, err := e.s.IssueToken("nope", "octocat", nil); err == nil {
		t.Fatal("unknown client accepted")
	}
	if _, err := e.s.IssueToken(DefaultClientID, "mallory", nil); err == nil {
		t.Fatal("unknown user accepted")
	}
}

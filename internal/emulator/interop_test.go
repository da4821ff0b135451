package emulator

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/ghlogin/ghlogin/oauth"
)

// TestOAuthClientInterop drives the emulator with the project's token
// endpoint client, with credentials in the body and in HTTP Basic.
func TestOAuthClientInterop(t *testing.T) {
	e := start(t, Config{AutoApproveAfter: 1})
	ctx := context.Background()
	var c oauth.Client
	for _, style := range []oauth.AuthStyle{oauth.AuthInBody, oauth.AuthBasic} {
		creds := oauth.Credentials{ClientID: AppClientID, Style: style}
		var code struct {
			DeviceCode string        `json:"device_code"`
			UserCode   string        `json:"user_code"`
			Interval   oauth.Seconds `json:"interval"`
			ExpiresIn  oauth.Seconds `json:"expires_in"`
		}
		if err := c.Post(ctx, e.base+"/login/device/code", oauth.Credentials{ClientID: AppClientID}, url.Values{"scope": {"repo"}}, &code); err != nil {
			t.Fatal(err)
		}
		if code.Interval != 5 || code.ExpiresIn != 900 || !userCodeRe.MatchString(code.UserCode) {
			t.Fatalf("code %+v", code)
		}
		tok, err := c.Exchange(ctx, e.base+"/login/oauth/access_token", creds, url.Values{"grant_type": {DeviceGrantType}, "device_code": {code.DeviceCode}})
		if err != nil || !appTokenRe.MatchString(tok.AccessToken) || tok.ExpiresIn != 28800 {
			t.Fatalf("exchange (%v): %v", style, err)
		}
		creds.ClientSecret = AppClientSecret
		next, err := c.Exchange(ctx, e.base+"/login/oauth/access_token", creds, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
		if err != nil || next.RefreshToken == tok.RefreshToken {
			t.Fatalf("refresh (%v): %v", style, err)
		}
		_, err = c.Exchange(ctx, e.base+"/login/oauth/access_token", creds, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
		var oe *oauth.Error
		if !errors.As(err, &oe) || oe.Code != "bad_refresh_token" || oe.Description == "" {
			t.Fatalf("reused refresh token (%v): %v", style, err)
		}
	}
	err := c.Post(ctx, e.base+"/login/device/code", oauth.Credentials{ClientID: DisabledClientID}, nil, &struct{}{})
	if oauth.ErrorCode(err) != "device_flow_disabled" {
		t.Fatalf("disabled client: %v", err)
	}
}

package refresh

import (
	"encoding/base64"
	"reflect"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
)

func TestNewSecret(t *testing.T) {
	// now has a fraction of a second and a zone: expiries are UTC, whole seconds.
	now := time.Date(2025, 3, 1, 12, 0, 0, 600_000_000, time.FixedZone("X", -5*3600))
	at := func(d time.Duration) time.Time { return now.Add(d).UTC().Truncate(time.Second) }
	// An ID token whose payload is {"iat":1740848400,"exp":1740852000}.
	idTok := "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(`{"iat":1740848400,"exp":1740852000}`)) + ".c2ln"
	idTok2 := "eyJhbGciOiJSUzI1NiJ9.e30.c2ln" // {}: no times
	oidcPrev := &store.Secret{Token: "at1", TokenType: "Bearer", Scopes: []string{"openid", "profile"}, RequestedScopes: []string{"openid", "profile", "email"},
		DisplayName: "Admin User", IDToken: idTok, IDTokenExpiresAt: time.Unix(1740852000, 0).UTC(), RefreshToken: "rt"}
	prev := &store.Secret{Token: "ghu_old", TokenType: "bearer", Scopes: []string{"repo"}, ExpiresAt: at(-time.Hour),
		RefreshToken: "ghr_old", RefreshTokenExpiresAt: at(100 * 24 * time.Hour)}

	for _, tc := range []struct {
		name   string
		tok    oauth.Token
		scopes []string
		prev   *store.Secret
		want   store.Secret
	}{
		{
			name: "login with an expiring token pair",
			tok:  oauth.Token{AccessToken: "ghu_new", TokenType: "bearer", Scope: "repo,gist", ExpiresIn: 28800, RefreshToken: "ghr_new", RefreshTokenExpiresIn: 15897600},
			want: store.Secret{Token: "ghu_new", TokenType: "bearer", Scopes: []string{"repo", "gist"}, ExpiresAt: at(8 * time.Hour), IssuedAt: at(0),
				RefreshToken: "ghr_new", RefreshTokenExpiresAt: at(15897600 * time.Second)},
		},
		{
			name:   "login: the server's confirmed scopes win over the reply's",
			tok:    oauth.Token{AccessToken: "gho_x", TokenType: "bearer", Scope: "repo"},
			scopes: []string{"repo", "read:org"},
			want:   store.Secret{Token: "gho_x", TokenType: "bearer", Scopes: []string{"repo", "read:org"}},
		},
		{
			name: "login without a previous secret carries nothing over",
			tok:  oauth.Token{AccessToken: "gho_x"},
			want: store.Secret{Token: "gho_x"},
		},
		{
			name: "refresh without a new refresh token keeps the old one and its expiry",
			tok:  oauth.Token{AccessToken: "ghu_new", ExpiresIn: 3600},
			prev: prev,
			want: store.Secret{Token: "ghu_new", TokenType: "bearer", Scopes: []string{"repo"}, ExpiresAt: at(time.Hour), IssuedAt: at(0),
				RefreshToken: "ghr_old", RefreshTokenExpiresAt: prev.RefreshTokenExpiresAt},
		},
		{
			name: "refresh with rotation: the new refresh token comes with its own lifetime",
			tok:  oauth.Token{AccessToken: "ghu_new", TokenType: "bearer", ExpiresIn: 3600, RefreshToken: "ghr_new", RefreshTokenExpiresIn: 7200},
			prev: prev,
			want: store.Secret{Token: "ghu_new", TokenType: "bearer", Scopes: []string{"repo"}, ExpiresAt: at(time.Hour), IssuedAt: at(0),
				RefreshToken: "ghr_new", RefreshTokenExpiresAt: at(2 * time.Hour)},
		},
		{
			name: "rotation to a refresh token that never expires clears the old expiry",
			tok:  oauth.Token{AccessToken: "ghu_new", RefreshToken: "ghr_new"},
			prev: prev,
			want: store.Secret{Token: "ghu_new", TokenType: "bearer", Scopes: []string{"repo"}, RefreshToken: "ghr_new"},
		},
		{
			name:   "refresh: new scopes replace the old ones",
			tok:    oauth.Token{AccessToken: "ghu_new", TokenType: "Bearer", Scope: "gist"},
			prev:   prev,
			scopes: nil,
			want: store.Secret{Token: "ghu_new", TokenType: "Bearer", Scopes: []string{"gist"},
				RefreshToken: "ghr_old", RefreshTokenExpiresAt: prev.RefreshTokenExpiresAt},
		},
		{
			name: "login with an ID token records its expiry",
			tok:  oauth.Token{AccessToken: "at", TokenType: "Bearer", IDToken: idTok, ExpiresIn: 120},
			want: store.Secret{Token: "at", TokenType: "Bearer", IDToken: idTok, IDTokenExpiresAt: time.Unix(1740852000, 0).UTC(),
				ExpiresAt: at(2 * time.Minute), IssuedAt: at(0)},
		},
		{
			name: "refresh without an ID token keeps the old one, the requested scopes and the display name",
			tok:  oauth.Token{AccessToken: "at2", ExpiresIn: 120, ScopeOmitted: true},
			prev: oidcPrev,
			want: store.Secret{Token: "at2", TokenType: "Bearer", Scopes: []string{"openid", "profile"}, RequestedScopes: []string{"openid", "profile", "email"},
				DisplayName: "Admin User", IDToken: idTok, IDTokenExpiresAt: oidcPrev.IDTokenExpiresAt, ExpiresAt: at(2 * time.Minute), IssuedAt: at(0),
				RefreshToken: "rt"},
		},
		{
			name: "refresh with a new ID token replaces it",
			tok:  oauth.Token{AccessToken: "at2", IDToken: idTok2},
			prev: oidcPrev,
			want: store.Secret{Token: "at2", TokenType: "Bearer", Scopes: []string{"openid", "profile"}, RequestedScopes: []string{"openid", "profile", "email"},
				DisplayName: "Admin User", IDToken: idTok2, RefreshToken: "rt"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := NewSecret(&tc.tok, tc.scopes, tc.prev, now)
			if !reflect.DeepEqual(*got, tc.want) {
				t.Fatalf("NewSecret =\n %+v\nwant\n %+v", *got, tc.want)
			}
			for _, ts := range []time.Time{got.ExpiresAt, got.RefreshTokenExpiresAt} {
				if !ts.IsZero() && (ts.Nanosecond() != 0 || ts.Location() != time.UTC) {
					t.Errorf("%v is not a whole UTC second", ts)
				}
			}
		})
	}
	if prev.Token != "ghu_old" || prev.RefreshToken != "ghr_old" {
		t.Fatal("NewSecret changed the previous secret")
	}
}

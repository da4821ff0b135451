package store

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
)

// The ID token lives with the token, never in the index; the requested
// scopes reach the index only where the server granted others; the display
// name is in both.
func TestIDTokenAndScopesInIndex(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, nil)
	const idToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.SIGNATURE-canary"
	sec := &Secret{Token: "at", TokenType: "Bearer", Scopes: []string{"openid", "profile"},
		RequestedScopes: []string{"openid", "profile", "offline_access"}, IDToken: idToken, DisplayName: "Admin User"}
	if err := s.Save(ctx, "sso.example.com", "admin", BackendFile, sec); err != nil {
		t.Fatal(err)
	}
	a, err := s.Resolve("sso.example.com", "admin")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.RequestedScopes, []string{"openid", "profile", "offline_access"}) || a.DisplayName != "Admin User" {
		t.Errorf("account = %+v", a)
	}
	got, err := s.Secret(ctx, a)
	if err != nil || got.IDToken != idToken || got.DisplayName != "Admin User" {
		t.Fatalf("secret: %v %+v", err, got)
	}
	cfg, err := os.ReadFile(s.ConfigPath())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(cfg), "canary") || strings.Contains(string(cfg), "eyJ") {
		t.Errorf("the ID token reached the index:\n%s", cfg)
	}

	// Granted as requested (in another order): the index keeps one list.
	sec2 := *sec
	sec2.Scopes = []string{"profile", "openid", "offline_access"}
	if err := s.Replace(ctx, "sso.example.com", "admin", &sec2); err != nil {
		t.Fatal(err)
	}
	if a, _ = s.Resolve("sso.example.com", "admin"); a.RequestedScopes != nil || len(a.Scopes) != 3 {
		t.Errorf("after Replace: %+v", a)
	}

	// A secret with a malformed ID token is refused.
	bad := *sec
	bad.IDToken = "a b"
	if err := s.Save(ctx, "sso.example.com", "admin", BackendFile, &bad); err == nil {
		t.Error("an ID token with a space was stored")
	}
}

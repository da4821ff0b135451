package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/store/storetest"
)

// TestInvalidate: a rejected token is removed from both backends, the account
// stays listed and marked, reads say why and what to do, and a new login
// clears the mark.
func TestInvalidate(t *testing.T) {
	ctx := context.Background()
	for _, backend := range []string{BackendFile, BackendKeyring} {
		t.Run(backend, func(t *testing.T) {
			kr := storetest.NewMemKeyring()
			s := newStore(t, kr)
			if err := s.Save(ctx, "github.com", "octocat", backend, &Secret{Token: "gho_canaryAAAA"}); err != nil {
				t.Fatal(err)
			}
			if err := s.Save(ctx, "github.com", "hubot", backend, &Secret{Token: "gho_hubotBBBB"}); err != nil {
				t.Fatal(err)
			}
			if err := s.Invalidate(ctx, "github.com", "octocat", "the API rejected it"); err != nil {
				t.Fatal(err)
			}
			a, err := s.Resolve("github.com", "octocat")
			if err != nil {
				t.Fatalf("the account was removed: %v", err)
			}
			if a.Invalid != "the API rejected it" {
				t.Fatalf("Invalid = %q", a.Invalid)
			}
			_, err = s.Secret(ctx, a)
			var nl *NotLoggedInError
			if !errors.As(err, &nl) || nl.Host != "github.com" || nl.Login != "octocat" || nl.Invalid != "the API rejected it" || strings.Contains(err.Error(), "canary") {
				t.Fatalf("Secret after Invalidate: %v", err)
			}
			if backend == BackendKeyring {
				if _, err := kr.Get(Service("github.com"), "octocat"); err == nil {
					t.Fatal("the keyring still holds the rejected token")
				}
			} else {
				creds, _ := s.files.read()
				if creds.get("github.com", "octocat") != nil {
					t.Fatal("credentials.json still holds the rejected token")
				}
			}
			// The other account is untouched, and the active one unchanged.
			if got := token(t, s, "github.com", "hubot"); got != "gho_hubotBBBB" {
				t.Fatalf("hubot's token = %q", got)
			}
			// Logging in again clears the mark.
			if err := s.Save(ctx, "github.com", "octocat", backend, &Secret{Token: "gho_freshCCCC"}); err != nil {
				t.Fatal(err)
			}
			a, _ = s.Resolve("github.com", "octocat")
			if a.Invalid != "" || token(t, s, "github.com", "octocat") != "gho_freshCCCC" {
				t.Fatalf("after a new login: %+v", a)
			}
			// An invalidated account can be logged out.
			_ = s.Invalidate(ctx, "github.com", "octocat", "")
			if _, err := s.Remove(ctx, "github.com", "octocat"); err != nil {
				t.Fatalf("logout of an invalidated account: %v", err)
			}
		})
	}
}

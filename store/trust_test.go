//go:build !windows

package store

import (
	"errors"
	"os"
	"os/user"
	"strconv"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/config"
)

// A credentials.json another user owns could have been planted: it is
// refused with the chown to run, as ssh's StrictModes would.
func TestCredentialsOtherOwnerRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs as root; this test needs root to chown a file to another user")
		}
		t.Skip("needs root to chown a file to another user")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	s := newStore(t, nil)
	if err := s.Save(ctx, "github.com", "a", BackendFile, &Secret{Token: "t"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(s.CredentialsPath(), uid, -1); err != nil {
		t.Fatal(err)
	}
	_, err = s.Secret(ctx, Account{Host: "github.com", Login: "a"})
	var ue *config.UntrustedError
	if !errors.As(err, &ue) || ue.Problem != config.OtherOwner || !strings.HasSuffix(err.Error(), "run: chown root "+s.CredentialsPath()) {
		t.Fatalf("Secret: %v, want a *config.UntrustedError with the chown to run", err)
	}
	// A config directory others can write is refused before anything is read.
	if err := os.Chown(s.CredentialsPath(), 0, -1); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.Dir(), 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Dir: s.Dir()}); !errors.As(err, &ue) || ue.Problem != config.OthersCanWrite || !ue.Dir {
		t.Fatalf("Open: %v, want the directory refused", err)
	}
	if _, err := s.Accounts(""); !errors.As(err, &ue) {
		t.Fatalf("Accounts: %v, want the directory refused", err)
	}
}

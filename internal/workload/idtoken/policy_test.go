package idtoken

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
)

// TestURLPolicy checks the rules idtoken takes from safe.CheckURL where each
// URL enters: the Actions request URL, a trusted issuer and a redirect.
func TestURLPolicy(t *testing.T) {
	for in, msg := range map[string]string{
		"https://u:pw@t.example.com/idtoken": "must not hold a user name or password",
		"http://t.example.com/idtoken":       "over http: it must be https",
		"ftp://t.example.com/idtoken":        "over ftp: it must be https",
		"t.example.com/idtoken":              "not an absolute URL",
	} {
		_, err := ActionsTokenURL(in, "aud")
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), msg) || strings.Contains(err.Error(), "pw@") {
			t.Errorf("ActionsTokenURL(%q) = %v, want a *UsageError saying %q", in, err, msg)
		}
	}
	for iss, ok := range map[string]bool{
		"https://token.actions.githubusercontent.com": true,
		"http://127.0.0.1:8080/issuer":                true,
		"http://[::1]:8080":                           true,
		"http://203.0.113.9/issuer":                   false,
		"https://u:p@issuer.example.com":              false,
		"https://issuer.example.com#x":                false,
		"https://issuer.example.com?x=1":              false,
		"issuer.example.com":                          false,
	} {
		if got := trustedIssuer(iss); got != ok {
			t.Errorf("trustedIssuer(%q) = %v, want %v", iss, got, ok)
		}
	}
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://user:hunter2@203.0.113.9/steal", http.StatusFound)
	})
	_, err := (&GitHubActions{RequestURL: srv.URL + "/idtoken", RequestToken: canaryRequestToken}).Token(context.Background(), Request{})
	if !safehttp.IsRedirectRefused(err) || !strings.Contains(err.Error(), "redirect to https://203.0.113.9 ") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("redirect with user info: %v", err)
	}
}

// TestSanitizeIsSafeText checks that sanitize ends in safe.Short: what the
// one sanitiser removes does not survive, and the cut is at 200 bytes on a
// character boundary.
func TestSanitizeIsSafeText(t *testing.T) {
	for in, want := range map[string]string{
		"evil\u202egnp.exe":      "evilgnp.exe",
		"a\u2066b\u2069c":        "abc",
		"a\xffb":                 "a\ufffdb",
		"c1\u009b31mcsi":         "c1csi",
		"line\u2028separator":    "line separator",
		strings.Repeat("é", 150): strings.Repeat("é", 100) + "…",
	} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

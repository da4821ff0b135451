package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
)

// Secrets a request carries; the echoing server below sends them back in
// every field it has.
const (
	canaryRefresh  = "CANARYREFRESH0123456789abcdef"
	canaryAccess   = "CANARYACCESS0123456789abcdef"
	canaryCode     = "CANARYCODE0123456789"
	canaryVerifier = "CANARYVERIFIER0123456789abcdefghijklmnopqrstu"
	canarySecret   = "CANARY/SECRET+0123456789="
)

// echo answers with what the request carried, in the place mode says.
func echo(mode string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// serve has parsed the form already.
		form := r.PostForm
		body := form.Encode()
		var all []string
		for _, vs := range form {
			all = append(all, vs...)
		}
		everything := "body=" + body + " auth=" + r.Header.Get("Authorization") + " values=" + strings.Join(all, " ") + " also " + canaryAccess
		switch mode {
		case "oauth error":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": form.Get("refresh_token"), "error_description": everything, "error_uri": "https://x.example/" + everything})
		case "long description":
			// A secret where the 300-byte cut falls: no part of it may stay.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": strings.Repeat("x", 290) + form.Get("refresh_token")})
		case "content type":
			w.Header().Set("Content-Type", "application/"+form.Get("refresh_token"))
			_, _ = io.WriteString(w, "whatever")
		case "seconds":
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"access_token": "new", "expires_in": form.Get("refresh_token")})
		case "redirect":
			http.Redirect(w, r, "http://"+strings.ToLower(form.Get("refresh_token"))+".localhost/", http.StatusFound)
		}
	}
}

// TestPostRedactsWhatTheServerEchoes: no secret the request carried, nor
// one the caller named with WithSecrets, appears in the error, whatever
// field the server echoes it in and whichever way the client authenticates.
func TestPostRedactsWhatTheServerEchoes(t *testing.T) {
	for _, style := range []AuthStyle{AuthInBody, AuthBasic} {
		for _, mode := range []string{"oauth error", "long description", "content type", "seconds", "redirect"} {
			srv, _ := serve(t, echo(mode))
			ctx := WithSecrets(context.Background(), canaryAccess)
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {canaryRefresh}, "code": {canaryCode}, "code_verifier": {canaryVerifier}}
			_, err := (&Client{}).Exchange(ctx, srv.URL, Credentials{ClientID: "Iv1.app", ClientSecret: canarySecret, Style: style}, form)
			if err == nil {
				t.Fatalf("%v %s: no error", style, mode)
			}
			msg := err.Error()
			var oe *Error
			if errors.As(err, &oe) {
				msg += " " + oe.Code + " " + oe.Description + " " + oe.URI
			}
			var re *safehttp.RedirectError
			if errors.As(err, &re) {
				msg += " " + re.LocationHost
			}
			for _, s := range []string{canaryRefresh, strings.ToLower(canaryRefresh), canaryAccess, canaryCode, canaryVerifier, canarySecret, url.QueryEscape(canarySecret), "CANARYREFRESH0", "Iv1.app:"} {
				if strings.Contains(msg, s) {
					t.Errorf("%v %s: the error holds %q: %s", style, mode, s, msg)
				}
			}
			if mode == "oauth error" && (oe == nil || oe.Code != InvalidErrorCode || !strings.Contains(oe.Description, "[redacted]")) {
				t.Errorf("%v %s: %#v", style, mode, err)
			}
		}
	}
}

func TestRedactErrorKeepsTypes(t *testing.T) {
	inner := errors.New("certificate for " + canaryAccess + " is not valid")
	err := RedactError(&NetworkError{Endpoint: "https://x.example/token", Err: inner}, canaryAccess)
	var ne *NetworkError
	if !errors.As(err, &ne) || strings.Contains(err.Error(), canaryAccess) || !errors.Is(err, inner) {
		t.Errorf("NetworkError: %v", err)
	}
	wrapped := RedactError(errors.Join(errors.New("refreshing: "+canaryAccess), context.Canceled), canaryAccess)
	if strings.Contains(wrapped.Error(), canaryAccess) || !errors.Is(wrapped, context.Canceled) {
		t.Errorf("other errors: %v", wrapped)
	}
	plain := errors.New("nothing secret")
	if RedactError(plain, canaryAccess) != plain || RedactError(nil, canaryAccess) != nil {
		t.Error("an error without secrets changed")
	}
}

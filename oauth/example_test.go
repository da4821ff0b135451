package oauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/ghlogin/ghlogin/oauth"
)

// A token request (RFC 6749 §4.1.3) to a token endpoint that answers in
// JSON. The Token's String method hides the secrets.
func ExampleClient_Exchange() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"gho_16C7e42F292c6912E7710c838347Ae178B4a","token_type":"bearer","scope":"repo,gist"}`)
	}))
	defer srv.Close()

	c := &oauth.Client{}
	tok, err := c.Exchange(context.Background(), srv.URL+"/login/oauth/access_token",
		oauth.Credentials{ClientID: "Iv1.example"},
		url.Values{"grant_type": {"authorization_code"}, "code": {"the-code"}})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(tok.TokenType, tok.Scopes())
	fmt.Println(tok)
	// Output:
	// bearer [repo gist]
	// oauth.Token{type="bearer" scope="repo,gist" expires_in=0 refresh=false}
}

// GitHub answers errors with HTTP 200 and a form-encoded body; the "error"
// field makes it an *Error all the same.
func ExampleError() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		fmt.Fprint(w, "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired.")
	}))
	defer srv.Close()

	_, err := (&oauth.Client{}).Exchange(context.Background(), srv.URL, oauth.Credentials{ClientID: "Iv1.example"}, nil)
	var oe *oauth.Error
	if errors.As(err, &oe) {
		fmt.Println(oe.Code)
		fmt.Println(oe.Description)
	}
	fmt.Println(oauth.ErrorCode(err), oauth.IsTransient(err))
	// Output:
	// bad_verification_code
	// The code passed is incorrect or expired.
	// bad_verification_code false
}

// An endpoint that breaks the URL rules is refused before any request:
// plain http is allowed only on a loopback address (RFC 8252 §8.3).
func ExampleURLError() {
	_, err := (&oauth.Client{}).Exchange(context.Background(), "http://sso.example.com/token", oauth.Credentials{ClientID: "Iv1.example"}, nil)
	var ue *oauth.URLError
	if errors.As(err, &ue) {
		fmt.Println(ue.URL, ue.Problem == oauth.URLPlainHTTP)
	}
	// Output:
	// http://sso.example.com/token true
}

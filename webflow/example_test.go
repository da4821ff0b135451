package webflow_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/webflow"
)

// A loopback web-flow login against a server that behaves like GitHub. The
// "browser" is an http.Get on the authorization URL: the server approves at
// once and redirects to the flow's callback on 127.0.0.1 with a code, which
// the flow checks (state) and exchanges (with the PKCE verifier).
func ExampleConfig_Login() {
	mux := http.NewServeMux()
	mux.HandleFunc("/login/oauth/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		back := url.Values{"code": {"the-code"}, "state": {q.Get("state")}}
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+back.Encode(), http.StatusFound)
	})
	mux.HandleFunc("/login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("code") != "the-code" || r.PostFormValue("code_verifier") == "" {
			http.Error(w, `{"error":"bad_verification_code"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"gho_16C7e42F292c6912E7710c838347Ae178B4a","token_type":"bearer","scope":"repo"}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	cfg := &webflow.Config{
		Credentials:  oauth.Credentials{ClientID: "Iv1.example", ClientSecret: "example-secret"},
		AuthorizeURL: srv.URL + "/login/oauth/authorize",
		TokenURL:     srv.URL + "/login/oauth/access_token",
		Scopes:       []string{"repo"},
		Timeout:      time.Minute,
		Opener: webflow.OpenerFunc(func(u string) error {
			resp, err := http.Get(u)
			if err != nil {
				return err
			}
			return resp.Body.Close()
		}),
		OnEvent: func(e webflow.Event) {
			if e.Kind == webflow.KindCallback {
				fmt.Println("the browser came back with a code")
			}
		},
	}
	tok, err := cfg.Login(context.Background())
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println("token type:", tok.TokenType, "scopes:", tok.Scopes())
	// Output:
	// the browser came back with a code
	// token type: bearer scopes: [repo]
}

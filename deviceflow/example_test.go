package deviceflow_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/ghlogin/ghlogin/deviceflow"
	"github.com/ghlogin/ghlogin/oauth"
)

// instant is a clock that never waits: Sleep moves its time forward and
// returns. It lets this example poll at once; programs leave Config.Clock
// nil and wait for real.
type instant struct{ now time.Time }

func (c *instant) Now() time.Time { return c.now }

func (c *instant) Sleep(ctx context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return ctx.Err()
}

// A device-flow login against a server that behaves like GitHub: it hands
// out a code, answers authorization_pending once, then the token. The
// person would open the verification URL and type the user code; here
// the server approves on the second poll.
func ExampleConfig_Login() {
	var polls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/login/device/code", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"device_code":"3584d83530557fdd1f46af8289938c8ef79f9dc5","user_code":"WDJB-MJHT",`+
			`"verification_uri":"https://github.com/login/device","expires_in":900,"interval":5}`)
	})
	mux.HandleFunc("/login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if polls.Add(1) == 1 {
			fmt.Fprint(w, `{"error":"authorization_pending"}`)
			return
		}
		fmt.Fprint(w, `{"access_token":"gho_16C7e42F292c6912E7710c838347Ae178B4a","token_type":"bearer","scope":"repo"}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	cfg := &deviceflow.Config{
		Credentials:   oauth.Credentials{ClientID: "Iv1.example"},
		DeviceCodeURL: srv.URL + "/login/device/code",
		TokenURL:      srv.URL + "/login/oauth/access_token",
		Scopes:        []string{"repo"},
		Clock:         &instant{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)},
		OnEvent: func(e deviceflow.Event) {
			switch e.Kind {
			case deviceflow.KindCode:
				fmt.Printf("open %s and enter %s\n", e.Code.VerificationURI, e.Code.UserCode)
			default:
				fmt.Println(e.Kind)
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
	// open https://github.com/login/device and enter WDJB-MJHT
	// pending
	// success
	// token type: bearer scopes: [repo]
}

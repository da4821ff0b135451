package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
)

// Scopes that break the grammar are dropped, not cleaned: what is stored
// and shown is only what the grammar allows.
func TestSplitScopesDropsInvalid(t *testing.T) {
	got := SplitScopes("repo,\x1b[2Jgist read:org \u202eevil\tworkflow,\"x\"")
	want := []string{"repo", "read:org", "workflow"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("SplitScopes = %q, want %q", got, want)
	}
	tok := Token{Scope: "\x1b]52;c;ZXZpbA==\x07"}
	if s := tok.Scopes(); s != nil {
		t.Fatalf("Scopes = %q, want none", s)
	}
}

// An error code outside RFC 6749's grammar becomes InvalidErrorCode; the
// description and URI are cleaned with safe.Short.
func TestErrorCodeGrammar(t *testing.T) {
	for _, code := range []string{"\x1b]52;c;ZXZpbA==\x07access_denied", "denied\u202e", "x\u009b2J", "quote\"", "a\nb"} {
		body := `{"error":` + jsonString(code) + `,"error_description":"\u001b[31mred\u001b[0m \u202eevil \u009d0;title\u0007"}`
		srv, _ := serve(t, answer(400, "application/json", body))
		_, err := (&Client{}).Exchange(context.Background(), srv.URL, Credentials{ClientID: "c"}, nil)
		var oe *Error
		if !errors.As(err, &oe) {
			t.Fatalf("%q: err = %v", code, err)
		}
		if oe.Code != InvalidErrorCode {
			t.Errorf("%q: Code = %q, want %q", code, oe.Code, InvalidErrorCode)
		}
		if oe.Description != "red evil " {
			t.Errorf("%q: Description = %q", code, oe.Description)
		}
		if ErrorCode(err) != InvalidErrorCode {
			t.Errorf("ErrorCode = %q", ErrorCode(err))
		}
	}
}

func jsonString(s string) string {
	b := []byte{'"'}
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20 || r >= 0x7f:
			b = append(b, []byte(`\u`+hex4(r))...)
		default:
			b = append(b, byte(r))
		}
	}
	return string(append(b, '"'))
}

func hex4(r rune) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[r>>12&15], digits[r>>8&15], digits[r>>4&15], digits[r&15]})
}

// A token endpoint that redirects gets nothing a second time: the POST (with
// the client secret and the code) is never resent, and the error is the
// policy's, not a network error to retry.
func TestPostNeverFollowsRedirects(t *testing.T) {
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer other.Close()
	for _, status := range []int{301, 302, 307, 308} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/collect", status)
		}))
		// The caller's client may follow anything; the policy still applies.
		c := &Client{HTTPClient: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}}
		_, err := c.Exchange(context.Background(), srv.URL+"/token", Credentials{ClientID: "id", ClientSecret: "canary-secret"},
			url.Values{"code": {"canary-code"}})
		srv.Close()
		var re *safehttp.RedirectError
		if !errors.As(err, &re) || !re.Secret || re.LocationHost != other.Listener.Addr().String() {
			t.Fatalf("%d: err = %v, want a *safehttp.RedirectError naming %s", status, err, other.Listener.Addr())
		}
		if IsTransient(err) || ErrorCode(err) != "network" {
			t.Errorf("%d: a refused redirect is transient (%v) or coded %q", status, IsTransient(err), ErrorCode(err))
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the other server received %d requests", n)
	}
}

package oauth

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
)

func TestExchangeScopeOmitted(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		omitted    bool
		granted    []string
	}{
		{"absent", `{"access_token":"a","token_type":"Bearer"}`, true, []string{"openid", "profile"}},
		{"empty", `{"access_token":"a","token_type":"Bearer","scope":""}`, false, nil},
		{"narrower", `{"access_token":"a","token_type":"Bearer","scope":"openid"}`, false, []string{"openid"}},
		{"form, absent", `access_token=a&token_type=bearer`, true, []string{"openid", "profile"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := "application/json"
			if strings.HasPrefix(tc.name, "form") {
				ct = "application/x-www-form-urlencoded"
			}
			srv, _ := serve(t, answer(200, ct, tc.body))
			tok, err := (&Client{}).Exchange(context.Background(), srv.URL, Credentials{ClientID: "id"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tok.ScopeOmitted != tc.omitted {
				t.Errorf("ScopeOmitted = %v, want %v", tok.ScopeOmitted, tc.omitted)
			}
			requested := []string{"openid", "profile"}
			if got := tok.GrantedScopes(requested); !reflect.DeepEqual(got, tc.granted) {
				t.Errorf("GrantedScopes = %q, want %q", got, tc.granted)
			}
			if tc.omitted {
				g := tok.GrantedScopes(requested)
				g[0] = "changed"
				if requested[0] != "openid" {
					t.Error("GrantedScopes returned the caller's slice")
				}
			}
		})
	}
}

func TestSameScopes(t *testing.T) {
	for _, tc := range []struct {
		a, b []string
		want bool
	}{
		{nil, nil, true},
		{[]string{"a", "b"}, []string{"b", "a"}, true},
		{[]string{"a", "a", "b"}, []string{"b", "a"}, true},
		{[]string{"a"}, []string{"a", "b"}, false},
		{[]string{"a", "c"}, []string{"a", "b"}, false},
		{nil, []string{"a"}, false},
	} {
		if got := SameScopes(tc.a, tc.b); got != tc.want {
			t.Errorf("SameScopes(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func TestIDTokenTimes(t *testing.T) {
	jwt := func(payload string) string {
		return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
	}
	iat, exp := IDTokenTimes(jwt(`{"iss":"https://x","iat":1700000000,"exp":1700003600}`))
	if !iat.Equal(time.Unix(1700000000, 0)) || !exp.Equal(time.Unix(1700003600, 0)) || exp.Location() != time.UTC {
		t.Errorf("times = %v, %v", iat, exp)
	}
	for _, bad := range []string{"", "abc", "a.b", jwt(`not json`), jwt(`{"exp":-5}`), jwt(`{"exp":"soon"}`), "a.!!!.c"} {
		if iat, exp := IDTokenTimes(bad); !iat.IsZero() || !exp.IsZero() {
			t.Errorf("IDTokenTimes(%q) = %v, %v; want zero", bad, iat, exp)
		}
	}
}

func TestRevoke(t *testing.T) {
	srv, got := serve(t, answer(200, "", ""))
	err := (&Client{}).Revoke(context.Background(), srv.URL+"/revoke", Credentials{ClientID: "cli", ClientSecret: "s3", Style: AuthBasic}, secretToken, HintRefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	s := got()[0]
	if s.method != http.MethodPost || s.form.Get("token") != secretToken || s.form.Get("token_type_hint") != "refresh_token" ||
		!s.basic || s.user != "cli" || s.pass != "s3" || s.form.Has("client_secret") {
		t.Errorf("request = %+v", s)
	}
	// A public client sends its client_id in the body, as at the token endpoint.
	srv, got = serve(t, answer(200, "application/json", `{}`))
	if err := (&Client{}).Revoke(context.Background(), srv.URL, Credentials{ClientID: "pub"}, secretToken, ""); err != nil {
		t.Fatal(err)
	}
	if s := got()[0]; s.form.Get("client_id") != "pub" || s.form.Has("token_type_hint") || s.basic {
		t.Errorf("request = %+v", s)
	}
	// A success whose body is not an OAuth reply is still a success (RFC 7009 §2.2).
	srv, _ = serve(t, answer(200, "text/html", "<p>ok</p>"))
	if err := (&Client{}).Revoke(context.Background(), srv.URL, Credentials{ClientID: "pub"}, secretToken, ""); err != nil {
		t.Fatal(err)
	}
}

func TestRevokeErrors(t *testing.T) {
	srv, _ := serve(t, answer(400, "application/json", `{"error":"unsupported_token_type"}`))
	err := (&Client{}).Revoke(context.Background(), srv.URL, Credentials{ClientID: "pub"}, secretToken, HintAccessToken)
	var oe *Error
	if !errors.As(err, &oe) || oe.Code != "unsupported_token_type" {
		t.Fatalf("err = %v", err)
	}
	srv, _ = serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(503)
	})
	err = (&Client{}).Revoke(context.Background(), srv.URL, Credentials{ClientID: "pub"}, secretToken, "")
	if !IsTransient(err) || RetryAfter(err) != 7*time.Second {
		t.Fatalf("err = %v", err)
	}
	if err := (&Client{}).Revoke(context.Background(), "http://example.com/revoke", Credentials{}, secretToken, ""); !errors.As(err, new(*safe.URLError)) {
		t.Fatalf("plain http off loopback: %v", err)
	}
	if err := (&Client{}).Revoke(context.Background(), srv.URL, Credentials{}, "", ""); err == nil {
		t.Fatal("no token: no error")
	}
	for _, e := range []error{err} {
		if e != nil && strings.Contains(e.Error(), secretToken) {
			t.Errorf("the token is in %q", e)
		}
	}
}

// A revocation carries the token: it never follows a redirect, even with a
// caller's client that would.
func TestRevokeNoRedirect(t *testing.T) {
	var hits atomic.Int32
	target, _ := serve(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	for _, status := range []int{301, 302, 307, 308} {
		srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/revoke", status)
		})
		c := &Client{HTTPClient: &http.Client{}}
		err := c.Revoke(context.Background(), srv.URL, Credentials{ClientID: "pub"}, secretToken, "")
		if !safehttp.IsRedirectRefused(err) {
			t.Errorf("%d: err = %v, want a refused redirect", status, err)
		}
		if err != nil && strings.Contains(err.Error(), secretToken) {
			t.Errorf("the token is in %q", err)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the redirect target got %d requests", hits.Load())
	}
}

package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/safe"
)

func TestKind(t *testing.T) {
	for _, tc := range []struct {
		h    *Host
		want Kind
	}{
		{nil, KindGitHub},
		{&Host{}, KindGitHub},
		{&Host{APIURL: "https://ghe.example.com/api/v3", ClientID: "x"}, KindGitHub},
		{&Host{TokenURL: "https://sso.example.com/token"}, KindOAuth},
		{&Host{UserInfoURL: "https://sso.example.com/me"}, KindOAuth},
		{&Host{Issuer: "https://sso.example.com", TokenURL: "https://sso.example.com/token"}, KindOIDC},
	} {
		if got := tc.h.Kind(); got != tc.want {
			t.Errorf("%+v.Kind() = %v, want %v", tc.h, got, tc.want)
		}
	}
	if KindGitHub.String() != "github" || KindOIDC.String() != "oidc" || KindOAuth.String() != "oauth" {
		t.Error("Kind.String")
	}
}

func TestDefaultScopesFor(t *testing.T) {
	for _, tc := range []struct {
		kind      Kind
		supported []string
		want      []string
	}{
		{KindGitHub, nil, []string{"repo", "read:org", "gist"}},
		{KindGitHub, []string{"openid"}, []string{"repo", "read:org", "gist"}},
		{KindOIDC, nil, []string{"openid", "profile", "email", "offline_access"}},
		{KindOIDC, []string{"openid", "email", "groups", "offline_access"}, []string{"openid", "email", "offline_access"}},
		{KindOIDC, []string{"openid"}, []string{"openid"}},
		{KindOAuth, nil, nil},
	} {
		got := DefaultScopesFor(tc.kind, tc.supported)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("DefaultScopesFor(%v, %q) = %q, want %q", tc.kind, tc.supported, got, tc.want)
		}
		if len(got) > 0 {
			got[0] = "changed"
		}
	}
	if DefaultScopes[0] != "repo" || OIDCScopes[0] != "openid" {
		t.Error("DefaultScopesFor returned a package slice")
	}
}

func TestIssuerSetting(t *testing.T) {
	f := New()
	if err := f.Set("sso.example.com", "issuer", "https://sso.example.com/dex"); err != nil {
		t.Fatal(err)
	}
	hc := f.Host("sso.example.com")
	if hc.Issuer != "https://sso.example.com/dex" || hc.Kind() != KindOIDC {
		t.Fatalf("%+v", hc)
	}
	// The host name implies no endpoint: they come from discovery.
	h, _ := hosts.Parse("sso.example.com")
	if ep := hc.Endpoints(h); ep != (hosts.Endpoints{}) {
		t.Errorf("Endpoints = %+v, want none", ep)
	}
	// The scopes default follows the kind.
	for _, r := range f.List("sso.example.com") {
		if r.Key == "scopes" && r.Default != "openid,profile,email,offline_access" {
			t.Errorf("scopes default = %q", r.Default)
		}
		if r.Key == "token_url" && r.Default != "" {
			t.Errorf("token_url default = %q", r.Default)
		}
	}
	hc.TokenURL = "https://sso.example.com/override/token"
	if ep := hc.Endpoints(h); ep.TokenURL != hc.TokenURL || ep.DeviceCodeURL != "" || ep.UserInfoURL != "" {
		t.Errorf("Endpoints = %+v, want the override only", ep)
	}

	// A loopback issuer on http makes its host http.
	if err := f.Set("127.0.0.1:8080", "issuer", "http://127.0.0.1:8080"); err != nil {
		t.Fatal(err)
	}
	if got := f.Host("127.0.0.1:8080").Protocol; got != "http" {
		t.Errorf("protocol = %q", got)
	}

	for _, tc := range []struct{ host, value, want string }{
		{"other.example.com", "https://sso.example.com", "the issuer's host is sso.example.com, not other.example.com"},
		{"sso.example.com", "https://sso.example.com/?tenant=a", "no query"},
		{"sso.example.com", "https://sso.example.com?", "no query"},
		{"sso.example.com", "http://sso.example.com", "loopback"},
		{"sso.example.com", "https://sso.example.com/#x", "fragment"},
		{"sso.example.com:8443", "https://sso.example.com", "not sso.example.com:8443"},
	} {
		err := New().Set(tc.host, "issuer", tc.value)
		var iv *InvalidValueError
		if !errors.As(err, &iv) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Set(%s, issuer, %q) = %v, want %q", tc.host, tc.value, err, tc.want)
		}
	}
	var ue *safe.URLError
	if _, err := CheckIssuer("http://example.com"); !errors.As(err, &ue) || ue.Problem != safe.PlainHTTP {
		t.Errorf("CheckIssuer(http) = %v", err)
	}
	var ie *IssuerError
	if _, err := CheckIssuer("https://example.com/?a"); !errors.As(err, &ie) {
		t.Errorf("CheckIssuer(query) = %v", err)
	}
}

func TestDirOfNewFile(t *testing.T) {
	if New().Dir() != "" || (*File)(nil).Dir() != "" {
		t.Error("Dir of a file not loaded")
	}
	dir := t.TempDir()
	f, err := Load(dir)
	if err != nil || f.Dir() != dir {
		t.Errorf("Load of a missing file: Dir() = %q, %v", f.Dir(), err)
	}
}

package hosts

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		in     string
		name   string
		scheme string
	}{
		// Bare names: https implied.
		{"github.com", "github.com", "https"},
		{"GitHub.COM", "github.com", "https"},
		{"  github.com  ", "github.com", "https"},
		{"", "github.com", "https"},
		{"ghe.example.com", "ghe.example.com", "https"},
		{"GHE.Example.Com", "ghe.example.com", "https"},
		{"git_hub-1.example.com", "git_hub-1.example.com", "https"},
		{"127.0.0.1:8787", "127.0.0.1:8787", "https"},
		{"[::1]:8787", "[::1]:8787", "https"},
		{"[::1]", "[::1]", "https"},
		{"localhost:8080", "localhost:8080", "https"},
		{"ghe.example.com:8443", "ghe.example.com:8443", "https"},
		{"ghe.example.com:08443", "ghe.example.com:8443", "https"},
		// URLs.
		{"https://ghe.example.com", "ghe.example.com", "https"},
		{"https://ghe.example.com/", "ghe.example.com", "https"},
		{"HTTPS://GHE.example.com", "ghe.example.com", "https"},
		{"http://127.0.0.1:8787", "127.0.0.1:8787", "http"},
		{"http://127.0.0.1:8787/", "127.0.0.1:8787", "http"},
		{"http://[::1]:8787", "[::1]:8787", "http"},
		{"http://localhost:8080", "localhost:8080", "http"},
		{"http://LOCALHOST", "localhost", "http"},
		{"http://127.0.0.2:9000", "127.0.0.2:9000", "http"},
		{"https://[2001:db8::1]:8443", "[2001:db8::1]:8443", "https"},
		// Default port dropped, as git names the host.
		{"github.com:443", "github.com", "https"},
		{"https://x:443", "x", "https"},
		{"https://ghe.example.com:443/", "ghe.example.com", "https"},
		{"http://127.0.0.1:80", "127.0.0.1", "http"},
		{"[::1]:443", "[::1]", "https"},
		// https keeps port 80, http keeps port 443: only the scheme's own default goes.
		{"ghe.example.com:80", "ghe.example.com:80", "https"},
		{"http://127.0.0.1:443", "127.0.0.1:443", "http"},
		// Trailing dot (fully qualified name) dropped.
		{"github.com.", "github.com", "https"},
		{"ghe.example.com.:8443", "ghe.example.com:8443", "https"},
		{"https://github.com.", "github.com", "https"},
		{"http://localhost.:8080", "localhost:8080", "http"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			h, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if h.Name != tt.name || h.Scheme != tt.scheme {
				t.Fatalf("Parse(%q) = {%q %q}, want {%q %q}", tt.in, h.Name, h.Scheme, tt.name, tt.scheme)
			}
			if h.String() != tt.name {
				t.Errorf("String() = %q, want %q", h.String(), tt.name)
			}
			if want := tt.scheme + "://" + tt.name; h.URL() != want {
				t.Errorf("URL() = %q, want %q", h.URL(), want)
			}
			// Parsing is idempotent: the URL of a host parses back to it.
			again, err := Parse(h.URL())
			if err != nil || again != h {
				t.Errorf("Parse(%q) = %+v, %v; want %+v", h.URL(), again, err, h)
			}
		})
	}
}

func TestParseRefusesHTTPForNonLoopback(t *testing.T) {
	for _, in := range []string{
		"http://example.com",
		"http://ghe.example.com:8080",
		"http://10.0.0.1",
		"http://10.0.0.1:8787",
		"http://192.168.1.1",
		"http://[2001:db8::1]:8080",
		"http://localhost.evil.io",
		"http://127.0.0.1.evil.io",
		"http://0.0.0.0:8787",
	} {
		t.Run(in, func(t *testing.T) {
			h, err := Parse(in)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", in, h)
			}
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("error %T is not *hosts.Error", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "loopback") || !strings.Contains(msg, "https://") {
				t.Errorf("message %q should say http is for loopback only and suggest https://", msg)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		in   string
		want string // a piece of the reason the user sees
	}{
		// Other schemes.
		{"ftp://ghe.example.com", "only https://"},
		{"ssh://github.com", "only https://"},
		{"file:///etc/passwd", "only https://"},
		{"://github.com", "not a valid URL"},
		// Paths, queries, fragments, user info.
		{"https://ghe.example.com/api/v3", "without a path"},
		{"https://github.com/evil", "without a path"},
		{"https://ghe.example.com/%2f", "without a path"},
		{"https://ghe.example.com//", "without a path"},
		{"https://ghe.example.com?x=1", "without a path"},
		{"https://ghe.example.com?", "without a path"},
		{"https://ghe.example.com#top", "without a path"},
		{"https://ghe.example.com#", "without a path"},
		{"https://user@ghe.example.com", "user name"},
		{"https://user:pass@ghe.example.com", "user name"},
		{"https://github.com@evil.io", "user name"},
		{"https://", "empty"},
		// Bare names with URL-ish parts.
		{"github.com/evil", `'/'`},
		{"github.com@evil.io", `'@'`},
		{"evil.io#github.com", `'#'`},
		{"evil.io?github.com", `'?'`},
		{`evil.io\github.com`, `'\\'`},
		{"github.com%2f@evil.io", `'%'`},
		// Spaces and control characters.
		{"git hub.com", `' '`},
		{"github.com\x00", "contains"},
		{"git\nhub.com", "contains"},
		{"git\thub.com", "contains"},
		{"github.com\x7f", "contains"},
		{"https://git hub.com", "not a valid URL"},
		{"https://github.com\x00", "not a valid URL"},
		// Non-ASCII look-alikes (Cyrillic і, fullwidth dot).
		{"gіthub.com", "contains"},
		{"github\uff0ecom", "contains"},
		// Ports.
		{"github.com:0", "out of range"},
		{"github.com:00000", "out of range"},
		{"github.com:65536", "out of range"},
		{"github.com:99999999999999999999", "out of range"},
		{"github.com:abc", "not a number"},
		{"github.com:-1", "not a number"},
		{"github.com:+443", "not a number"},
		{"[::1]:0", "out of range"},
		{"[::1]:x", "not a number"},
		{"https://github.com:65536", "out of range"},
		{"https://github.com:abc", "not a valid URL"},
		// IPv6 without brackets, malformed brackets.
		{"::1", "brackets"},
		{"::1:8787", "brackets"},
		{"2001:db8::1", "brackets"},
		{"[::1", "unbalanced"},
		{"[::1]8787", "after the IPv6"},
		{"[]", "IPv6"},
		{"[github.com]", "IPv6"},
		{"[::1]]", "after the IPv6"},
		// Empty or overlong labels.
		{".", "empty"},
		{":8787", "empty"},
		{".github.com", "label"},
		{"github..com", "label"},
		{"github.com..", "label"},
		{strings.Repeat("a", 64) + ".com", "label"},
		{strings.Repeat("a.", 127) + "com", "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			h, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tt.in, h)
			}
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("error %T is not *hosts.Error", err)
			}
			if he.Reason == "" {
				t.Errorf("empty reason")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "invalid host ") {
				t.Errorf("message %q should start with %q", msg, "invalid host ")
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("message %q should contain %q", msg, tt.want)
			}
			// The input is quoted, so control characters cannot reach a terminal raw.
			if strings.ContainsAny(msg, "\x00\n\t\x7f") {
				t.Errorf("message %q contains a raw control character", msg)
			}
		})
	}
}

func TestParseLabelLengthLimits(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	if _, err := Parse(label63 + ".com"); err != nil {
		t.Errorf("a 63-character label should be accepted: %v", err)
	}
	// 253 characters is the longest DNS name.
	name := strings.Repeat("a.", 125) + "com" // 250 + 3 = 253
	if len(name) != 253 {
		t.Fatalf("bad fixture length %d", len(name))
	}
	if h, err := Parse(name); err != nil || h.Name != name {
		t.Errorf("Parse(253 chars) = %+v, %v", h, err)
	}
	if _, err := Parse("a" + name); err == nil {
		t.Errorf("a 254-character name should be refused")
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, scheme, want string
	}{
		{"GitHub.com", "", "github.com"},
		{"github.com:443", "", "github.com"},
		{"github.com:443", "https", "github.com"},
		{"github.com:443", "HTTPS", "github.com"},
		{"github.com:443", "http", "github.com:443"},
		{"127.0.0.1:80", "http", "127.0.0.1"},
		{"127.0.0.1:80", "https", "127.0.0.1:80"},
		{"127.0.0.1:8787", "http", "127.0.0.1:8787"},
		{"[::1]:8787", "http", "[::1]:8787"},
		{"[::1]:80", "http", "[::1]"},
		{"ghe.example.com.", "", "ghe.example.com"},
		{" ghe.example.com ", "", "ghe.example.com"},
		// Invalid names normalize to "".
		{"", "", ""},
		{"github.com/evil", "", ""},
		{"github.com@evil.io", "", ""},
		{"::1", "", ""},
		{"github.com:0", "", ""},
		{"github.com:65536", "", ""},
		{"git hub.com", "", ""},
		{"https://github.com", "", ""},
	}
	for _, tt := range tests {
		if got := Normalize(tt.name, tt.scheme); got != tt.want {
			t.Errorf("Normalize(%q, %q) = %q, want %q", tt.name, tt.scheme, got, tt.want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.0.0.1:8787", true},
		{"127.1.2.3:1", true},
		{"localhost", true},
		{"LocalHost:8080", true},
		{"[::1]", true},
		{"[::1]:8787", true},
		{"::1", true},
		{"[::ffff:127.0.0.1]:8787", true},
		{"", false},
		{"github.com", false},
		{"example.com:80", false},
		{"10.0.0.1", false},
		{"10.0.0.1:8787", false},
		{"0.0.0.0", false},
		{"[::]:8787", false},
		{"[2001:db8::1]:8787", false},
		{"localhost.evil.io", false},
		{"127.0.0.1.evil.io", false},
		{"evil-localhost", false},
	}
	for _, tt := range tests {
		if got := IsLoopback(tt.in); got != tt.want {
			t.Errorf("IsLoopback(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestIsGitHub(t *testing.T) {
	for in, want := range map[string]bool{
		"github.com":          true,
		"GITHUB.COM:443":      true,
		"https://github.com/": true,
		"github.com:8443":     false,
		"ghe.example.com":     false,
		"github.com.evil.io":  false,
		"api.github.com":      false,
	} {
		h, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if h.IsGitHub() != want {
			t.Errorf("Parse(%q).IsGitHub() = %v, want %v", in, h.IsGitHub(), want)
		}
	}
}

func mustParse(t *testing.T, s string) Host {
	t.Helper()
	h, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return h
}

func TestEndpointsGitHub(t *testing.T) {
	want := Endpoints{
		DeviceCodeURL: "https://github.com/login/device/code",
		AuthorizeURL:  "https://github.com/login/oauth/authorize",
		TokenURL:      "https://github.com/login/oauth/access_token",
		APIURL:        "https://api.github.com",
		UserInfoURL:   "https://api.github.com/user",
		LoginField:    "login",
	}
	for _, in := range []string{"github.com", "GitHub.com", "https://github.com", "github.com:443", "github.com."} {
		if got := mustParse(t, in).Endpoints(Endpoints{}); got != want {
			t.Errorf("Parse(%q).Endpoints() =\n%+v\nwant\n%+v", in, got, want)
		}
	}
}

func TestEndpointsGHESFromHostname(t *testing.T) {
	tests := []struct {
		in   string
		want Endpoints
	}{
		{"ghe.example.com", Endpoints{
			DeviceCodeURL: "https://ghe.example.com/login/device/code",
			AuthorizeURL:  "https://ghe.example.com/login/oauth/authorize",
			TokenURL:      "https://ghe.example.com/login/oauth/access_token",
			APIURL:        "https://ghe.example.com/api/v3",
			UserInfoURL:   "https://ghe.example.com/api/v3/user",
			LoginField:    "login",
		}},
		{"https://GHE.Example.com:8443/", Endpoints{
			DeviceCodeURL: "https://ghe.example.com:8443/login/device/code",
			AuthorizeURL:  "https://ghe.example.com:8443/login/oauth/authorize",
			TokenURL:      "https://ghe.example.com:8443/login/oauth/access_token",
			APIURL:        "https://ghe.example.com:8443/api/v3",
			UserInfoURL:   "https://ghe.example.com:8443/api/v3/user",
			LoginField:    "login",
		}},
		// A github.com look-alike with a port is not github.com.
		{"github.com:8443", Endpoints{
			DeviceCodeURL: "https://github.com:8443/login/device/code",
			AuthorizeURL:  "https://github.com:8443/login/oauth/authorize",
			TokenURL:      "https://github.com:8443/login/oauth/access_token",
			APIURL:        "https://github.com:8443/api/v3",
			UserInfoURL:   "https://github.com:8443/api/v3/user",
			LoginField:    "login",
		}},
		// The emulator on loopback over http.
		{"http://127.0.0.1:8787", Endpoints{
			DeviceCodeURL: "http://127.0.0.1:8787/login/device/code",
			AuthorizeURL:  "http://127.0.0.1:8787/login/oauth/authorize",
			TokenURL:      "http://127.0.0.1:8787/login/oauth/access_token",
			APIURL:        "http://127.0.0.1:8787/api/v3",
			UserInfoURL:   "http://127.0.0.1:8787/api/v3/user",
			LoginField:    "login",
		}},
		{"http://[::1]:8787", Endpoints{
			DeviceCodeURL: "http://[::1]:8787/login/device/code",
			AuthorizeURL:  "http://[::1]:8787/login/oauth/authorize",
			TokenURL:      "http://[::1]:8787/login/oauth/access_token",
			APIURL:        "http://[::1]:8787/api/v3",
			UserInfoURL:   "http://[::1]:8787/api/v3/user",
			LoginField:    "login",
		}},
	}
	for _, tt := range tests {
		if got := mustParse(t, tt.in).Endpoints(Endpoints{}); got != tt.want {
			t.Errorf("Parse(%q).Endpoints() =\n%+v\nwant\n%+v", tt.in, got, tt.want)
		}
	}
}

func TestEndpointsOverrides(t *testing.T) {
	ghes := mustParse(t, "ghe.example.com")
	base := ghes.Endpoints(Endpoints{})
	tests := []struct {
		name     string
		override Endpoints
		change   func(*Endpoints)
	}{
		{"device_code_url", Endpoints{DeviceCodeURL: "https://idp.example/device"},
			func(e *Endpoints) { e.DeviceCodeURL = "https://idp.example/device" }},
		{"authorize_url", Endpoints{AuthorizeURL: "https://idp.example/auth"},
			func(e *Endpoints) { e.AuthorizeURL = "https://idp.example/auth" }},
		{"token_url", Endpoints{TokenURL: "https://idp.example/token"},
			func(e *Endpoints) { e.TokenURL = "https://idp.example/token" }},
		{"api_url derives userinfo", Endpoints{APIURL: "https://api.idp.example/v1"},
			func(e *Endpoints) {
				e.APIURL = "https://api.idp.example/v1"
				e.UserInfoURL = "https://api.idp.example/v1/user"
			}},
		{"api_url trailing slash trimmed", Endpoints{APIURL: "https://api.idp.example/v1//"},
			func(e *Endpoints) {
				e.APIURL = "https://api.idp.example/v1"
				e.UserInfoURL = "https://api.idp.example/v1/user"
			}},
		{"userinfo_url", Endpoints{UserInfoURL: "https://idp.example/userinfo"},
			func(e *Endpoints) { e.UserInfoURL = "https://idp.example/userinfo" }},
		{"userinfo_url wins over api_url", Endpoints{APIURL: "https://api.idp.example/", UserInfoURL: "https://idp.example/me"},
			func(e *Endpoints) {
				e.APIURL = "https://api.idp.example"
				e.UserInfoURL = "https://idp.example/me"
			}},
		{"login_field", Endpoints{LoginField: "preferred_username"},
			func(e *Endpoints) { e.LoginField = "preferred_username" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := base
			tt.change(&want)
			if got := ghes.Endpoints(tt.override); got != want {
				t.Errorf("Endpoints(%+v) =\n%+v\nwant\n%+v", tt.override, got, want)
			}
		})
	}

	// Everything overridden: a generic OAuth server (Keycloak-style).
	all := Endpoints{
		DeviceCodeURL: "http://127.0.0.1:9000/realms/r/protocol/openid-connect/auth/device",
		AuthorizeURL:  "http://127.0.0.1:9000/realms/r/protocol/openid-connect/auth",
		TokenURL:      "http://127.0.0.1:9000/realms/r/protocol/openid-connect/token",
		APIURL:        "http://127.0.0.1:9000/realms/r",
		UserInfoURL:   "http://127.0.0.1:9000/realms/r/protocol/openid-connect/userinfo",
		LoginField:    "sub",
	}
	if got := mustParse(t, "http://127.0.0.1:9000").Endpoints(all); got != all {
		t.Errorf("fully overridden Endpoints =\n%+v\nwant\n%+v", got, all)
	}

	// github.com's API can be overridden too (for example a proxy).
	gh := mustParse(t, "github.com").Endpoints(Endpoints{APIURL: "https://proxy.example/github/"})
	if gh.APIURL != "https://proxy.example/github" || gh.UserInfoURL != "https://proxy.example/github/user" ||
		gh.TokenURL != "https://github.com/login/oauth/access_token" {
		t.Errorf("github.com with api_url override = %+v", gh)
	}
}

// A host's --host value keeps http:// for a plain-http host, and the bare
// name (https implied) for every other: parsing the value gives the host
// back.
func TestArgRoundTrips(t *testing.T) {
	for _, in := range []string{"github.com", "ghe.example.com:8443", "http://127.0.0.1:8787", "http://localhost:9000", "https://127.0.0.1:8443", "http://[::1]:8787"} {
		h, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		back, err := Parse(h.Arg())
		if err != nil || back != h {
			t.Errorf("Parse(%q).Arg() = %q, which parses to %+v (%v); want %+v", in, h.Arg(), back, err, h)
		}
	}
	if got := Arg("127.0.0.1:8787", "http"); got != "http://127.0.0.1:8787" {
		t.Errorf("Arg(http) = %q", got)
	}
	if got := Arg("127.0.0.1:8787", "https"); got != "127.0.0.1:8787" {
		t.Errorf("Arg(https) = %q", got)
	}
}

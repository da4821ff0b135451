package config

import (
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/safe"
)

// tomlNames returns the toml names of t's fields, except those in skip.
func tomlNames(t reflect.Type, skip ...string) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
		if name != "" && !slices.Contains(skip, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// TestSettingsTableIsComplete checks that every row of the table has all it
// needs, and that the table and the file's fields name the same settings:
// adding a setting is adding a row and its field, nothing else.
func TestSettingsTableIsComplete(t *testing.T) {
	seen := map[string]bool{}
	sawGlobal := false
	for _, s := range settings {
		if s.Name == "" || seen[s.Name] {
			t.Errorf("setting %q: empty or duplicate name", s.Name)
		}
		seen[s.Name] = true
		if s.Help == "" || s.Example == "" {
			t.Errorf("setting %q has no help or no example", s.Name)
		}
		if s.get == nil || s.set == nil || s.unset == nil || s.def == nil {
			t.Errorf("setting %q lacks get, set, unset or def", s.Name)
		}
		if sawGlobal && !s.Global {
			t.Errorf("per-host setting %q comes after a global one", s.Name)
		}
		sawGlobal = sawGlobal || s.Global
	}
	if got, want := HostKeys(), tomlNames(reflect.TypeOf(Host{}), "active", "accounts", "owner_bindings", "dir_bindings", "git_use_http_path_set"); !reflect.DeepEqual(sorted(got), want) {
		t.Errorf("per-host settings %v, but Host's fields are %v", sorted(got), want)
	}
	if got, want := GlobalKeys(), tomlNames(reflect.TypeOf(File{}), "hosts"); !reflect.DeepEqual(sorted(got), want) {
		t.Errorf("global settings %v, but File's fields are %v", sorted(got), want)
	}
	if !slices.Equal(KeyNames(), append(HostKeys(), GlobalKeys()...)) {
		t.Errorf("KeyNames %v is not HostKeys then GlobalKeys", KeyNames())
	}
	for _, k := range Keys() {
		if got, err := LookupKey(k.Name); err != nil || !reflect.DeepEqual(got, k) {
			t.Errorf("LookupKey(%q) = %+v, %v", k.Name, got, err)
		}
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// wantDefaults are the defaults List shows for ghe.example.com.
var wantDefaults = map[string]string{
	"protocol":        "https",
	"client_id":       "",
	"client_secret":   "",
	"scopes":          "repo,read:org,gist",
	"store":           "keyring",
	"device_code_url": "https://ghe.example.com/login/device/code",
	"authorize_url":   "https://ghe.example.com/login/oauth/authorize",
	"token_url":       "https://ghe.example.com/login/oauth/access_token",
	"api_url":         "https://ghe.example.com/api/v3",
	"userinfo_url":    "https://ghe.example.com/api/v3/user",
	"login_field":     "login",
	"client_auth":     "body",
	"pkce":            "true",
	"callback_port":   "",
	"git_prompt":      "true",
	"keyring_timeout": "3s",
}

// TestEverySettingRoundTrips takes each key of the table through Set, Get,
// Save and Load, List and Unset, using the key's own example value.
func TestEverySettingRoundTrips(t *testing.T) {
	for _, k := range Keys() {
		t.Run(k.Name, func(t *testing.T) {
			host := "ghe.example.com"
			if k.Name == "issuer" {
				host = "sso.example.com" // an issuer belongs to its own host
			}
			f := New()
			rowOf := func(f *File) Setting {
				t.Helper()
				for _, r := range f.List(host) {
					if r.Key == k.Name {
						return r
					}
				}
				t.Fatalf("List(%q) has no %s row", host, k.Name)
				return Setting{}
			}
			before := rowOf(f)
			if before.IsSet || before.Value != "" {
				t.Errorf("unset row = %+v", before)
			}
			if want, ok := wantDefaults[k.Name]; ok && before.Default != want {
				t.Errorf("default = %q, want %q", before.Default, want)
			}
			if before.Default != "" {
				// A default is a value the setting accepts.
				if err := New().Set(host, k.Name, before.Default); err != nil {
					t.Errorf("the default %q is refused: %v", before.Default, err)
				}
			}

			if err := f.Set(host, k.Name, "  "+k.Example+" "); err != nil {
				t.Fatalf("Set(example %q): %v", k.Example, err)
			}
			if got, err := f.Get(host, k.Name); err != nil || got != k.Example {
				t.Errorf("Get = %q, %v; want %q", got, err, k.Example)
			}
			if !k.Global && !f.Host(host).HasSettings() {
				t.Error("HasSettings is false with the key set")
			}
			dir := t.TempDir()
			if err := f.Save(dir); err != nil {
				t.Fatal(err)
			}
			g, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := g.Get(host, k.Name); got != k.Example {
				t.Errorf("after Save and Load, Get = %q", got)
			}
			r := rowOf(g)
			want := k.Example
			if k.Secret {
				want = Mask
			}
			if !r.IsSet || r.Value != want {
				t.Errorf("List row = %+v, want value %q", r, want)
			}
			if (r.Host == "") != k.Global {
				t.Errorf("List row host %q for global=%v", r.Host, k.Global)
			}
			if k.Secret {
				for _, h := range []string{host, ""} {
					for _, row := range g.List(h) {
						if strings.Contains(row.Value, k.Example) || strings.Contains(row.Default, k.Example) {
							t.Errorf("List(%q) shows the secret: %+v", h, row)
						}
					}
				}
			}
			all := g.List("")
			if !slices.ContainsFunc(all, func(s Setting) bool { return s.Key == k.Name && s.IsSet }) {
				t.Errorf("List(\"\") lacks the set key: %+v", all)
			}

			if err := g.Unset(host, k.Name); err != nil {
				t.Fatal(err)
			}
			if got, _ := g.Get(host, k.Name); got != "" {
				t.Errorf("after Unset, Get = %q", got)
			}
			if after := rowOf(g); after != before {
				t.Errorf("after Unset, row = %+v, want %+v", after, before)
			}
			if len(g.Hosts) != 0 || g.KeyringTimeout != 0 {
				t.Errorf("after Unset the file still holds something: %+v", g)
			}
		})
	}
}

// TestURLSettingsFollowThePolicy takes every endpoint setting through each
// rule of safe.CheckURL, by way of File.Set.
func TestURLSettingsFollowThePolicy(t *testing.T) {
	var urlKeys []string
	for _, k := range Keys() {
		if strings.HasSuffix(k.Name, "_url") {
			urlKeys = append(urlKeys, k.Name)
		}
	}
	if len(urlKeys) != 6 {
		t.Fatalf("endpoint settings = %v", urlKeys)
	}
	refused := []struct {
		in, msg string
		problem safe.URLProblem
	}{
		// Each endpoint's own example (checked below).
		{"/oauth/token", "give an absolute URL such as https://auth.example.com/", safe.NotAbsolute},
		{"auth.example.com/oauth/token", "absolute URL", safe.NotAbsolute},
		{"mailto:a@example.com", "absolute URL", safe.NotAbsolute},
		{"https://user:hunter2@auth.example.com/token", "remove the user name and password from the URL", safe.UserInfo},
		{"https://auth.example.com/token#x", "remove the #fragment from the URL", safe.Fragment},
		{"https://auth.example.com/token#", "fragment", safe.Fragment},
		{"http://auth.example.com/token", "http:// is allowed only for loopback addresses (127.0.0.1, ::1, localhost); use https://", safe.PlainHTTP},
		{"http://127.0.0.1.nip.io/token", "loopback", safe.PlainHTTP},
		{"ftp://auth.example.com/token", "use an https:// URL (or http:// on a loopback address)", safe.Scheme},
	}
	accepted := []string{
		"https://auth.example.com/oauth/token?x=1",
		"HTTPS://auth.example.com/t",
		"http://127.0.0.1:8787/t",
		"http://[::1]:8787/t",
		"http://localhost/t",
	}
	for _, key := range urlKeys {
		// A value that is not a URL is answered with this endpoint's
		// example (a device endpoint for device_code_url), by config set
		// and by the flags (ValidateEndpoint).
		st, _ := lookup(key)
		want := "give an absolute URL such as " + st.Example
		if err := New().Set("auth.example.com", key, "notaurl"); err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("Set(%s, notaurl) = %v; want %q", key, err, want)
		}
		if err := ValidateEndpoint(key, "notaurl"); err == nil || err.Error() != want {
			t.Errorf("ValidateEndpoint(%s, notaurl) = %v; want %q", key, err, want)
		}
		for _, c := range refused {
			f := New()
			err := f.Set("auth.example.com", key, c.in)
			var iv *InvalidValueError
			var ue *safe.URLError
			if !errors.As(err, &iv) || iv.Key != key || iv.Reason != c.msg && !strings.Contains(iv.Reason, c.msg) {
				t.Errorf("Set(%s, %q) = %v; want an *InvalidValueError saying %q", key, c.in, err, c.msg)
				continue
			}
			if !errors.As(err, &ue) || ue.Problem != c.problem {
				t.Errorf("Set(%s, %q) = %v; want it to unwrap to a *safe.URLError with problem %d", key, c.in, err, c.problem)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("Set(%s) repeats the password: %v", key, err)
			}
			if len(f.Hosts) != 0 {
				t.Errorf("Set(%s, %q) left a host entry", key, c.in)
			}
		}
		for _, in := range accepted {
			if err := New().Set("auth.example.com", key, in); err != nil {
				t.Errorf("Set(%s, %q) = %v", key, in, err)
			}
		}
	}
}

func TestValidateURL(t *testing.T) {
	if err := ValidateURL("https://auth.example.com/token"); err != nil {
		t.Fatal(err)
	}
	err := ValidateURL("http://auth.example.com/token")
	var ce *URLError
	var ue *safe.URLError
	if !errors.As(err, &ce) || !errors.As(err, &ue) || ue.Problem != safe.PlainHTTP {
		t.Fatalf("ValidateURL = %#v", err)
	}
	if err.Error() != ue.Reason {
		t.Errorf("ValidateURL's message %q is not the reason alone", err)
	}
}

func TestDirFrom(t *testing.T) {
	d := t.TempDir()
	t.Setenv(EnvDir, "/from/the/process")
	got, err := DirFrom(func(k string) string {
		if k == EnvDir {
			return d
		}
		return ""
	})
	if err != nil || got != d {
		t.Fatalf("DirFrom = %q, %v; want %q (the getenv given, not the process's)", got, err, d)
	}
	rel, err := DirFrom(func(k string) string {
		if k == EnvDir {
			return "rel"
		}
		return ""
	})
	if err != nil || filepath.Base(rel) != "rel" || !filepath.IsAbs(rel) {
		t.Errorf("DirFrom(relative) = %q, %v; want it made absolute", rel, err)
	}
}

// A key with a fixed set of values lists them, and each is accepted by Set.
func TestKeyValuesAreAccepted(t *testing.T) {
	n := 0
	for _, k := range Keys() {
		for _, v := range k.Values {
			n++
			f := &File{}
			if err := f.Set("127.0.0.1:8080", k.Name, v); err != nil {
				t.Errorf("%s = %s: %v", k.Name, v, err)
			}
		}
	}
	if n < 9 {
		t.Errorf("only %d fixed values", n)
	}
}

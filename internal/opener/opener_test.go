package opener

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/safe"
)

func env(m map[string]string) Env {
	return func(k string) string { return m[k] }
}

func TestOpenDisabled(t *testing.T) {
	for _, m := range []map[string]string{
		{"GHLOGIN_BROWSER": "none"},
		{"GHLOGIN_BROWSER": " NONE "},
		{"BROWSER": "none"},
		{"GHLOGIN_BROWSER": "none", "BROWSER": "firefox"},
	} {
		err := System{Getenv: env(m)}.Open("https://github.com/login/oauth/authorize?client_id=x")
		if !errors.Is(err, ErrDisabled) {
			t.Errorf("%v: Open = %v, want ErrDisabled", m, err)
		}
	}
	if !strings.Contains(ErrDisabled.Error(), "none") {
		t.Errorf("ErrDisabled %q does not say why", ErrDisabled)
	}
}

func TestOpenRefusesNonHTTP(t *testing.T) {
	for _, u := range []string{"file:///etc/passwd", "javascript:alert(1)", "-e https://x", "", "HTTPS-less", "ftp://example.com/"} {
		err := System{Getenv: env(map[string]string{"GHLOGIN_BROWSER": "/bin/false"})}.Open(u)
		if err == nil || !strings.Contains(err.Error(), "not an http(s) URL") {
			t.Errorf("Open(%q) = %v, want a refusal", u, err)
		}
	}
}

func TestOpenFollowsTheURLPolicy(t *testing.T) {
	for u, msg := range map[string]string{
		"http://example.com/login":             "loopback",
		"https://user:hunter2@example.com/x":   "user name",
		"https://github.com/login/device#code": "fragment",
		"https://":                             "absolute URL",
	} {
		err := System{Getenv: env(map[string]string{"GHLOGIN_BROWSER": "/bin/false"})}.Open(u)
		var ue *safe.URLError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), msg) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) = %v, want a *safe.URLError about %q", u, err, msg)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8787/login/device", "http://[::1]/x", "http://localhost:9/x"} {
		err := System{Getenv: env(map[string]string{"GHLOGIN_BROWSER": "none"})}.Open(u)
		if !errors.Is(err, ErrDisabled) {
			t.Errorf("Open(%q) = %v; a loopback http URL passes the policy", u, err)
		}
	}
}

func TestFuncAdapter(t *testing.T) {
	var got string
	var o Opener = Func(func(u string) error { got = u; return nil })
	if err := o.Open("https://example.com/"); err != nil || got != "https://example.com/" {
		t.Errorf("Func.Open: %v %q", err, got)
	}
}

func TestHeadless(t *testing.T) {
	type tc struct {
		name     string
		env      map[string]string
		headless bool
		reason   string
	}
	portable := []tc{
		{"ssh connection", map[string]string{"SSH_CONNECTION": "10.0.0.1 5000 10.0.0.2 22", "DISPLAY": ":0"}, true, "SSH"},
		{"ssh client", map[string]string{"SSH_CLIENT": "10.0.0.1 5000 22"}, true, "SSH"},
		{"ssh tty", map[string]string{"SSH_TTY": "/dev/pts/3"}, true, "SSH"},
		{"ghlogin browser over ssh", map[string]string{"SSH_TTY": "/dev/pts/3", "GHLOGIN_BROWSER": "my-forwarder"}, false, ""},
		{"ghlogin browser none over ssh", map[string]string{"SSH_TTY": "/dev/pts/3", "GHLOGIN_BROWSER": "none"}, true, "SSH"},
		{"BROWSER does not beat ssh", map[string]string{"SSH_TTY": "/dev/pts/3", "BROWSER": "firefox"}, true, "SSH"},
	}
	unixDesktop := []tc{
		{"nothing set", map[string]string{}, true, "DISPLAY"},
		{"x11", map[string]string{"DISPLAY": ":0"}, false, ""},
		{"wayland", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, false, ""},
		{"BROWSER without display", map[string]string{"BROWSER": "w3m"}, false, ""},
		{"BROWSER none without display", map[string]string{"BROWSER": "none"}, true, "DISPLAY"},
		{"GHLOGIN_BROWSER without display", map[string]string{"GHLOGIN_BROWSER": "lynx"}, false, ""},
		{"GHLOGIN_BROWSER none with display", map[string]string{"GHLOGIN_BROWSER": "none", "DISPLAY": ":1"}, false, ""},
	}
	cases := portable
	switch runtime.GOOS {
	case "windows", "darwin", "ios", "android":
		cases = append(cases, tc{"desktop without DISPLAY", map[string]string{}, false, ""})
	default:
		cases = append(cases, unixDesktop...)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, reason := Headless(env(c.env))
			if h != c.headless || (c.reason == "" && reason != "") || !strings.Contains(reason, c.reason) {
				t.Errorf("Headless = %v, %q; want %v with a reason mentioning %q", h, reason, c.headless, c.reason)
			}
		})
	}
}

func TestHeadlessDefaultsToOSEnv(t *testing.T) {
	t.Setenv("SSH_CONNECTION", "10.0.0.1 5000 10.0.0.2 22")
	t.Setenv("GHLOGIN_BROWSER", "")
	if h, _ := Headless(nil); !h {
		t.Error("Headless(nil) ignored the process environment")
	}
}

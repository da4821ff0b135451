package credconfig

import (
	"errors"
	"strings"
	"testing"
)

// TestSourceURLPolicy takes the credential URL through each rule of
// safe.CheckURL and the link-local allowance layered on top of it.
func TestSourceURLPolicy(t *testing.T) {
	p := provider(t)
	for _, ok := range []string{
		"https://token.example.com/t?x=1",
		"http://127.0.0.1:8080/t",
		"http://[::1]:8080/t",
		"http://localhost/t",
		"http://169.254.169.254/computeMetadata/v1/x",
		"HTTP://169.254.169.254/x",
		"http://[fe80::1]/x",
	} {
		if _, err := Build(Options{Provider: p, URL: ok}); err != nil {
			t.Errorf("Build(URL %q) = %v", ok, err)
		}
	}
	for in, msg := range map[string]string{
		"http://token.example.com/t":          "http://token.example.com/t must use https (http only on a loopback or link-local address)",
		"http://10.0.0.1/t":                   "must use https",
		"ftp://token.example.com/t":           "absolute https URL",
		"/t":                                  "absolute https URL",
		"https://token.example.com/t#x":       "#fragment",
		"https://u:hunter2@token.example.com": "user name or password",
		"http://u:hunter2@169.254.169.254/x":  "user name or password",
	} {
		_, err := Build(Options{Provider: p, URL: in})
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), msg) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Build(URL %q) = %v, want an *Error saying %q", in, err, msg)
		}
	}
}

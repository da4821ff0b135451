// Package safehttp holds ghlogin's one redirect policy for every HTTP
// client: a request that carries a secret never follows a redirect, and
// other requests follow one only to the same scheme, host and port. It is
// apart from package safe so that programs which make no HTTP request can
// use safe's text and URL rules without linking net/http.
package safehttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// MaxRedirects bounds how many redirects a request that may follow them
// follows (the same bound as Go's default policy).
const MaxRedirects = 10

// RedirectError is a redirect that the HTTP policy refused: the request
// carried a secret (it never follows a redirect), or the redirect left the
// first URL's scheme, host and port.
type RedirectError struct {
	// Endpoint is the URL that answered with the redirect, without its query.
	Endpoint string
	// LocationHost is the host[:port] the redirect pointed to (never its
	// path or query, which could carry anything).
	LocationHost string
	// LocationScheme is the redirect's scheme, when it differs from the
	// endpoint's.
	LocationScheme string
	// Status is the redirect's HTTP status, when known.
	Status int
	// Secret reports whether the request carried a secret.
	Secret bool
	// TooMany reports that the redirect limit was reached.
	TooMany bool
}

// Error says which endpoint redirected where, and why it was not followed.
func (e *RedirectError) Error() string {
	where := e.LocationHost
	if e.LocationScheme != "" {
		where = e.LocationScheme + "://" + where
	}
	status := ""
	if e.Status != 0 {
		status = fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	switch {
	case e.TooMany:
		return fmt.Sprintf("%s redirected more than %d times", e.Endpoint, MaxRedirects)
	case e.Secret:
		return fmt.Sprintf("%s answered with a redirect to %s%s; a request that carries a secret never follows a redirect", e.Endpoint, where, status)
	}
	return fmt.Sprintf("%s answered with a redirect to %s%s; redirects are followed only to the same scheme, host and port", e.Endpoint, where, status)
}

type secretKey struct{}

// WithSecret marks requests made with ctx as carrying a secret (a token, a
// client secret, a device or authorization code, a refresh token): the HTTP
// policy never lets them follow a redirect. Requests with an Authorization
// header, and every request that is not a GET or HEAD, are treated the same
// way without the mark.
func WithSecret(ctx context.Context) context.Context {
	return context.WithValue(ctx, secretKey{}, true)
}

// CarriesSecret reports whether req is one the HTTP policy treats as
// carrying a secret.
func CarriesSecret(req *http.Request) bool {
	if req.Method != http.MethodGet && req.Method != http.MethodHead && req.Method != "" {
		return true
	}
	if req.Header.Get("Authorization") != "" || req.Header.Get("Cookie") != "" ||
		req.Header.Get("Proxy-Authorization") != "" || req.URL.User != nil {
		return true
	}
	v, _ := req.Context().Value(secretKey{}).(bool)
	return v
}

// CheckRedirect is ghlogin's one redirect policy, for http.Client's
// CheckRedirect: a request that carries a secret never follows a redirect
// (Go would resend a POST body on 307 and 308, and keeps the Authorization
// header when only the port or the scheme changes); any other request
// follows a redirect only to the same scheme, host and port as the first
// URL, at most MaxRedirects times. Refusals are *RedirectError, wrapped in
// the *url.Error that http.Client returns.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) == 0 {
		return nil
	}
	first := via[0]
	e := &RedirectError{
		Endpoint:     endpoint(via[len(via)-1].URL),
		LocationHost: req.URL.Host,
	}
	if req.Response != nil {
		e.Status = req.Response.StatusCode
	}
	schemeChanged := !strings.EqualFold(req.URL.Scheme, first.URL.Scheme)
	if schemeChanged {
		e.LocationScheme = req.URL.Scheme
	}
	for _, r := range via {
		if CarriesSecret(r) {
			e.Secret = true
			return e
		}
	}
	if schemeChanged || !sameHostPort(req.URL, first.URL) {
		return e
	}
	if len(via) >= MaxRedirects {
		e.TooMany = true
		return e
	}
	return nil
}

// endpoint is u without its query and fragment, for messages.
func endpoint(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment, c.User = "", "", nil
	return c.String()
}

func sameHostPort(a, b *url.URL) bool {
	return strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// HTTPClient returns a copy of base (nil means a new client) that obeys the
// redirect policy, with timeout as its overall limit when base has none. Every
// HTTP client ghlogin makes — for OAuth endpoints, the API, workload identity
// and the libraries it hands clients to — comes from here.
func HTTPClient(base *http.Client, timeout time.Duration) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	c.CheckRedirect = CheckRedirect
	if c.Timeout <= 0 {
		c.Timeout = timeout
	}
	return c
}

// IsRedirectRefused reports whether err is a redirect the policy refused.
func IsRedirectRefused(err error) bool {
	var re *RedirectError
	return errors.As(err, &re)
}

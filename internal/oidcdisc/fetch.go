package oidcdisc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
	"github.com/ghlogin/ghlogin/oauth"
)

// DefaultTimeout bounds one discovery request when Fetcher.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// Fetcher reads discovery documents. The zero value works without a cache.
type Fetcher struct {
	// HTTPClient sends the requests, under the one redirect policy
	// (safehttp.HTTPClient); nil means a new client.
	HTTPClient *http.Client
	// Timeout bounds each request; zero means DefaultTimeout.
	Timeout time.Duration
	// UserAgent is sent when set.
	UserAgent string
	// Clock dates the cache; nil means the real clock.
	Clock clock.Clock
	// Dir is the config directory, where documents are cached in
	// discovery/HOST.json; "" means no cache.
	Dir string
}

// Result is a discovery document and how it was obtained.
type Result struct {
	Document *Document
	// FetchedAt is when the server last sent or confirmed the document.
	FetchedAt time.Time
	// FreshUntil is until when the document is used without asking the
	// server again (zero: it is revalidated on every use).
	FreshUntil time.Time
	// FromCache reports that no request was made: the cached copy was fresh
	// (Discover), or the cache was read on purpose (Cached).
	FromCache bool
	// Revalidated reports that the server confirmed the cached copy (304).
	Revalidated bool
	// Stale reports that the cached copy had to be used although it is no
	// longer fresh, because the server could not be asked; StaleErr says
	// why (a *FetchError).
	Stale    bool
	StaleErr error
}

// FetchError is a discovery request that got no usable answer: the server
// could not be reached (*oauth.NetworkError, or a redirect the policy
// refused inside it) or answered with a status other than 200 or 304
// (*oauth.HTTPError).
type FetchError struct {
	// Issuer is the issuer asked about; URL the document's URL.
	Issuer, URL string
	Err         error
}

// Error names the document and the cause.
func (e *FetchError) Error() string {
	return fmt.Sprintf("could not read the discovery document %s: %v", e.URL, e.Err)
}

// Unwrap returns the cause.
func (e *FetchError) Unwrap() error { return e.Err }

// Transient reports whether asking again later may succeed.
func (e *FetchError) Transient() bool { return oauth.IsTransient(e.Err) }

// Discover returns issuer's validated discovery document. A cached copy
// that is still fresh is returned without a request; a stale one is
// revalidated (If-None-Match, If-Modified-Since; RFC 9111 §4.3) and, when
// the server cannot be asked (network failure, 5xx, 429), returned anyway
// with Result.Stale set. A document the server sends is validated before it
// replaces the cached one, and is not cached when the server says no-store.
// Errors: *config.URLError or *config.IssuerError (the issuer),
// *DocumentError, *FetchError, and *config.UntrustedError for a cache
// directory another user owns or could write.
func (f *Fetcher) Discover(ctx context.Context, issuer string) (*Result, error) {
	if _, err := config.CheckIssuer(issuer); err != nil {
		return nil, err
	}
	if err := f.checkCache(); err != nil {
		return nil, err
	}
	now := f.now()
	// A cached copy that may not be used (see load) is fetched again.
	cached, _ := f.load(issuer)
	if cached != nil && now.Before(cached.FreshUntil) {
		return cached.result(true), nil
	}
	res, err := f.fetch(ctx, issuer, cached, now)
	if err != nil {
		var fe *FetchError
		if cached != nil && errors.As(err, &fe) && fe.Transient() {
			r := cached.result(true)
			r.Stale, r.StaleErr = true, err
			return r, nil
		}
		return nil, err
	}
	return res, nil
}

// Cached returns the cached document of issuer without any request, fresh
// or not (Result.Stale reports a copy no longer fresh, with a nil
// StaleErr). It returns *NotDiscoveredError when there is none, or none it
// may use (Err says why), and *config.UntrustedError for a cache directory
// another user owns or could write.
func (f *Fetcher) Cached(issuer string) (*Result, error) {
	if err := f.checkCache(); err != nil {
		return nil, err
	}
	e, err := f.load(issuer)
	if e == nil {
		return nil, &NotDiscoveredError{Issuer: issuer, Err: err}
	}
	r := e.result(true)
	r.Stale = !f.now().Before(e.FreshUntil)
	return r, nil
}

// NotDiscoveredError means an OpenID Connect host's endpoints are needed
// but its discovery document was never fetched (or its cache is gone).
type NotDiscoveredError struct {
	// Host is the host, when known; Issuer its issuer.
	Host, Issuer string
	// Err says why the cache could not be read, when it exists.
	Err error
}

// Error names the issuer.
func (e *NotDiscoveredError) Error() string {
	msg := "the endpoints of " + e.Issuer + " are not known yet (its discovery document has not been read)"
	if e.Host != "" {
		msg = "the endpoints of " + e.Host + " (issuer " + e.Issuer + ") are not known yet (its discovery document has not been read)"
	}
	return msg
}

// Unwrap returns the cause.
func (e *NotDiscoveredError) Unwrap() error { return e.Err }

// fetch asks the server, conditionally when there is a cached copy.
func (f *Fetcher) fetch(ctx context.Context, issuer string, cached *entry, now time.Time) (*Result, error) {
	where := URL(issuer)
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return nil, &FetchError{Issuer: issuer, URL: where, Err: err}
	}
	req.Header.Set("Accept", "application/json")
	if f.UserAgent != "" {
		req.Header.Set("User-Agent", f.UserAgent)
	}
	if cached != nil {
		if cached.ETag != "" {
			req.Header.Set("If-None-Match", cached.ETag)
		}
		if cached.LastModified != "" {
			req.Header.Set("If-Modified-Since", cached.LastModified)
		}
	}
	resp, err := safehttp.HTTPClient(f.HTTPClient, timeout).Do(req)
	if err != nil {
		if pe := ctx.Err(); pe != nil && errors.Is(pe, context.Canceled) {
			return nil, pe
		}
		return nil, &FetchError{Issuer: issuer, URL: where, Err: &oauth.NetworkError{Endpoint: where, Err: oauth.StripURL(err)}}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocumentBytes+1))
	if err != nil {
		return nil, &FetchError{Issuer: issuer, URL: where, Err: &oauth.NetworkError{Endpoint: where, Err: err}}
	}
	fr := freshness(resp.Header, now)
	switch {
	case resp.StatusCode == http.StatusNotModified && cached != nil:
		// RFC 9111 §4.3.4: the stored response, with the new freshness.
		cached.FetchedAt, cached.FreshUntil = now, fr.until
		if v := resp.Header.Get("ETag"); v != "" {
			cached.ETag = v
		}
		if fr.noStore {
			f.forget(issuer)
		} else {
			f.save(issuer, cached)
		}
		r := cached.result(false)
		r.Revalidated = true
		return r, nil
	case resp.StatusCode != http.StatusOK:
		return nil, &FetchError{Issuer: issuer, URL: where, Err: &oauth.HTTPError{StatusCode: resp.StatusCode,
			RetryAfter: oauth.ParseRetryAfter(resp.Header.Get("Retry-After"), now), Detail: "from " + where}}
	}
	doc, err := Parse(issuer, raw)
	if err != nil {
		return nil, err
	}
	e := &entry{Issuer: issuer, FetchedAt: now, FreshUntil: fr.until, Document: raw, doc: doc}
	if !fr.noStore {
		e.ETag = resp.Header.Get("ETag")
		e.LastModified = resp.Header.Get("Last-Modified")
		f.save(issuer, e)
	} else {
		f.forget(issuer)
	}
	return e.result(false), nil
}

func (f *Fetcher) now() time.Time { return clock.Or(f.Clock).Now() }

package oidcdisc

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/hosts"
)

// CacheDir is the cache's directory inside the config directory.
const CacheDir = "discovery"

// MaxFreshness caps how long a document is used without asking the server,
// whatever its headers say, so that a changed server is noticed in time.
const MaxFreshness = 7 * 24 * time.Hour

// entry is one cached document: the bytes as served (validated again when
// read back, so a hand-edited cache obeys the same rules) and what HTTP
// caching needs (RFC 9111).
type entry struct {
	Issuer       string          `json:"issuer"`
	FetchedAt    time.Time       `json:"fetched_at"`
	FreshUntil   time.Time       `json:"fresh_until,omitzero"`
	ETag         string          `json:"etag,omitempty"`
	LastModified string          `json:"last_modified,omitempty"`
	Document     json.RawMessage `json:"document"`

	doc *Document
}

func (e *entry) result(fromCache bool) *Result {
	return &Result{Document: e.doc, FetchedAt: e.FetchedAt, FreshUntil: e.FreshUntil, FromCache: fromCache}
}

// CachePath returns the file that caches issuer's document in dir (the
// config directory): discovery/HOST.json, HOST being the issuer's host as
// ghlogin names it with ":" written "_". It returns "" when dir is "" or
// the issuer names no valid host.
func CachePath(dir, issuer string) string {
	if dir == "" {
		return ""
	}
	h, err := IssuerHost(issuer)
	if err != nil {
		return ""
	}
	return filepath.Join(dir, CacheDir, fileName(h))
}

func fileName(h hosts.Host) string {
	return strings.NewReplacer(":", "_").Replace(h.Name) + ".json"
}

// The cache obeys the config directory's rules (config.CheckInside): a
// discovery/ directory that another user owns or could write is refused,
// with the command that fixes it, since nothing read from or written to it
// could be trusted; a cache file there that another user owns or could
// write is discarded like one that no longer validates — the document is
// fetched again and the new copy, written with mode 0600, replaces it.
// Either way, what a cached document says is validated again on every read
// (Parse: the issuer must be the one asked for, every endpoint must pass
// safe.CheckURL), exactly as a document the server sends.

// cacheDir is the cache's directory, "" when there is no cache.
func (f *Fetcher) cacheDir() string {
	if f.Dir == "" {
		return ""
	}
	return filepath.Join(f.Dir, CacheDir)
}

// checkCache refuses a config directory or cache directory that another
// user owns or could write (*config.UntrustedError).
func (f *Fetcher) checkCache() error {
	if f.Dir == "" {
		return nil
	}
	if err := config.CheckDir(f.Dir); err != nil {
		return err
	}
	return config.CheckInside(f.cacheDir(), false)
}

// maxEntryBytes bounds a cache file: a document and a few dates.
const maxEntryBytes = 2 * MaxDocumentBytes

// load reads issuer's cached document: nil when there is none, when it is
// for another issuer, or when it may not be used (then the error says why:
// it no longer passes validation, or another user owns or could write it,
// a *config.UntrustedError). The caller has checked the directory
// (checkCache).
func (f *Fetcher) load(issuer string) (*entry, error) {
	path := CachePath(f.Dir, issuer)
	if path == "" {
		return nil, nil
	}
	data, err := config.ReadInside(path, false, maxEntryBytes)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var e entry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	if e.Issuer != issuer {
		return nil, nil // another issuer of the same host: not ours
	}
	doc, err := Parse(issuer, e.Document)
	if err != nil {
		return nil, err
	}
	e.doc = doc
	return &e, nil
}

// save writes e to the cache; a cache that cannot be written costs a
// request next time, nothing more.
func (f *Fetcher) save(issuer string, e *entry) {
	path := CachePath(f.Dir, issuer)
	if path == "" {
		return
	}
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return
	}
	if config.EnsureDir(f.Dir) != nil || config.EnsureInside(f.cacheDir()) != nil {
		return
	}
	_ = config.WriteFileAtomic(path, data)
}

// forget removes issuer's cached document (the server said no-store).
func (f *Fetcher) forget(issuer string) {
	if path := CachePath(f.Dir, issuer); path != "" {
		if e, _ := f.load(issuer); e != nil {
			_ = os.Remove(path)
		}
	}
}

// fresh is what a response's headers say about caching it.
type fresh struct {
	until   time.Time // zero: stale at once
	noStore bool
}

// freshness reads a response's freshness lifetime as a private cache does
// (RFC 9111 §4.2.1): Cache-Control no-store (do not keep it) and no-cache
// (keep it, revalidate every time), then max-age, then Expires against
// Date, then the heuristic of §4.2.2 (a tenth of the time since
// Last-Modified), less the Age the response already has (§4.2.3), capped at
// MaxFreshness.
func freshness(h http.Header, now time.Time) fresh {
	var out fresh
	maxAge, hasMaxAge, noCache := -1, false, false
	for _, d := range directives(h.Values("Cache-Control")) {
		name, value, _ := strings.Cut(d, "=")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "no-store":
			out.noStore = true
		case "no-cache":
			noCache = true
		case "max-age":
			n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(value), `"`))
			if err == nil && n >= 0 {
				maxAge, hasMaxAge = n, true
			} else {
				maxAge, hasMaxAge = 0, true // invalid: stale (RFC 9111 §1.2.2)
			}
		}
	}
	if out.noStore || noCache {
		return out
	}
	date := now
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		date = d
	}
	var lifetime time.Duration
	switch {
	case hasMaxAge:
		lifetime = time.Duration(maxAge) * time.Second
	case h.Get("Expires") != "":
		exp, err := http.ParseTime(h.Get("Expires"))
		if err != nil {
			return out // an invalid Expires means already expired (§5.3)
		}
		lifetime = exp.Sub(date)
	case h.Get("Last-Modified") != "":
		if lm, err := http.ParseTime(h.Get("Last-Modified")); err == nil && lm.Before(date) {
			lifetime = date.Sub(lm) / 10
		}
	}
	if age, err := strconv.Atoi(strings.TrimSpace(h.Get("Age"))); err == nil && age > 0 {
		lifetime -= time.Duration(age) * time.Second
	}
	if lifetime > MaxFreshness {
		lifetime = MaxFreshness
	}
	if lifetime > 0 {
		out.until = now.Add(lifetime).UTC()
	}
	return out
}

// directives splits Cache-Control header values into their directives.
func directives(values []string) []string {
	var out []string
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

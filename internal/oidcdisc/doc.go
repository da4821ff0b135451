// Package oidcdisc reads an OpenID Connect server's endpoints from its
// issuer alone (OpenID Connect Discovery 1.0): it fetches
// ISSUER/.well-known/openid-configuration, validates it, keeps it in the
// config directory for as long as the server's HTTP caching headers allow
// (RFC 9111), and says where each endpoint a host uses comes from — a flag,
// a setting, the discovery document, or the default for GitHub hosts.
//
// # Main types
//
//   - Fetcher.Discover returns a validated Document, from the cache while it
//     is fresh, revalidated with If-None-Match / If-Modified-Since when it
//     is stale, and fetched again otherwise. Fetcher.Cached reads the cache
//     only (no network), whatever its freshness.
//   - Document holds every endpoint (authorization, device authorization,
//     token, userinfo, revocation, jwks_uri) and the lists a login reads
//     (scopes_supported, code_challenge_methods_supported, ...).
//   - Resolve merges flags, settings, a Document and the GitHub defaults
//     into Endpoints, with each endpoint's Source; Lookup does it from the
//     configuration file and the cache, offline.
//
// # Rules
//
// The issuer is an https URL, or http on a loopback address, without a
// query or fragment (config.CheckIssuer); it may have a path
// (https://sso.example.com/dex). The document's issuer must equal it
// exactly (OpenID Connect Discovery 1.0 §4.3), every endpoint obeys the same
// URL rules (safe.CheckURL), authorization_endpoint, token_endpoint and
// jwks_uri must be present, and the document is at most MaxDocumentBytes.
// The fetch is a GET that carries no secret, so it follows redirects to the
// same scheme, host and port only (safehttp.HTTPClient).
//
// The cache (discovery/HOST.json in the config directory) is checked as the
// config directory is (config.CheckInside): a discovery/ directory that
// another user owns or could write is refused with the chmod or chown to
// run; a cache file there that another user owns or could write is
// discarded and fetched again, like one that no longer validates, since a
// cache can always be rebuilt. A cached document is validated again on
// every read, by the same rules as a fetched one.
//
// # Errors
//
// *config.URLError or *config.IssuerError for an issuer that breaks the
// rules; *DocumentError for a document that breaks them (Problem says
// which); *FetchError for a server that could not be asked or answered with
// an unexpected status (it wraps *oauth.NetworkError or *oauth.HTTPError);
// *NotDiscoveredError when Lookup needs a document that was never fetched.
package oidcdisc

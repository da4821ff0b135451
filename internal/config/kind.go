package config

import "slices"

// Kind is the kind of server a host is, which decides its defaults.
type Kind int

const (
	// KindGitHub is github.com, a GitHub Enterprise Server or the emulator:
	// endpoints derived from the host name, the REST API's /user.
	KindGitHub Kind = iota
	// KindOIDC is an OpenID Connect server named by its issuer: endpoints
	// from its discovery document, identity from its ID token.
	KindOIDC
	// KindOAuth is another OAuth 2.0 server whose endpoints are set by hand
	// (device_code_url, authorize_url, token_url or userinfo_url) and that
	// has no issuer.
	KindOAuth
)

// String returns "github", "oidc" or "oauth".
func (k Kind) String() string {
	switch k {
	case KindOIDC:
		return "oidc"
	case KindOAuth:
		return "oauth"
	}
	return "github"
}

// Kind says what kind of server h is: KindOIDC when it has an issuer,
// KindOAuth when an endpoint that GitHub hosts derive is set by hand, else
// KindGitHub. h may be nil (KindGitHub). A command merges its endpoint
// flags into a copy of the settings before asking, so that `login
// --issuer` or `--token-url` decide as a setting would.
func (h *Host) Kind() Kind {
	switch {
	case h == nil:
		return KindGitHub
	case h.Issuer != "":
		return KindOIDC
	case h.DeviceCodeURL != "" || h.AuthorizeURL != "" || h.TokenURL != "" || h.UserInfoURL != "":
		return KindOAuth
	}
	return KindGitHub
}

// OIDCScopes are the scopes an OpenID Connect host asks for by default
// (OpenID Connect Core 1.0 §5.4 and §11): an ID token, the claims that name
// the person, and a refresh token.
var OIDCScopes = []string{"openid", "profile", "email", "offline_access"}

// DefaultScopesFor returns the scopes a login requests when neither a flag
// nor the host's scopes setting names any: DefaultScopes on GitHub hosts;
// on OpenID Connect hosts OIDCScopes, keeping only those in supported (the
// discovery document's scopes_supported) unless that list is empty; none on
// other OAuth 2.0 servers, which then apply their own default scope (RFC
// 6749 §3.3) rather than be sent GitHub's. The result is a new slice.
func DefaultScopesFor(kind Kind, supported []string) []string {
	switch kind {
	case KindOIDC:
		if len(supported) == 0 {
			return slices.Clone(OIDCScopes)
		}
		var out []string
		for _, s := range OIDCScopes {
			if slices.Contains(supported, s) {
				out = append(out, s)
			}
		}
		return out
	case KindOAuth:
		return nil
	}
	return slices.Clone(DefaultScopes)
}

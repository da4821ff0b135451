package interop

import (
	"context"
	"errors"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/identity"
	"github.com/ghlogin/ghlogin/internal/oidcdisc"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/internal/revoke"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/store/storetest"
)

// These tests run the library half of an OpenID Connect host's lifecycle
// against oidc-provider: discovery from the issuer alone, the ID token
// verified with go-oidc, a short-lived token refreshed at the right moment,
// and RFC 7009 revocation that the server then honours at userinfo.

// oidcScopes are the scopes an OpenID Connect host asks for by default.
var oidcScopes = config.OIDCScopes

// discover reads the provider's discovery document from its issuer alone.
func discover(t *testing.T, p *provider, dir string) *oidcdisc.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	res, err := (&oidcdisc.Fetcher{Dir: dir}).Discover(ctx, p.Issuer)
	if err != nil {
		t.Fatalf("discovery of %s: %v\nprovider log:\n%s", p.Issuer, err, p.Logs())
	}
	return res
}

// deviceLogin runs the device flow for client with scopes by hand, login
// approving, and returns the token endpoint's reply as ghlogin reads it.
func deviceLogin(ctx context.Context, t *testing.T, p *provider, doc *oidcdisc.Document, creds oauth.Credentials, scopes []string, login string) *oauth.Token {
	t.Helper()
	c := &oauth.Client{}
	var da struct {
		DeviceCode              string `json:"device_code"`
		VerificationURIComplete string `json:"verification_uri_complete"`
	}
	if err := c.Post(ctx, doc.DeviceAuthorizationEndpoint, creds, url.Values{"scope": {strings.Join(scopes, " ")}}, &da); err != nil {
		t.Fatalf("device authorization: %v\nprovider log:\n%s", err, p.Logs())
	}
	approveDevice(newBrowser(ctx, t), p, approval{Login: login, VerificationURIComplete: da.VerificationURIComplete})
	tok, err := c.Exchange(ctx, doc.TokenEndpoint, creds, url.Values{
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {da.DeviceCode},
	})
	if err != nil {
		t.Fatalf("device token: %v\nprovider log:\n%s", err, p.Logs())
	}
	return tok
}

// Discovery by issuer alone gives every endpoint ghlogin uses, and the
// default scopes an OpenID Connect host gets.
func TestProviderDiscoveryByIssuer(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	dir := t.TempDir()
	res := discover(t, p, dir)
	d := res.Document
	for name, got := range map[string]string{
		"issuer":                        d.Issuer,
		"device_authorization_endpoint": d.DeviceAuthorizationEndpoint,
		"authorization_endpoint":        d.AuthorizationEndpoint,
		"token_endpoint":                d.TokenEndpoint,
		"userinfo_endpoint":             d.UserinfoEndpoint,
		"revocation_endpoint":           d.RevocationEndpoint,
		"jwks_uri":                      d.JWKSURI,
	} {
		want := map[string]string{
			"issuer": p.Issuer, "device_authorization_endpoint": p.Endpoint("/device/auth"), "authorization_endpoint": p.Endpoint("/auth"),
			"token_endpoint": p.Endpoint("/token"), "userinfo_endpoint": p.Endpoint("/me"), "revocation_endpoint": p.Endpoint("/token/revocation"),
			"jwks_uri": p.Endpoint("/jwks"),
		}[name]
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if !d.SupportsPKCE() || !slices.Contains(d.CodeChallengeMethodsSupported, "S256") {
		t.Errorf("code_challenge_methods_supported = %q", d.CodeChallengeMethodsSupported)
	}
	if got := config.DefaultScopesFor(config.KindOIDC, d.ScopesSupported); !slices.Equal(got, oidcScopes) {
		t.Errorf("default scopes = %q (scopes_supported %q), want %q", got, d.ScopesSupported, oidcScopes)
	}

	// The host is the issuer's; with only the issuer set, every endpoint
	// comes from discovery.
	h, err := oidcdisc.IssuerHost(p.Issuer)
	if err != nil || h.URL() != p.Issuer {
		t.Fatalf("IssuerHost = %v, %v", h, err)
	}
	e := oidcdisc.Resolve(h, &config.Host{Issuer: p.Issuer}, nil, d)
	for _, ep := range e.List {
		if ep.Key != "issuer" && ep.Key != "api_url" && ep.Source != oidcdisc.SourceDiscovery {
			t.Errorf("%s comes from %q, want discovery", ep.Key, ep.Source)
		}
	}

	// Cached in the config directory: readable offline, and a second
	// Discover is answered from the cache or revalidated.
	if _, err := os.Stat(oidcdisc.CachePath(dir, p.Issuer)); err != nil {
		t.Errorf("no cache file: %v", err)
	}
	if c, err := (&oidcdisc.Fetcher{Dir: dir}).Cached(p.Issuer); err != nil || c.Document.TokenEndpoint != d.TokenEndpoint {
		t.Errorf("Cached = %+v, %v", c, err)
	}
	again := discover(t, p, dir)
	if again.Document.TokenEndpoint != d.TokenEndpoint {
		t.Errorf("second discovery: %+v", again)
	}
	// Another issuer on the same server is refused: the document names
	// its own.
	_, err = (&oidcdisc.Fetcher{}).Discover(context.Background(), p.Issuer+"/")
	var de *oidcdisc.DocumentError
	var fe *oidcdisc.FetchError
	if !errors.As(err, &de) && !errors.As(err, &fe) {
		t.Errorf("issuer with a trailing slash: %v", err)
	}
}

// The ID token of a device login verifies against the provider's keys, and
// names the account: alice, and bob whose sub is a number.
func TestProviderIDToken(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	d := discover(t, p, "").Document
	for _, tc := range []struct{ login, sub, want string }{
		{"alice", "alice", "alice"},
		{bobAccountID, bobAccountID, "bob"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
			defer cancel()
			tok := deviceLogin(ctx, t, p, d, oauth.Credentials{ClientID: publicClient}, oidcScopes, tc.login)
			if tok.IDToken == "" || tok.RefreshToken == "" {
				t.Fatalf("reply %v: want an ID token and a refresh token", tok)
			}
			granted := tok.GrantedScopes(oidcScopes)
			if !oauth.SameScopes(granted, oidcScopes) {
				t.Errorf("granted %q, want %q", granted, oidcScopes)
			}
			ident := &identity.Identifier{
				Verifier:    &identity.Verifier{Document: d, ClientID: publicClient},
				UserInfoURL: d.UserinfoEndpoint,
			}
			id, err := ident.Identify(ctx, tok, "")
			if err != nil {
				t.Fatalf("Identify: %v\nprovider log:\n%s", err, p.Logs())
			}
			if id.Login != tc.want || id.Subject != tc.sub || id.Issuer != p.Issuer || id.IDToken == nil || id.IDToken.Expiry.IsZero() {
				t.Errorf("identity = %+v, want login %s, sub %s", id, tc.want, tc.sub)
			}
			// The store keeps the ID token with its expiry.
			sec := refresh.NewSecret(tok, granted, nil, time.Now())
			if sec.IDToken != tok.IDToken || !sec.IDTokenExpiresAt.Equal(id.IDToken.Expiry.UTC()) || sec.IssuedAt.IsZero() {
				t.Errorf("secret keeps ID token %v until %v (issued %v)", sec.IDToken != "", sec.IDTokenExpiresAt, sec.IssuedAt)
			}

			// The same token checked for another client, or altered, fails.
			var ve *identity.VerifyError
			other := &identity.Verifier{Document: d, ClientID: basicClient}
			if _, err := other.Verify(ctx, tok.IDToken, "", ""); !errors.As(err, &ve) || ve.Reason != identity.ReasonAudience {
				t.Errorf("another client's ID token: %v", err)
			}
			parts := strings.Split(tok.IDToken, ".")
			altered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
			if _, err := ident.Verifier.Verify(ctx, altered, "", ""); !errors.As(err, &ve) || ve.Reason != identity.ReasonSignature {
				t.Errorf("altered signature: %v", err)
			}
		})
	}
}

// A two-minute token is refreshed in its last 30 s, once, keeping the ID
// token and rotating the refresh token.
func TestProviderShortTokenRefreshedOnce(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	d := discover(t, p, "").Document
	ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
	defer cancel()
	tok := deviceLogin(ctx, t, p, d, oauth.Credentials{ClientID: shortLivedClient}, oidcScopes, "alice")
	if tok.ExpiresIn != 120 {
		t.Fatalf("expires_in %d, want 120", tok.ExpiresIn)
	}
	start := time.Now()
	clk := clock.NewFake(start)
	st, err := store.Open(store.Options{Dir: t.TempDir(), Keyring: storetest.NewMemKeyring()})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := oidcdisc.IssuerHost(p.Issuer)
	if err := st.Save(ctx, h.Name, "alice", store.BackendFile, refresh.NewSecret(tok, tok.GrantedScopes(oidcScopes), nil, start)); err != nil {
		t.Fatal(err)
	}
	a, err := st.Resolve(h.Name, "alice")
	if err != nil {
		t.Fatal(err)
	}
	var notices []string
	opts := refresh.Options{TokenURL: d.TokenEndpoint, Credentials: oauth.Credentials{ClientID: shortLivedClient}, Clock: clk,
		IDToken: true, OnRefresh: func(n refresh.Notice) { notices = append(notices, n.String()) }}
	seen := map[string]bool{}
	for _, at := range []time.Duration{0, 30 * time.Second, 89 * time.Second, 91 * time.Second, 95 * time.Second, 110 * time.Second, 150 * time.Second} {
		clk.Advance(start.Add(at).Sub(clk.Now()))
		sec, err := refresh.Token(ctx, st, a, opts)
		if err != nil {
			t.Fatalf("at %v: %v\nprovider log:\n%s", at, err, p.Logs())
		}
		seen[sec.Token] = true
		if _, err := userinfo(ctx, p, sec.Token); err != nil {
			t.Fatalf("at %v the token does not work: %v", at, err)
		}
	}
	if len(seen) != 2 || len(notices) != 1 || !strings.HasSuffix(notices[0], "expires in 29 s, refreshing") {
		t.Fatalf("%d distinct tokens, notices %q: want one refresh, at 91 s", len(seen), notices)
	}
	sec, _ := st.Secret(ctx, a)
	// (The refreshed ID token may equal the first byte for byte: same
	// claims within the same second, and RS256 signatures are
	// deterministic. Replacing it is tested in internal/refresh.)
	if sec.IDToken == "" || sec.RefreshToken == tok.RefreshToken || sec.IDTokenExpiresAt.IsZero() {
		t.Errorf("after the refresh: ID token kept %v, refresh token rotated %v, ID token expiry %v",
			sec.IDToken != "", sec.RefreshToken != tok.RefreshToken, sec.IDTokenExpiresAt)
	}
}

// RFC 7009 revocation: the refresh token, then the access token; the server
// then refuses the token at userinfo and the refresh token at the token
// endpoint.
func TestProviderRevocation(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	d := discover(t, p, "").Document
	h, _ := oidcdisc.IssuerHost(p.Issuer)
	for _, tc := range []struct {
		name  string
		creds oauth.Credentials
	}{
		{"public client", oauth.Credentials{ClientID: publicClient}},
		{"client_secret_basic", oauth.Credentials{ClientID: basicClient, ClientSecret: basicClientSecret, Style: oauth.AuthBasic}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
			defer cancel()
			tok := deviceLogin(ctx, t, p, d, tc.creds, oidcScopes, "alice")
			sec := refresh.NewSecret(tok, nil, nil, time.Now())
			api := &githubapi.Client{}
			if _, err := api.UserInfo(ctx, d.UserinfoEndpoint, sec.Token); err != nil {
				t.Fatalf("before revocation: %v", err)
			}
			e := oidcdisc.Resolve(h, &config.Host{Issuer: p.Issuer}, nil, d)
			res, err := (&revoke.Revoker{}).Revoke(ctx, revoke.RequestFor(e, tc.creds, sec))
			if err != nil {
				t.Fatalf("Revoke: %v\nprovider log:\n%s", err, p.Logs())
			}
			if res.Method != revoke.MethodRFC7009 || strings.Join(res.Revoked, ",") != "refresh_token,access_token" || res.Endpoint != p.Endpoint("/token/revocation") {
				t.Errorf("result = %+v", res)
			}
			_, err = api.UserInfo(ctx, d.UserinfoEndpoint, sec.Token)
			if !githubapi.IsUnauthorized(err) {
				t.Fatalf("userinfo after revocation: %v, want a dead token", err)
			}
			// The revoked refresh token: a refresh says to log in again.
			st, err := store.Open(store.Options{Dir: t.TempDir(), Keyring: storetest.NewMemKeyring()})
			if err != nil {
				t.Fatal(err)
			}
			expired := *sec
			expired.ExpiresAt = time.Now().Add(-time.Minute)
			if err := st.Save(ctx, h.Name, "alice", store.BackendFile, &expired); err != nil {
				t.Fatal(err)
			}
			a, _ := st.Resolve(h.Name, "alice")
			_, err = refresh.Token(ctx, st, a, refresh.Options{TokenURL: d.TokenEndpoint, Credentials: tc.creds})
			var nl *refresh.NeedsLoginError
			if !errors.As(err, &nl) || !nl.DeadRefreshToken {
				t.Fatalf("refresh with the revoked refresh token: %v", err)
			}
		})
	}
	// A confidential client that authenticates the wrong way is refused,
	// and the failure says which token was not revoked.
	ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
	defer cancel()
	creds := oauth.Credentials{ClientID: basicClient, ClientSecret: basicClientSecret, Style: oauth.AuthBasic}
	tok := deviceLogin(ctx, t, p, d, creds, oidcScopes, "alice")
	creds.Style = oauth.AuthInBody
	_, err := (&revoke.Revoker{}).Revoke(ctx, revoke.Request{Host: h, Kind: config.KindOIDC, RevocationURL: d.RevocationEndpoint, Credentials: creds, AccessToken: tok.AccessToken})
	var fe *revoke.FailedError
	var oe *oauth.Error
	if !errors.As(err, &fe) || !errors.As(err, &oe) || oe.Code != "invalid_client" || strings.Contains(err.Error(), tok.AccessToken) {
		t.Fatalf("wrong client authentication: %v", err)
	}
	if _, err := userinfo(ctx, p, tok.AccessToken); err != nil {
		t.Errorf("a refused revocation ended the token: %v", err)
	}
}

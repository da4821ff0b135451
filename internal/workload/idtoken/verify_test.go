package idtoken

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ghlogin/ghlogin/internal/clock"
)

// issuerServer is an OIDC issuer on loopback: discovery and a JWKS holding
// the public half of testKey(0) under kid "k1".
type issuerServer struct {
	*recorder
	discoveredIssuer atomic.Value // string; "" = the server's URL
	discoveryStatus  atomic.Int32
	jwksStatus       atomic.Int32
}

func newIssuer(t *testing.T) *issuerServer {
	t.Helper()
	s := &issuerServer{}
	s.discoveredIssuer.Store("")
	s.discoveryStatus.Store(200)
	s.jwksStatus.Store(200)
	s.recorder = newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			if st := int(s.discoveryStatus.Load()); st != 200 {
				http.Error(w, "discovery broken", st)
				return
			}
			iss := s.discoveredIssuer.Load().(string)
			if iss == "" {
				iss = s.URL
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{
				"issuer":                                iss,
				"jwks_uri":                              s.URL + "/.well-known/jwks",
				"response_types_supported":              []string{"id_token"},
				"subject_types_supported":               []string{"public", "pairwise"},
				"id_token_signing_alg_values_supported": []string{"RS256"},
				"scopes_supported":                      []string{"openid"},
				"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "repository"},
			})
		case "/.well-known/jwks":
			if st := int(s.jwksStatus.Load()); st != 200 {
				http.Error(w, "jwks broken", st)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
				{Key: &testKey(t, 0).PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"},
			}})
		default:
			http.NotFound(w, r)
		}
	})
	return s
}

var verifyNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func (s *issuerServer) claims(extra map[string]any) map[string]any {
	c := map[string]any{
		"iss":        s.URL,
		"sub":        "repo:octo-org/octo-repo:ref:refs/heads/main",
		"aud":        wifAudience,
		"iat":        verifyNow.Add(-time.Minute).Unix(),
		"nbf":        verifyNow.Add(-time.Minute).Unix(),
		"exp":        verifyNow.Add(4 * time.Minute).Unix(),
		"repository": "octo-org/octo-repo",
	}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func TestVerifyGood(t *testing.T) {
	s := newIssuer(t)
	tok := signJWT(t, testKey(t, 0), "k1", s.claims(nil))
	for _, opts := range []VerifyOptions{
		{Audience: wifAudience, Clock: clock.NewFake(verifyNow)},
		{Issuer: s.URL, Clock: clock.NewFake(verifyNow)},
		{Issuer: s.URL, Audience: wifAudience, Clock: clock.NewFake(verifyNow), HTTPClient: &http.Client{Timeout: time.Second}},
	} {
		v, err := Verify(context.Background(), tok, opts)
		if err != nil {
			t.Fatal(err)
		}
		if v.Issuer != s.URL || v.Subject != "repo:octo-org/octo-repo:ref:refs/heads/main" ||
			!slices.Equal(v.Audience, []string{wifAudience}) ||
			!v.Expiry.Equal(verifyNow.Add(4*time.Minute)) || !v.IssuedAt.Equal(verifyNow.Add(-time.Minute)) {
			t.Errorf("verified = %+v", v)
		}
		if v.Claims["repository"] != "octo-org/octo-repo" {
			t.Errorf("claims = %v", v.Claims)
		}
	}
	paths := map[string]bool{}
	for _, r := range s.requests() {
		paths[r.Method+" "+r.Path] = true
	}
	if !paths["GET /.well-known/openid-configuration"] || !paths["GET /.well-known/jwks"] {
		t.Errorf("requests = %v", paths)
	}
}

func TestVerifyFailures(t *testing.T) {
	s := newIssuer(t)
	good := signJWT(t, testKey(t, 0), "k1", s.claims(nil))
	tampered := func() string {
		p := strings.Split(good, ".")
		c, _ := json.Marshal(s.claims(map[string]any{"sub": "repo:evil/repo:ref:refs/heads/main"}))
		return p[0] + "." + base64.RawURLEncoding.EncodeToString(c) + "." + p[2]
	}()
	otherKey := signJWT(t, testKey(t, 1), "k2", s.claims(nil))
	sameKidOtherKey := signJWT(t, testKey(t, 1), "k1", s.claims(nil))
	cases := []struct {
		name   string
		token  string
		opts   VerifyOptions
		setup  func()
		reason VerifyReason
		want   []string
	}{
		{"tampered claims", tampered, VerifyOptions{}, nil, ReasonSignature, []string{`key id "k1"`, "altered"}},
		{"unknown kid", otherKey, VerifyOptions{}, nil, ReasonSignature, []string{`key id "k2"`}},
		{"wrong key under a known kid", sameKidOtherKey, VerifyOptions{}, nil, ReasonSignature, []string{"matches no key"}},
		{"expired", good, VerifyOptions{Clock: clock.NewFake(verifyNow.Add(time.Hour))}, nil, ReasonExpired, []string{"expired at 2025-06-01T12:04:00Z", "fresh"}},
		{"not yet valid", good, VerifyOptions{Clock: clock.NewFake(verifyNow.Add(-time.Hour))}, nil, ReasonNotYetValid, []string{"clock"}},
		{"wrong audience", good, VerifyOptions{Audience: "sts.amazonaws.com"}, nil, ReasonAudience, []string{`"` + wifAudience + `"`, `not "sts.amazonaws.com"`, "--audience"}},
		{"wrong audience among several", signJWT(t, testKey(t, 0), "k1", s.claims(map[string]any{"aud": []string{"a", "b"}})), VerifyOptions{Audience: "c"}, nil, ReasonAudience, []string{`"a", "b"`, `not "c"`}},
		{"issuer mismatch", good, VerifyOptions{Issuer: "https://token.actions.githubusercontent.com"}, nil, ReasonIssuerMismatch, []string{"https://token.actions.githubusercontent.com"}},
		{"insecure issuer in token", signJWT(t, testKey(t, 0), "k1", s.claims(map[string]any{"iss": "http://203.0.113.9/issuer"})), VerifyOptions{}, nil, ReasonUntrustedIssuer, []string{"not an https URL"}},
		{"insecure trusted issuer", good, VerifyOptions{Issuer: "http://203.0.113.9"}, nil, ReasonUntrustedIssuer, []string{"not an https URL"}},
		{"no iss", signJWT(t, testKey(t, 0), "k1", s.claims(map[string]any{"iss": nil})), VerifyOptions{}, nil, ReasonMalformed, []string{"no iss"}},
		{"alg none", "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+s.URL+`"}`)) + ".c2ln", VerifyOptions{}, nil, ReasonSignature, []string{"not signed"}},
		{"garbage", "not-a-token", VerifyOptions{}, nil, ReasonMalformed, []string{"not a JWT"}},
		{"discovery names another issuer", good, VerifyOptions{}, func() { s.discoveredIssuer.Store("https://elsewhere.example") }, ReasonDiscovery, []string{`"https://elsewhere.example"`, "match"}},
		{"discovery 500", good, VerifyOptions{}, func() { s.discoveryStatus.Store(500) }, ReasonDiscovery, []string{"openid-configuration", "500"}},
		{"discovery 404", good, VerifyOptions{}, func() { s.discoveryStatus.Store(404) }, ReasonDiscovery, []string{"404"}},
		{"JWKS 503", good, VerifyOptions{}, func() { s.jwksStatus.Store(503) }, ReasonKeys, []string{"jwks_uri", "503"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.discoveredIssuer.Store("")
			s.discoveryStatus.Store(200)
			s.jwksStatus.Store(200)
			if c.setup != nil {
				c.setup()
			}
			if c.opts.Clock == nil {
				c.opts.Clock = clock.NewFake(verifyNow)
			}
			_, err := Verify(context.Background(), c.token, c.opts)
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *VerifyError", err)
			}
			if ve.Reason != c.reason {
				t.Fatalf("reason = %q (%v), want %q", ve.Reason, err, c.reason)
			}
			if !strings.HasPrefix(err.Error(), "ID token verification failed ("+string(c.reason)+"): ") {
				t.Errorf("message %q", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			assertNoSecret(t, err, tokenParts(c.token)...)
		})
	}
}

// TestVerifyDiscoveryEchoesToken: a discovery endpoint that echoes the
// token in its error body must not get it into the error.
func TestVerifyDiscoveryEchoesToken(t *testing.T) {
	var tok atomic.Value
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad request for "+tok.Load().(string), http.StatusBadRequest)
	})
	tok.Store(signJWT(t, testKey(t, 0), "k1", map[string]any{"iss": srv.URL, "sub": "canary-subject", "exp": verifyNow.Add(time.Hour).Unix()}))
	_, err := Verify(context.Background(), tok.Load().(string), VerifyOptions{Clock: clock.NewFake(verifyNow)})
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Reason != ReasonDiscovery || !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("err = %v", err)
	}
	assertNoSecret(t, err, tokenParts(tok.Load().(string))...)
}

// TestVerifyActionsToken gets a token from a fake Actions endpoint and
// verifies it against the issuer that signed it.
func TestVerifyActionsToken(t *testing.T) {
	s := newIssuer(t)
	actions := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		aud := r.URL.Query().Get("audience")
		tok := signJWT(t, testKey(t, 0), "k1", s.claims(map[string]any{"aud": aud}))
		_ = json.NewEncoder(w).Encode(map[string]string{"value": tok})
	})
	g := &GitHubActions{RequestURL: actions.URL + "/idtoken?api-version=2.0", RequestToken: canaryRequestToken}
	tok, err := g.Token(context.Background(), Request{Audience: "https://example.com/aud"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verify(context.Background(), tok, VerifyOptions{Issuer: s.URL, Audience: "https://example.com/aud", Clock: clock.NewFake(verifyNow)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(v.Audience, []string{"https://example.com/aud"}) {
		t.Errorf("aud = %v", v.Audience)
	}
	_, err = Verify(context.Background(), tok, VerifyOptions{Audience: "other", Clock: clock.NewFake(verifyNow)})
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Reason != ReasonAudience {
		t.Errorf("err = %v", err)
	}
}

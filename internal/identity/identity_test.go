package identity

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/coreos/go-oidc/v3/oidc/oidctest"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/oidcdisc"
	"github.com/ghlogin/ghlogin/oauth"
)

const clientID = "ghlogin-cli"

var t0 = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

// issuer is a test OpenID Connect server: go-oidc's oidctest (discovery
// and keys) plus a userinfo endpoint.
type issuer struct {
	url      string
	key      *rsa.PrivateKey
	doc      *oidcdisc.Document
	userinfo atomic.Value // func(w, r)
	uiCalls  atomic.Int32
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &issuer{key: key}
	ts := &oidctest.Server{PublicKeys: []oidctest.PublicKey{{PublicKey: key.Public(), KeyID: "k1", Algorithm: oidc.RS256}}}
	mux := http.NewServeMux()
	mux.Handle("/", ts)
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		is.uiCalls.Add(1)
		is.userinfo.Load().(func(http.ResponseWriter, *http.Request))(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ts.SetIssuer(srv.URL)
	is.url = srv.URL
	is.setUserinfo(200, `{"sub":"alice"}`)
	res, err := (&oidcdisc.Fetcher{}).Discover(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	is.doc = res.Document
	return is
}

func (is *issuer) setUserinfo(status int, body string, headers ...string) {
	is.userinfo.Store(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

// sign makes an ID token for claims over the defaults (iss, aud, sub
// alice, iat t0, exp t0+1h).
func (is *issuer) sign(t *testing.T, extra map[string]any) string {
	t.Helper()
	claims := map[string]any{"iss": is.url, "aud": clientID, "sub": "alice", "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix()}
	for k, v := range extra {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	b, _ := json.Marshal(claims)
	return oidctest.SignIDToken(is.key, "k1", oidc.RS256, string(b))
}

func (is *issuer) verifier() *Verifier {
	return &Verifier{Document: is.doc, ClientID: clientID, Clock: clock.NewFake(t0.Add(time.Minute))}
}

func atHash(access string) string {
	sum := sha256.Sum256([]byte(access))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

func TestVerify(t *testing.T) {
	is := newIssuer(t)
	raw := is.sign(t, map[string]any{"nonce": "n-123", "at_hash": atHash("the-access-token"), "preferred_username": "alice"})
	c, err := is.verifier().Verify(context.Background(), raw, "n-123", "the-access-token")
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != is.url || c.Subject != "alice" || c.Audience[0] != clientID || !c.Expiry.Equal(t0.Add(time.Hour)) || c.All["preferred_username"] != "alice" {
		t.Errorf("claims = %+v", c)
	}

	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	forged := oidctest.SignIDToken(other, "k1", oidc.RS256, `{"iss":"`+is.url+`","aud":"`+clientID+`","sub":"mallory","exp":`+jsonInt(t0.Add(time.Hour).Unix())+`}`)
	parts := strings.Split(raw, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+is.url+`","aud":"`+clientID+`","sub":"mallory","exp":9999999999}`)) + "." + parts[2]
	for _, tc := range []struct {
		name, raw, nonce, access string
		clock                    time.Time
		reason                   Reason
	}{
		{"another key", forged, "", "", t0, ReasonSignature},
		{"tampered claims", tampered, "", "", t0, ReasonSignature},
		{"not a JWT", "abc.def", "", "", t0, ReasonMalformed},
		{"wrong issuer", is.sign(t, map[string]any{"iss": is.url + "/other"}), "", "", t0, ReasonIssuer},
		{"wrong audience", is.sign(t, map[string]any{"aud": "someone-else"}), "", "", t0, ReasonAudience},
		{"azp of another client", is.sign(t, map[string]any{"aud": []string{clientID, "api"}, "azp": "api"}), "", "", t0, ReasonAudience},
		{"expired", raw, "", "", t0.Add(2 * time.Hour), ReasonExpired},
		{"nonce missing", is.sign(t, nil), "n-123", "", t0, ReasonNonce},
		{"nonce differs", is.sign(t, map[string]any{"nonce": "other"}), "n-123", "", t0, ReasonNonce},
		{"at_hash differs", raw, "n-123", "another-access-token", t0, ReasonAtHash},
		{"no subject", is.sign(t, map[string]any{"sub": nil}), "", "", t0, ReasonSubject},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := is.verifier()
			v.Clock = clock.NewFake(tc.clock)
			_, err := v.Verify(context.Background(), tc.raw, tc.nonce, tc.access)
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Reason != tc.reason {
				t.Fatalf("Verify = %v, want reason %q", err, tc.reason)
			}
			if strings.Contains(err.Error(), tc.raw) || strings.Contains(err.Error(), parts[2]) {
				t.Errorf("the token is in the error: %v", err)
			}
		})
	}
}

func TestVerifyKeysUnavailable(t *testing.T) {
	is := newIssuer(t)
	doc := *is.doc
	doc.JWKSURI = "http://127.0.0.1:1/keys"
	v := &Verifier{Document: &doc, ClientID: clientID, Clock: clock.NewFake(t0), Timeout: 3 * time.Second}
	_, err := v.Verify(context.Background(), is.sign(t, nil), "", "")
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Reason != ReasonKeys {
		t.Fatalf("Verify = %v", err)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestFromClaims(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		claims                map[string]any
		field                 string
		login, claim, display string
	}{
		{"preferred_username", map[string]any{"sub": "1", "preferred_username": "alice", "email": "a@x", "name": "Alice Example"}, "", "alice", "preferred_username", "Alice Example"},
		{"email", map[string]any{"sub": "1", "email": "alice@example.com"}, "", "alice@example.com", "email", ""},
		{"sub", map[string]any{"sub": "248289761001"}, "", "248289761001", "sub", ""},
		{"unusable preferred_username", map[string]any{"sub": "1", "preferred_username": "Alice Example", "email": "alice@example.com"}, "", "alice@example.com", "email", ""},
		{"login_field first", map[string]any{"sub": "1", "preferred_username": "alice", "nickname": "al"}, "nickname", "al", "nickname", ""},
		{"login_field with a space", map[string]any{"sub": "1", "preferred_username": "admin", "name": "Admin User"}, "name", "admin", "preferred_username", "Admin User"},
		{"login_field with a space, only sub", map[string]any{"sub": "42", "name": "Admin User"}, "name", "42", "sub", "Admin User"},
		{"sub with slashes", map[string]any{"sub": "CgNib2ISBGxkYXA/x y", "name": "Bob"}, "", "CgNib2ISBGxkYXA_x_y", "sub*", "Bob"},
		{"sub that is dots", map[string]any{"sub": ".."}, "", "sub-" + hash16(".."), "sub*", ""},
		{"display sanitised", map[string]any{"sub": "1", "preferred_username": "bob", "name": "Bob\u001b]52;c;ZXZpbA==\u0007 \u202eEvil"}, "", "bob", "preferred_username", "Bob Evil"},
		{"display equal to login dropped", map[string]any{"sub": "1", "preferred_username": "bob", "name": "bob"}, "", "bob", "preferred_username", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := FromClaims(tc.claims, tc.field)
			if err != nil {
				t.Fatal(err)
			}
			if id.Login != tc.login || id.LoginClaim != tc.claim || id.DisplayName != tc.display {
				t.Errorf("identity = %q from %q, display %q; want %q from %q, display %q", id.Login, id.LoginClaim, id.DisplayName, tc.login, tc.claim, tc.display)
			}
			if !githubapi.UsableLogin(id.Login) {
				t.Errorf("login %q is not usable", id.Login)
			}
		})
	}
	if _, err := FromClaims(map[string]any{"name": "Nobody"}, ""); err == nil {
		t.Error("claims without sub: no error")
	}
}

func hash16(s string) string {
	sum := sha256.Sum256([]byte(s))
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 16)
	for i := 0; i < 8; i++ {
		out[2*i], out[2*i+1] = hexdigits[sum[i]>>4], hexdigits[sum[i]&15]
	}
	return string(out)
}

func TestIdentify(t *testing.T) {
	is := newIssuer(t)
	ctx := context.Background()
	ident := func(field string) *Identifier {
		return &Identifier{Verifier: is.verifier(), UserInfoURL: is.url + "/me", LoginField: field}
	}

	// The ID token names the person: no userinfo request.
	tok := &oauth.Token{AccessToken: "at", IDToken: is.sign(t, map[string]any{"preferred_username": "alice"})}
	id, err := ident("").Identify(ctx, tok, "")
	if err != nil || id.Login != "alice" || id.IDToken == nil || id.Issuer != is.url || id.Subject != "alice" || is.uiCalls.Load() != 0 {
		t.Fatalf("Identify = %+v, %v (%d userinfo calls)", id, err, is.uiCalls.Load())
	}

	// Only sub in the ID token (as servers that conform to §5.4 send it):
	// userinfo adds the name.
	is.setUserinfo(200, `{"sub":"alice","preferred_username":"alice","name":"Alice Example"}`)
	id, err = ident("").Identify(ctx, &oauth.Token{AccessToken: "at", IDToken: is.sign(t, nil)}, "")
	if err != nil || id.Login != "alice" || id.DisplayName != "Alice Example" || is.uiCalls.Load() != 1 {
		t.Fatalf("with userinfo: %+v, %v", id, err)
	}

	// A userinfo reply for another sub is not used.
	is.setUserinfo(200, `{"sub":"mallory","preferred_username":"mallory"}`)
	id, err = ident("").Identify(ctx, &oauth.Token{AccessToken: "at", IDToken: is.sign(t, nil)}, "")
	if err != nil || id.Login != "alice" {
		t.Fatalf("userinfo of another sub: %+v, %v", id, err)
	}

	// userinfo down: the verified sub still names the account.
	is.setUserinfo(503, `{}`)
	id, err = ident("").Identify(ctx, &oauth.Token{AccessToken: "at", IDToken: is.sign(t, nil)}, "")
	if err != nil || id.Login != "alice" || id.LoginClaim != "sub" {
		t.Fatalf("userinfo down: %+v, %v", id, err)
	}

	// userinfo says the token is dead (403 invalid_token): an error.
	is.setUserinfo(403, `{}`, "WWW-Authenticate", `Bearer error="invalid_token"`)
	_, err = ident("").Identify(ctx, &oauth.Token{AccessToken: "at", IDToken: is.sign(t, nil)}, "")
	if !githubapi.IsUnauthorized(err) {
		t.Fatalf("dead token at userinfo: %v", err)
	}

	// No ID token at all: userinfo alone, login_field with a space.
	is.setUserinfo(200, `{"sub":"42","name":"Admin User","email":"admin@example.com"}`)
	id, err = ident("name").Identify(ctx, &oauth.Token{AccessToken: "at"}, "")
	if err != nil || id.Login != "admin@example.com" || id.DisplayName != "Admin User" || id.IDToken != nil {
		t.Fatalf("userinfo only: %+v, %v", id, err)
	}

	// A bad ID token fails the login, whatever userinfo says.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	forged := oidctest.SignIDToken(crypto.PrivateKey(other), "k1", oidc.RS256, `{"iss":"`+is.url+`","aud":"`+clientID+`","sub":"alice","exp":`+jsonInt(t0.Add(time.Hour).Unix())+`}`)
	var ve *VerifyError
	if _, err := ident("").Identify(ctx, &oauth.Token{AccessToken: "at", IDToken: forged}, ""); !errors.As(err, &ve) {
		t.Fatalf("forged ID token: %v", err)
	}

	// Nothing to ask.
	var ne *NoIdentityError
	if _, err := (&Identifier{Verifier: is.verifier()}).Identify(ctx, &oauth.Token{AccessToken: "at"}, ""); !errors.As(err, &ne) {
		t.Fatalf("no ID token, no userinfo: %v", err)
	}
	if n, err := NewNonce(); err != nil || len(n) != 43 {
		t.Errorf("NewNonce = %q, %v", n, err)
	}
}

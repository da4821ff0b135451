package idtoken

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// canaryRequestToken is the Actions request token in tests; it must never
// appear in an error.
const canaryRequestToken = "canary-request-token-8d0f3b"

var (
	keyOnce sync.Once
	keys    [2]*rsa.PrivateKey
)

// testKey returns one of two RSA keys generated once for the package.
func testKey(t *testing.T, i int) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		for j := range keys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keys[j] = k
		}
	})
	return keys[i]
}

// signJWT signs claims with RS256, header typ JWT and the given kid.
func signJWT(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// recorded is what a fake endpoint saw of one request.
type recorded struct {
	Method, Path, RawQuery string
	Header                 http.Header
}

// recorder is an httptest server on 127.0.0.1 that records every request and
// answers with handler.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newRecorder(t *testing.T, handler http.HandlerFunc) *recorder {
	t.Helper()
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, recorded{Method: req.Method, Path: req.URL.Path, RawQuery: req.URL.RawQuery, Header: req.Header.Clone()})
		r.mu.Unlock()
		handler(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

// host returns the server's host:port.
func (r *recorder) host() string { return strings.TrimPrefix(r.URL, "http://") }

// assertNoSecret fails when err's text, or that of anything it wraps,
// contains one of the secrets.
func assertNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for e := err; e != nil; e = errors.Unwrap(e) {
		for _, s := range secrets {
			if s != "" && strings.Contains(e.Error(), s) {
				t.Fatalf("error text leaks a secret %.12q…: %v", s, e)
			}
		}
	}
}

// tokenParts returns a JWT and its three parts as separate canaries.
func tokenParts(tok string) []string {
	return append([]string{tok}, strings.Split(tok, ".")...)
}

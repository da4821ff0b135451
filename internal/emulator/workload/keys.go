package workload

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/ghlogin/ghlogin/internal/emulator/internal/emuhttp"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
)

// signingKey is an issuer's RS256 key.
type signingKey struct {
	public jose.JSONWebKey // as published in the JWKS
	signer jose.Signer
}

// newSigningKey makes a 2048-bit RSA key. Actions keys, like GitHub's, come
// with a self-signed certificate (x5c) and their tokens carry x5t; their kid
// is the certificate's SHA-1 thumbprint in upper-case hex. Google keys have
// a lower-case hex kid and no certificate.
func newSigningKey(actions bool, now time.Time) *signingKey {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("emulator: cannot generate an RSA key: " + err.Error())
	}
	pub := jose.JSONWebKey{Key: &priv.PublicKey, Algorithm: string(jose.RS256), Use: "sig"}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if actions {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(now.UnixNano()),
			Subject:      pkix.Name{CommonName: "ghlogin emulator Actions OIDC token signing"},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.AddDate(10, 0, 0),
			KeyUsage:     x509.KeyUsageDigitalSignature,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
		if err != nil {
			panic("emulator: cannot make a certificate: " + err.Error())
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			panic("emulator: cannot parse a certificate: " + err.Error())
		}
		sum := sha1.Sum(der)
		pub.Certificates = []*x509.Certificate{cert}
		pub.CertificateThumbprintSHA1 = sum[:]
		pub.KeyID = strings.ToUpper(hex.EncodeToString(sum[:]))
		opts = opts.WithHeader("x5t", base64.RawURLEncoding.EncodeToString(sum[:]))
	} else {
		tp, err := pub.Thumbprint(crypto.SHA256)
		if err != nil {
			panic("emulator: cannot take a key thumbprint: " + err.Error())
		}
		pub.KeyID = hex.EncodeToString(tp[:20])
	}
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.RS256,
		Key:       jose.JSONWebKey{Key: priv, KeyID: pub.KeyID, Algorithm: string(jose.RS256)},
	}, opts)
	if err != nil {
		panic("emulator: cannot make a signer: " + err.Error())
	}
	return &signingKey{public: pub, signer: signer}
}

// sign returns a compact RS256 JWT of claims.
func (k *signingKey) sign(claims map[string]any) (string, error) {
	return jwt.Signed(k.signer).Claims(claims).Serialize()
}

// keySet is the JWKS the key is published in.
func (k *signingKey) keySet() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.public}}
}

// handleDiscovery serves an issuer's OpenID Provider Configuration.
func (w *Server) handleDiscovery(rec *emuhttp.Recorder, r *http.Request, actions bool) {
	if !getOnly(rec, r) {
		return
	}
	base := w.base(r)
	var doc map[string]any
	if actions {
		issuer := base + actionsIssuerPath
		doc = map[string]any{
			"issuer":                                issuer,
			"jwks_uri":                              issuer + "/.well-known/jwks",
			"subject_types_supported":               []string{"public", "pairwise"},
			"response_types_supported":              []string{"id_token"},
			"claims_supported":                      actionsClaimNames,
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"scopes_supported":                      []string{"openid"},
		}
	} else {
		doc = map[string]any{
			"issuer":                                base + googleIssuerPath,
			"jwks_uri":                              base + googleCertsPath,
			"subject_types_supported":               []string{"public"},
			"response_types_supported":              []string{"code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token", "none"},
			"claims_supported":                      []string{"aud", "email", "email_verified", "exp", "iat", "iss", "sub", "azp", "google"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"scopes_supported":                      []string{"openid", "email", "profile"},
		}
	}
	rec.Header().Set("Cache-Control", "public, max-age=3600")
	emuhttp.WriteJSON(rec, http.StatusOK, doc)
}

// handleJWKS serves an issuer's public keys.
func (w *Server) handleJWKS(rec *emuhttp.Recorder, r *http.Request, k *signingKey) {
	if !getOnly(rec, r) {
		return
	}
	rec.Header().Set("Cache-Control", "public, max-age=3600")
	emuhttp.WriteJSON(rec, http.StatusOK, k.keySet())
}

// getOnly answers 405 to anything but GET and HEAD.
func getOnly(rec *emuhttp.Recorder, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	rec.Header().Set("Allow", "GET")
	http.Error(rec, "Method Not Allowed", http.StatusMethodNotAllowed)
	return false
}

// keysFor returns the keys of issuer: this server's own issuers' from
// memory, any other's by OIDC discovery (https, or http on loopback).
func (w *Server) keysFor(ctx context.Context, base, issuer string) (jose.JSONWebKeySet, error) {
	switch issuer {
	case base + actionsIssuerPath:
		return w.actions.keySet(), nil
	case base + googleIssuerPath:
		return w.google.keySet(), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := fetchJSON(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", &disc); err != nil {
		return jose.JSONWebKeySet{}, err
	}
	if disc.Issuer != issuer {
		return jose.JSONWebKeySet{}, fmt.Errorf("the discovery document names issuer %q", disc.Issuer)
	}
	var set jose.JSONWebKeySet
	if err := fetchJSON(ctx, disc.JWKSURI, &set); err != nil {
		return jose.JSONWebKeySet{}, err
	}
	return set, nil
}

// fetchJSON GETs a URL that safe.CheckURL accepts (https, or loopback
// http) and decodes its JSON reply.
func fetchJSON(ctx context.Context, raw string, v any) error {
	u, err := safe.CheckURL(raw)
	if err != nil {
		var ue *safe.URLError
		if errors.As(err, &ue) && ue.Problem == safe.PlainHTTP {
			return fmt.Errorf("refusing %q: not https", raw)
		}
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := safehttp.HTTPClient(nil, 30*time.Second).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered HTTP %d", u.Redacted(), resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}

// Reasons verifyJWT gives; the STS handler turns them into Google's texts.
var (
	errJWTMalformed = errors.New("malformed")
	errJWTSignature = errors.New("signature")
)

// verifyJWT checks the signature of raw with the key named by its kid in
// set and returns its claims.
func verifyJWT(raw string, set jose.JSONWebKeySet) (map[string]any, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(tok.Headers) != 1 {
		return nil, errJWTMalformed
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) == 0 {
		return nil, errJWTSignature
	}
	var claims map[string]any
	for _, k := range keys {
		if err := tok.Claims(k.Key, &claims); err == nil {
			return claims, nil
		}
	}
	return nil, errJWTSignature
}

// unverifiedClaims returns the claims of raw without checking its signature.
func unverifiedClaims(raw string) (map[string]any, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(tok.Headers) != 1 {
		return nil, errJWTMalformed
	}
	var claims map[string]any
	if err := tok.UnsafeClaimsWithoutVerification(&claims); err != nil {
		return nil, errJWTMalformed
	}
	return claims, nil
}

// uniqueID is a stable 21-digit numeric ID for an email, like a service
// account's uniqueId (the sub of its ID tokens).
func uniqueID(email string) string {
	sum := sha256.Sum256([]byte(email))
	n := new(big.Int).SetBytes(sum[:])
	n.Mod(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(20), nil))
	return fmt.Sprintf("1%020d", n)
}

package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/oauth"
)

// Identity is who an OpenID Connect login belongs to.
type Identity struct {
	// Login is the account's key: a value githubapi.UsableLogin accepts.
	Login string
	// LoginClaim is the claim Login was read from ("preferred_username",
	// "email", "sub", the login_field claim), or "sub*" when it was made
	// from an unusable sub.
	LoginClaim string
	// DisplayName is how to show the person when it is not Login:
	// sanitised server text, "" when none.
	DisplayName string
	// Subject and Issuer identify the person for the server (sub, iss).
	Subject, Issuer string
	// IDToken is the verified ID token's claims; nil when the reply had no
	// ID token and the login was read from userinfo.
	IDToken *Claims
	// Claims are every claim used: the ID token's, plus userinfo's where
	// the ID token lacks them (server text: sanitise before showing).
	Claims map[string]any
}

// Preferred are the claims that name a person, in the order the login is
// taken from them after the host's login_field (OpenID Connect Core 1.0
// §5.1).
var Preferred = []string{"preferred_username", "email", "sub"}

// NoIdentityError means neither an ID token nor a userinfo endpoint said
// who the token belongs to.
type NoIdentityError struct {
	// Issuer is the server asked.
	Issuer string
}

// Error says what was missing.
func (e *NoIdentityError) Error() string {
	return "the reply from " + e.Issuer + " has no ID token and there is no userinfo endpoint to ask who the token belongs to"
}

// FromClaims picks the login and display name from claims (see the
// package documentation). loginField is the host's login_field setting (""
// when unset). It fails only when no claim, not even sub, names anyone.
func FromClaims(claims map[string]any, loginField string) (*Identity, error) {
	id := &Identity{Claims: claims}
	id.Subject, _ = claims["sub"].(string)
	id.Issuer, _ = claims["iss"].(string)
	order := Preferred
	if loginField != "" {
		order = append([]string{loginField}, Preferred...)
	}
	for _, c := range order {
		if v, ok := claims[c].(string); ok && githubapi.UsableLogin(v) {
			id.Login, id.LoginClaim = v, c
			break
		}
	}
	if id.Login == "" {
		if id.Subject == "" {
			return nil, errors.New("the claims name nobody: no usable " + strings.Join(order, ", ") + " claim")
		}
		id.Login, id.LoginClaim = loginFromSubject(id.Subject), "sub*"
	}
	if loginField != "" && id.LoginClaim != loginField {
		if v, ok := claims[loginField].(string); ok && v != "" {
			id.DisplayName = safe.Short(v, 200)
		}
	}
	if id.DisplayName == "" {
		if v, ok := claims["name"].(string); ok {
			id.DisplayName = safe.Short(v, 200)
		}
	}
	if id.DisplayName == id.Login {
		id.DisplayName = ""
	}
	return id, nil
}

// loginFromSubject makes a usable login of a sub claim that is not one:
// each character UsableLogin refuses becomes "_"; what is still refused
// (".", "..", too long) becomes "sub-" and the first 16 hex digits of its
// SHA-256.
func loginFromSubject(sub string) string {
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '/' || r == '\\' || r == utf8.RuneError || !unicode.IsPrint(r) {
			return '_'
		}
		return r
	}, strings.ToValidUTF8(sub, "_"))
	if githubapi.UsableLogin(s) {
		return s
	}
	sum := sha256.Sum256([]byte(sub))
	return "sub-" + hex.EncodeToString(sum[:8])
}

// Identifier says who a login's token belongs to.
type Identifier struct {
	// Verifier checks the reply's ID token; nil when the host has no
	// discovery document (then only userinfo can tell).
	Verifier *Verifier
	// UserInfo calls the userinfo endpoint; nil means a default client.
	UserInfo *githubapi.Client
	// UserInfoURL is the userinfo endpoint ("" when none).
	UserInfoURL string
	// LoginField is the host's login_field setting ("" when unset).
	LoginField string
}

// Identify says who tok belongs to. A reply with an ID token must pass
// Verify (with nonce, when the login sent one): a token that fails is an
// error, and the login must not be kept. When the ID token lacks the claims
// that name the person (the login_field claim, preferred_username, email) —
// servers often put them only in userinfo — the userinfo claims are added,
// unless their sub differs (OpenID Connect Core 1.0 §5.3.2: they are then
// not used). A userinfo failure other than a dead token is ignored when the
// ID token already identified the person.
//
// Errors: *VerifyError; *githubapi.UnauthorizedError (the new token is
// already rejected) and userinfo's other errors when there is no ID token;
// *NoIdentityError.
func (i *Identifier) Identify(ctx context.Context, tok *oauth.Token, nonce string) (*Identity, error) {
	rawID, access := tokenOf(tok)
	claims := map[string]any{}
	var verified *Claims
	issuer := ""
	if i.Verifier != nil && i.Verifier.Document != nil {
		issuer = i.Verifier.Document.Issuer
	}
	if rawID != "" {
		if i.Verifier == nil {
			return nil, errors.New("identity: the reply holds an ID token but there is no discovery document to verify it with")
		}
		c, err := i.Verifier.Verify(ctx, rawID, nonce, access)
		if err != nil {
			return nil, err
		}
		verified = c
		for k, v := range c.All {
			claims[k] = v
		}
	}
	if i.UserInfoURL != "" && (verified == nil || !names(claims, i.LoginField)) {
		api := i.UserInfo
		if api == nil {
			api = &githubapi.Client{}
		}
		ui, err := api.UserInfo(ctx, i.UserInfoURL, access)
		switch {
		case err != nil && (verified == nil || githubapi.IsUnauthorized(err)):
			return nil, err
		case err == nil && (verified == nil || ui["sub"] == verified.Subject):
			for k, v := range ui {
				if _, ok := claims[k]; !ok {
					claims[k] = v
				}
			}
		}
	}
	if verified == nil && len(claims) == 0 {
		return nil, &NoIdentityError{Issuer: issuer}
	}
	id, err := FromClaims(claims, i.LoginField)
	if err != nil {
		return nil, fmt.Errorf("reading who the token belongs to: %w", err)
	}
	id.IDToken = verified
	if verified != nil {
		id.Issuer, id.Subject = verified.Issuer, verified.Subject
	}
	return id, nil
}

// names reports whether claims hold what names the person: the
// login_field claim when one is set, else a usable preferred_username or
// email.
func names(claims map[string]any, loginField string) bool {
	if loginField != "" {
		_, ok := claims[loginField].(string)
		return ok
	}
	for _, c := range Preferred[:2] {
		if v, ok := claims[c].(string); ok && githubapi.UsableLogin(v) {
			return true
		}
	}
	return false
}

package idtoken

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// Decoded is a JWT's header and claims, read without checking the signature.
type Decoded struct {
	Header map[string]any `json:"header"`
	Claims map[string]any `json:"claims"`
}

// Audience returns the aud claim as a list (it may be a string or an array).
func (d *Decoded) Audience() []string { return audiences(d.Claims["aud"]) }

// DecodeError says why a string is not a readable JWT. It never holds the
// token itself.
type DecodeError struct {
	Part   string // "token", "header", "claims" or "signature"
	Reason string
}

// Error says which part is unreadable.
func (e *DecodeError) Error() string {
	if e.Part == "token" {
		return "not a JWT: " + e.Reason
	}
	return fmt.Sprintf("not a JWT: the %s %s", e.Part, e.Reason)
}

// Decode reads a compact JWS (header.claims.signature) and returns its header
// and claims as JSON objects. It does not check the signature: use Verify for
// that. Numbers are float64, as encoding/json decodes them.
func Decode(token string) (*Decoded, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, &DecodeError{Part: "token", Reason: "it is empty"}
	}
	parts := strings.Split(token, ".")
	switch len(parts) {
	case 3:
	case 5:
		return nil, &DecodeError{Part: "token", Reason: "it has 5 parts: an encrypted JWT (JWE) cannot be decoded"}
	default:
		return nil, &DecodeError{Part: "token", Reason: fmt.Sprintf("it has %d dot-separated parts, a JWT has 3", len(parts))}
	}
	header, err := decodeObject("header", parts[0])
	if err != nil {
		return nil, err
	}
	claims, err := decodeObject("claims", parts[1])
	if err != nil {
		return nil, err
	}
	if parts[2] == "" {
		return nil, &DecodeError{Part: "signature", Reason: "is empty (unsigned token)"}
	}
	if _, err := b64(parts[2]); err != nil {
		return nil, &DecodeError{Part: "signature", Reason: "is not base64url"}
	}
	return &Decoded{Header: header, Claims: claims}, nil
}

func decodeObject(part, s string) (map[string]any, error) {
	if s == "" {
		return nil, &DecodeError{Part: part, Reason: "is empty"}
	}
	raw, err := b64(s)
	if err != nil {
		return nil, &DecodeError{Part: part, Reason: "is not base64url"}
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		return nil, &DecodeError{Part: part, Reason: "is not a JSON object"}
	}
	return m, nil
}

// b64 decodes base64url without padding, as JWS uses it (a trailing "=" pad
// is tolerated).
func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.Strict().DecodeString(strings.TrimRight(s, "="))
}

// looksLikeJWT checks that s is a decodable, signed compact JWS.
func looksLikeJWT(s string) error {
	_, err := Decode(s)
	return err
}

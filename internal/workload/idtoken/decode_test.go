package idtoken

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	tok := signJWT(t, testKey(t, 0), "k1", map[string]any{
		"iss": "https://token.actions.githubusercontent.com", "aud": []string{"a", "b"}, "exp": 1700000300, "repository": "octo-org/octo-repo",
	})
	d, err := Decode(" " + tok + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if d.Header["alg"] != "RS256" || d.Header["kid"] != "k1" || d.Header["typ"] != "JWT" {
		t.Errorf("header = %v", d.Header)
	}
	if d.Claims["repository"] != "octo-org/octo-repo" || d.Claims["exp"] != float64(1700000300) {
		t.Errorf("claims = %v", d.Claims)
	}
	if aud, _ := d.Claims["aud"].([]any); len(aud) != 2 {
		t.Errorf("aud = %v", d.Claims["aud"])
	}
}

func TestDecodeGarbage(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	hdr, claims := enc(`{"alg":"RS256"}`), enc(`{"sub":"canary-subject"}`)
	cases := []struct {
		name, token, want string
	}{
		{"empty", "", "empty"},
		{"opaque token", "gho_canaryOpaqueToken123", "1 dot-separated parts"},
		{"two parts", hdr + "." + claims, "2 dot-separated parts"},
		{"JWE", "a.b.c.d.e", "encrypted JWT (JWE)"},
		{"empty header", "." + claims + ".c2ln", "header is empty"},
		{"header not base64url", "%%%." + claims + ".c2ln", "header is not base64url"},
		{"header standard base64", "eyJhbGciOiJSUzI1NiJ9+/." + claims + ".c2ln", "header is not base64url"},
		{"header not JSON", enc("canary-header") + "." + claims + ".c2ln", "header is not a JSON object"},
		{"header JSON array", enc(`["x"]`) + "." + claims + ".c2ln", "header is not a JSON object"},
		{"claims not JSON", hdr + "." + enc("canary-claims") + ".c2ln", "claims is not a JSON object"},
		{"claims null", hdr + "." + enc("null") + ".c2ln", "claims is not a JSON object"},
		{"claims with trailing data", hdr + "." + enc(`{"a":1}{"b":2}`) + ".c2ln", "claims is not a JSON object"},
		{"unsigned", hdr + "." + claims + ".", "signature is empty"},
		{"signature not base64url", hdr + "." + claims + ".!!", "signature is not base64url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.token)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want *DecodeError", err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "not a JWT: ") {
				t.Errorf("error %q lacks %q", err, c.want)
			}
			assertNoSecret(t, err, "canary", hdr, claims)
		})
	}
}

func TestSanitize(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	cases := []struct {
		name, body, want string
	}{
		{"plain text first words", "Missing required header: Metadata-Flavor\n", "Missing required header: Metadata-Flavor"},
		{"JSON message", `{"message":"The user does not have permission","typeName":"x"}`, "The user does not have permission"},
		{"OAuth style", `{"error":"invalid_request","error_description":"bad audience"}`, "bad audience"},
		{"Google style", `{"error":{"code":403,"message":"Permission denied","status":"PERMISSION_DENIED"}}`, "Permission denied"},
		{"control characters", "a\x00b\x1bc\r\nd", "ab d"},
		{"escape sequences", "\x1b[31mred\x1b[0m \x1b]52;c;ZXZpbA==\x07ok", "red ok"},
		{"JWT redacted", "token " + jwt + " rejected", "token [redacted] rejected"},
		{"secret redacted", "Bearer " + canaryRequestToken, "Bearer [redacted]"},
		{"long", strings.Repeat("x", 500), strings.Repeat("x", 200) + "…"},
	}
	for _, c := range cases {
		if got := snippet([]byte(c.body), canaryRequestToken); got != c.want {
			t.Errorf("%s: snippet = %q, want %q", c.name, got, c.want)
		}
	}
	err := redactErr(errors.New("boom "+jwt), canaryRequestToken)
	if strings.Contains(err.Error(), jwt) || errors.Unwrap(err) != nil {
		t.Errorf("redactErr = %v", err)
	}
	plain := errors.New("plain")
	if redactErr(plain, canaryRequestToken) != plain {
		t.Error("redactErr wrapped an error without secrets")
	}
}

package federation

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestCheckEndpointFollowsThePolicy covers what safe.CheckURL adds to the
// older checks: an empty fragment and an upper-case scheme.
func TestCheckEndpointFollowsThePolicy(t *testing.T) {
	if err := CheckEndpoint("STS URL", "HTTPS://sts.googleapis.com/v1/token"); err != nil {
		t.Errorf("upper-case scheme: %v", err)
	}
	err := CheckEndpoint("STS URL", "https://sts.googleapis.com/v1/token#")
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(ue.Reason, "fragment") {
		t.Errorf("empty fragment: %v", err)
	}
}

// TestAPIErrorTextIsSafe checks that IAM Credentials' message is cleaned by
// the one sanitiser before it is shown, and that the bearer is redacted even
// when control characters are woven into it.
func TestAPIErrorTextIsSafe(t *testing.T) {
	woven := stsCanary[:8] + "\x1b[0m" + stsCanary[8:]
	f := newFake(t, jsonReply(403, map[string]any{"error": map[string]any{
		"code": 403, "status": "PERMISSION\u202e_DENIED",
		"message": "\x1b]52;c;ZXZpbA==\x07denied for " + woven + "\nnext line",
	}}))
	fed := &Token{AccessToken: stsCanary, TokenType: "Bearer"}
	_, err := f.config().GenerateAccessToken(context.Background(), fed, saEmail, nil, 0)
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	if ae.Message != "denied for [redacted] next line" || ae.Status != "PERMISSION_DENIED" {
		t.Errorf("Message %q, Status %q", ae.Message, ae.Status)
	}
	noCanary(t, "APIError", err)
}

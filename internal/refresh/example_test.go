package refresh_test

import (
	"fmt"
	"time"

	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/oauth"
)

// NewSecret turns a token endpoint reply into a Secret: expiries are
// counted from now, in UTC, to the second.
func ExampleNewSecret() {
	tok := &oauth.Token{AccessToken: "ghu_example", TokenType: "bearer", ExpiresIn: 28800, RefreshToken: "ghr_example", RefreshTokenExpiresIn: 15897600}
	now := time.Date(2025, 3, 1, 12, 0, 0, 500_000_000, time.UTC)
	sec := refresh.NewSecret(tok, nil, nil, now)
	fmt.Println(sec.ExpiresAt.Format(time.RFC3339))
	fmt.Println(sec.RefreshTokenExpiresAt.Format(time.RFC3339))
	// Output:
	// 2025-03-01T20:00:00Z
	// 2025-09-01T12:00:00Z
}

package deviceflow

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/oauth"
)

// MinCodeGap is the least time between two requests for a device code
// under Config.Wait.
//
// GitHub's limits that apply to a login that keeps asking for codes
// (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#rate-limits-for-the-device-flow
// and .../rate-limits-for-oauth-apps):
//   - polling the token endpoint faster than the interval answers
//     slow_down, which adds 5 s to the interval for good (RFC 8628 §3.5);
//     Poll keeps to it, and a new code starts again from its own interval;
//   - entering codes in the browser is limited to 50 submissions an hour
//     per application, which only a person typing codes can reach;
//   - an OAuth app may create at most 2,000 access tokens an hour;
//   - the device code endpoint publishes no limit of its own, but falls
//     under GitHub's secondary rate limits, answered with 403 or 429 and
//     Retry-After.
//
// A code lives 15 minutes on GitHub, so renewing on expiry asks for 4
// codes an hour; the gap keeps a server that hands out short-lived codes
// (or answers each request with an expired one) from being asked more
// than once a minute, and a retry after a failure waits at least the gap
// and the server's Retry-After.
const MinCodeGap = time.Minute

// maxCodeBackoff caps the wait between retries of a failed code request
// under Config.Wait (unless Retry-After asks for longer).
const maxCodeBackoff = 10 * time.Minute

// loginWaiting is Login under Config.Wait: codes are requested until one
// is approved or denied, or the wait ends. The deadline wins over
// everything else: a code is polled no longer than until then, and a new
// code is asked for only when the request can go out before then (after
// MinCodeGap, and after a failed request's backoff); when it cannot, the
// login ends at once rather than sit idle until the deadline.
func (c *Config) loginWaiting(ctx context.Context) (*oauth.Token, error) {
	clk := c.clock()
	deadline := clk.Now().Add(c.Wait)
	var last time.Time // when the last code request was sent
	failures := 0
	for {
		if !last.IsZero() {
			next := last.Add(MinCodeGap)
			if !next.Before(deadline) {
				return nil, c.fail(c.waitTimeoutNoCode())
			}
			if err := sleepUntil(ctx, clk, next); err != nil {
				return nil, c.fail(err)
			}
		}
		last = clk.Now()
		code, err := c.requestCode(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, c.fail(ctx.Err())
			}
			if !transient(err) {
				return nil, c.fail(err)
			}
			failures++
			wait := codeBackoff(failures, oauth.RetryAfter(err))
			if !clk.Now().Add(wait).Before(deadline) {
				return nil, c.fail(err)
			}
			c.emit(Event{Kind: KindRetry, Reason: reason(err), RetryIn: wait})
			// The next request comes wait after this one failed.
			last = clk.Now().Add(wait - MinCodeGap)
			continue
		}
		failures = 0
		c.emit(Event{Kind: KindCode, Code: code.public()})
		tok, err := c.poll(ctx, code, deadline)
		if err == nil {
			c.emit(Event{Kind: KindSuccess})
			return tok, nil
		}
		if !codeExpired(err) {
			return nil, c.fail(err)
		}
		if !clk.Now().Before(deadline) {
			return nil, c.fail(c.waitTimeout())
		}
	}
}

// waitTimeout is the error when Config.Wait has passed with no code
// approved.
func (c *Config) waitTimeout() error {
	return &oauth.TimeoutError{Message: "no code was approved within " + waitText(c.Wait), Flow: oauth.FlowDevice, After: c.Wait}
}

// waitTimeoutNoCode is the error when the last code expired and no new
// one may be asked for before Config.Wait ends (MinCodeGap).
func (c *Config) waitTimeoutNoCode() error {
	return &oauth.TimeoutError{
		Message: "no code was approved within " + waitText(c.Wait) + ": the last code expired, and a new one may not be asked for before then (at most one a minute)",
		Flow:    oauth.FlowDevice, After: c.Wait,
	}
}

// fail reports err as the end of the login.
func (c *Config) fail(err error) error {
	c.emit(Event{Kind: KindError, Err: err})
	return err
}

// codeExpired reports whether a poll ended because the code expired: on
// our clock, or as the server said (expired_token, RFC 8628 §3.5).
func codeExpired(err error) bool {
	var te *oauth.TimeoutError
	if errors.As(err, &te) && te.Message == ExpiredMessage {
		return true
	}
	var oe *oauth.Error
	return errors.As(err, &oe) && oe.Code == "expired_token"
}

// waitText is d as a person wrote it: "2h", "90m", "45s".
func waitText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// codeBackoff is the wait before retry n (1-based) of a failed code
// request: MinCodeGap, doubling up to maxCodeBackoff, and at least the
// server's Retry-After.
func codeBackoff(n int, retryAfter time.Duration) time.Duration {
	d := MinCodeGap
	for i := 1; i < n && d < maxCodeBackoff; i++ {
		d *= 2
	}
	return max(min(d, maxCodeBackoff), retryAfter)
}

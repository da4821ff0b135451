package deviceflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/oauth"
)

// ExpiredMessage is the *oauth.TimeoutError's message when the code runs
// out before the person approves it.
const ExpiredMessage = "the code expired"

// minRequestTimeout is the least time a poll is given, even close to expiry.
const minRequestTimeout = 2 * time.Second

// Login requests a code and polls until the person approves or denies it,
// or the code expires; under Wait, expired codes are replaced by new ones
// until Wait has passed. Progress goes to OnEvent.
func (c *Config) Login(ctx context.Context) (*oauth.Token, error) {
	if c.Wait > 0 {
		if ctx == nil {
			ctx = context.Background()
		}
		return c.loginWaiting(ctx)
	}
	code, err := c.RequestCode(ctx)
	if err != nil {
		return nil, err
	}
	return c.Poll(ctx, code)
}

// Poll asks the token endpoint for a token with the device code until the
// person approves (the token is returned), the server gives a final error
// (*oauth.Error), the code expires (*oauth.TimeoutError), or ctx is done
// (ctx.Err()).
//
// Timing: the first poll comes one interval after the code arrived; each
// later poll comes no earlier than the current interval after the previous
// reply was received, measured on the Clock (monotonic for the real one),
// plus a small margin for clocks that run fast. slow_down raises the
// interval for good. Network failures (an unreadable body among them), 5xx,
// 429, and a reply that cannot be read as an OAuth reply (an HTML page with
// HTTP 200 from a captive portal, a WAF or a proxy) are retried with
// exponential backoff, never sooner than the interval and at least the
// server's Retry-After, until the code expires: the person may already have
// approved, and one bad reply must not lose that. Each retry is a KindRetry
// event; at expiry the *oauth.TimeoutError says what the last failure was.
func (c *Config) Poll(ctx context.Context, code *Code) (*oauth.Token, error) {
	tok, err := c.poll(ctx, code, time.Time{})
	if err != nil {
		c.emit(Event{Kind: KindError, Err: err})
		return nil, err
	}
	c.emit(Event{Kind: KindSuccess})
	return tok, nil
}

// poll is Poll without its events. A non-zero deadline (Config.Wait's end)
// ends polling then, before the code expires, with the wait's
// *oauth.TimeoutError.
func (c *Config) poll(ctx context.Context, code *Code, deadline time.Time) (*oauth.Token, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := c.checkClient(); err != nil {
		return nil, err
	}
	if c.TokenURL == "" {
		return nil, &ConfigError{Field: FieldTokenURL, Reason: "none is set"}
	}
	if code == nil || code.DeviceCode == "" {
		return nil, &ConfigError{Field: FieldCode, Reason: "no device code to poll with; request one first"}
	}
	clk := c.clock()
	interval := code.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	last := code.received
	if last.IsZero() {
		last = clk.Now()
	}
	expires := code.ExpiresAt
	if expires.IsZero() {
		expires = last.Add(DefaultExpiry)
	}
	// stop is when polling ends: the code's expiry, or the end of the
	// wait when that comes first.
	stop, timeout := expires, expiredError
	if !deadline.IsZero() && deadline.Before(expires) {
		stop, timeout = deadline, c.waitTimeout
	}
	form := url.Values{
		"grant_type":  {GrantType},
		"device_code": {code.DeviceCode},
	}
	wait := interval  // how long after last the next poll may go
	failures := 0     // consecutive transient failures
	lastFailure := "" // the reason of the latest transient failure, for the expiry message
	for {
		if err := waitFor(ctx, clk, last.Add(wait+margin(wait)), stop); err != nil {
			var te *oauth.TimeoutError
			switch {
			case !errors.As(err, &te):
			case stop.Before(expires):
				return nil, c.waitTimeout()
			case lastFailure != "":
				return nil, expiredAfter(lastFailure)
			}
			return nil, err
		}
		tok, err := c.exchange(ctx, clk, form, stop)
		last = clk.Now()
		if err == nil {
			return tok, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var oe *oauth.Error
		isOAuth := errors.As(err, &oe)
		switch {
		case isOAuth && oe.Code == "authorization_pending":
			failures, lastFailure = 0, ""
			wait = interval
			if expired(last, stop) {
				return nil, timeout()
			}
			c.emit(Event{Kind: KindPending})
		case isOAuth && oe.Code == "slow_down":
			failures, lastFailure = 0, ""
			interval = max(interval+SlowDownStep, min(oe.Interval.Duration(), maxExpiry))
			wait = interval
			if expired(last, stop) {
				return nil, timeout()
			}
			c.emit(Event{Kind: KindSlowDown, Interval: interval})
		case transient(err):
			failures++
			lastFailure = reason(err)
			wait = backoff(interval, failures, oauth.RetryAfter(err))
			if expired(last, stop) {
				if stop.Before(expires) {
					return nil, c.waitTimeout()
				}
				return nil, expiredAfter(lastFailure)
			}
			c.emit(Event{Kind: KindRetry, Reason: lastFailure, RetryIn: wait})
		default:
			return nil, redact(err, code.DeviceCode)
		}
	}
}

// exchange sends one poll, bounded by stop (the code's expiry, or the end
// of Config.Wait) as well as the client's own timeout, so a hanging server
// cannot keep us past it.
func (c *Config) exchange(ctx context.Context, clk clock.Clock, form url.Values, stop time.Time) (*oauth.Token, error) {
	rctx, cancel := context.WithTimeout(ctx, max(stop.Sub(clk.Now()), minRequestTimeout))
	defer cancel()
	return c.client().Exchange(rctx, c.TokenURL, c.Credentials, form)
}

// waitFor sleeps until target, re-checking the clock after each wake-up. If
// target is not before the expiry no poll can happen in time: it waits for
// the expiry itself and reports it.
func waitFor(ctx context.Context, clk clock.Clock, target, expires time.Time) error {
	if !target.Before(expires) {
		if err := sleepUntil(ctx, clk, expires); err != nil {
			return err
		}
		return expiredError()
	}
	if err := sleepUntil(ctx, clk, target); err != nil {
		return err
	}
	if expired(clk.Now(), expires) { // the machine slept through it
		return expiredError()
	}
	return nil
}

func sleepUntil(ctx context.Context, clk clock.Clock, t time.Time) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		d := t.Sub(clk.Now())
		if d <= 0 {
			return nil
		}
		if err := clk.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

func expired(now, expires time.Time) bool { return !now.Before(expires) }

func expiredError() error {
	return &oauth.TimeoutError{Message: ExpiredMessage, Flow: oauth.FlowDevice}
}

// expiredAfter is the expiry error when the last polls failed: it says why
// no answer could be read, so a person behind a broken proxy knows what to fix.
func expiredAfter(why string) error {
	return &oauth.TimeoutError{Message: ExpiredMessage + " while the token endpoint could not be read (last: " + why + ")", Flow: oauth.FlowDevice}
}

// margin is added to every wait so that a clock running slightly fast (seen
// on WSL and VMs) never makes a poll arrive early: 1% of the wait (a clock
// 1% fast is already a broken one), at least 15 ms (timer slack on a busy
// VM). GitHub's smallest interval is 5 s, so this is 50 ms there.
func margin(wait time.Duration) time.Duration {
	return max(15*time.Millisecond, wait/100)
}

// backoff is the wait before retry number n (1-based) after transient
// failures: interval, 2×, 4×… capped at MaxBackoff, never below the
// interval, and at least the server's Retry-After.
func backoff(interval time.Duration, n int, retryAfter time.Duration) time.Duration {
	d := interval
	for i := 1; i < n && d < MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, MaxBackoff)
	return max(d, interval, retryAfter)
}

// transient reports whether a failed poll is worth retrying: network
// failures, timeouts, 5xx and 429, and the RFC 6749 codes for a server in
// trouble. Other OAuth errors are final.
func transient(err error) bool {
	var oe *oauth.Error
	if errors.As(err, &oe) {
		switch oe.Code {
		case "server_error", "temporarily_unavailable":
			return true
		case "expired_token", "access_denied", "incorrect_device_code", "incorrect_client_credentials",
			"unsupported_grant_type", "device_flow_disabled", "invalid_grant", "invalid_client",
			"unauthorized_client", "invalid_request", "invalid_scope", "bad_verification_code":
			return false
		}
		return oe.StatusCode >= 500 || oe.StatusCode == http.StatusTooManyRequests
	}
	var he *oauth.HTTPError
	if errors.As(err, &he) && he.Unparsed && he.StatusCode >= 200 && he.StatusCode <= 299 {
		// A success status with a body that is no OAuth reply: a captive
		// portal, a WAF or a proxy answered this once. The next poll may
		// reach the server.
		return true
	}
	return oauth.IsTransient(err)
}

// reason is a short description of a transient failure for a retry event;
// it holds nothing the server chose beyond a status or error code.
func reason(err error) string {
	var ne *oauth.NetworkError
	var he *oauth.HTTPError
	var oe *oauth.Error
	var dns *net.DNSError
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "the request timed out"
	case errors.As(err, &dns):
		return "network error: host not found"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "network error: connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "network error: connection closed"
	case ne != nil:
		return "network error"
	case errors.As(err, &he) && he.HTML && he.StatusCode < 300:
		return fmt.Sprintf("HTTP %d with an HTML page instead of an OAuth reply (a proxy or captive portal?)", he.StatusCode)
	case errors.As(err, &he) && he.Unparsed && he.StatusCode < 300:
		return fmt.Sprintf("HTTP %d with a reply that is not an OAuth reply", he.StatusCode)
	case errors.As(err, &he):
		return fmt.Sprintf("HTTP %d %s", he.StatusCode, http.StatusText(he.StatusCode))
	case errors.As(err, &oe):
		return "server answered " + oe.Code
	}
	return "temporary failure"
}

// redact removes the device code from anything the server echoed into an
// error, so it cannot reach a log or an event.
func redact(err error, deviceCode string) error {
	var oe *oauth.Error
	if deviceCode == "" || !errors.As(err, &oe) {
		return err
	}
	if !strings.Contains(oe.Description, deviceCode) && !strings.Contains(oe.URI, deviceCode) {
		return err
	}
	cp := *oe
	cp.Description = strings.ReplaceAll(cp.Description, deviceCode, "[device code]")
	cp.URI = strings.ReplaceAll(cp.URI, deviceCode, "[device code]")
	return &cp
}

package idtoken

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"cloud.google.com/go/compute/metadata"

	"github.com/ghlogin/ghlogin/oauth"
)

// GCE gets a Google-signed ID token for the default service account from the
// metadata server of a Compute Engine VM, GKE pod, Cloud Run service and the
// like. It implements Source.
//
// The host is GCE_METADATA_HOST (host:port) when set, else 169.254.169.254.
// Requests go through cloud.google.com/go/compute/metadata, which reads
// GCE_METADATA_HOST from the process environment itself; Getenv is used to
// validate that value and to name the host in errors.
type GCE struct {
	HTTPClient *http.Client        // nil = a client with a DefaultTimeout timeout
	Getenv     func(string) string // nil = os.Getenv
}

// Name returns "gce".
func (g *GCE) Name() string { return SourceGCE }

// identityPath is the metadata path of the default service account's ID
// token, relative to /computeMetadata/v1/.
const identityPath = "instance/service-accounts/default/identity"

// Token asks the metadata server for an ID token:
// GET /computeMetadata/v1/instance/service-accounts/default/identity?audience=AUD[&format=full[&licenses=TRUE]]
// with Metadata-Flavor: Google. The reply is the JWT as text.
//
// The metadata library retries 429 and 5xx replies with backoff; ctx (bounded
// by DefaultTimeout when it has no deadline) limits how long.
func (g *GCE) Token(ctx context.Context, req Request) (string, error) {
	if strings.TrimSpace(req.Audience) == "" {
		return "", &UsageError{Source: SourceGCE, Message: "--audience is required for the metadata server"}
	}
	if req.Licenses && !req.Full {
		return "", &UsageError{Source: SourceGCE, Message: "licenses=TRUE needs format=full (--full)"}
	}
	host := strings.TrimSpace(orOSGetenv(g.Getenv)(EnvMetadataHost))
	if host == "" {
		host = DefaultMetadataHost
	} else if strings.Contains(host, "/") || strings.ContainsAny(host, " \t@?#") {
		return "", &UsageError{Source: SourceGCE, Message: EnvMetadataHost + " must be host:port, without a scheme or path (for example 127.0.0.1:8080)"}
	}
	q := url.Values{"audience": {req.Audience}}
	if req.Full {
		q.Set("format", "full")
	}
	if req.Licenses {
		q.Set("licenses", "TRUE")
	}

	ctx, cancel := withTimeout(ctx)
	defer cancel()
	// The metadata library reads the body of the last response even when
	// the client refused its redirect (Go closes it), and reports that read
	// instead: the refusal is noted here to be reported as itself.
	var refused redirectNote
	hc := refused.client(g.HTTPClient)
	rec := &statusRecorder{base: hc.Transport}
	recorded := *hc
	recorded.Transport = rec
	client := metadata.NewWithOptions(&metadata.Options{Client: &recorded})

	tok, err := client.GetWithContext(ctx, identityPath+"?"+q.Encode())
	if re := refused.get(); err != nil && re != nil {
		return "", fmt.Errorf("%s: %w", SourceGCE, re)
	}
	if err != nil {
		return "", gceError(err, host, rec.last())
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", &ResponseError{Source: SourceGCE, Message: "the body is empty (expected the JWT as text)"}
	}
	if err := looksLikeJWT(tok); err != nil {
		return "", &ResponseError{Source: SourceGCE, Message: "the body is " + err.Error()}
	}
	return tok, nil
}

// gceError maps the metadata library's errors to this package's types.
// lastStatus is the status of the last reply seen, if any (the library may
// have been retrying a 5xx when the context ended).
func gceError(err error, host string, lastStatus int) error {
	if re := redirectRefused(SourceGCE, err); re != nil {
		return re
	}
	var nd metadata.NotDefinedError
	if errors.As(err, &nd) {
		return &HTTPError{Source: SourceGCE, StatusCode: http.StatusNotFound}
	}
	var me *metadata.Error
	if errors.As(err, &me) {
		return &HTTPError{Source: SourceGCE, StatusCode: me.Code, Message: snippet([]byte(me.Message))}
	}
	if (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) &&
		(lastStatus == http.StatusTooManyRequests || lastStatus >= 500) {
		return &HTTPError{Source: SourceGCE, StatusCode: lastStatus, Message: "still failing when the time ran out"}
	}
	return &NetworkError{Source: SourceGCE, Host: host, Err: oauth.StripURL(err)}
}

// statusRecorder remembers the status code of the last response.
type statusRecorder struct {
	base   http.RoundTripper
	mu     sync.Mutex
	status int
}

func (s *statusRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	base := s.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(r)
	if resp != nil {
		s.mu.Lock()
		s.status = resp.StatusCode
		s.mu.Unlock()
	}
	return resp, err
}

func (s *statusRecorder) last() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

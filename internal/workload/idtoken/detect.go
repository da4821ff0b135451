package idtoken

import (
	"context"
	"net/http"
	"os"
	"strings"
	"time"

	"cloud.google.com/go/compute/metadata"
)

// osGetenv is the default environment reader.
var osGetenv = os.Getenv

// probeTimeout bounds the metadata probe of Detect("auto").
const probeTimeout = 5 * time.Second

// DetectOptions says which source Detect may pick and how to look.
type DetectOptions struct {
	// Source is "auto" (or ""), "github-actions" or "gce".
	Source string
	// Getenv reads the environment; nil = os.Getenv.
	Getenv func(string) string
	// HTTPClient is given to the source (and used by the probe); nil = a
	// client with a DefaultTimeout timeout.
	HTTPClient *http.Client
	// OnGCE reports whether a metadata server is reachable. nil = the metadata
	// library's probe, bounded by ctx and by five seconds.
	OnGCE func(context.Context) bool
}

// Detect returns the source named by opts.Source. With "auto" it picks
// GitHub Actions when ACTIONS_ID_TOKEN_REQUEST_URL and
// ACTIONS_ID_TOKEN_REQUEST_TOKEN are set, else the metadata server when
// GCE_METADATA_HOST is set or a metadata server answers; otherwise it returns
// a *NotAvailableError naming both options. An
// unknown source name is a *UsageError.
func Detect(ctx context.Context, opts DetectOptions) (Source, error) {
	getenv := orOSGetenv(opts.Getenv)
	switch strings.ToLower(strings.TrimSpace(opts.Source)) {
	case SourceGitHubActions:
		return actionsFromEnv(getenv, opts.HTTPClient)
	case SourceGCE:
		return &GCE{HTTPClient: opts.HTTPClient, Getenv: opts.Getenv}, nil
	case SourceAuto, "":
	default:
		return nil, &UsageError{Source: SourceAuto, Message: "unknown token source " + quote(opts.Source) + ": use auto, github-actions or gce"}
	}
	if strings.TrimSpace(getenv(EnvActionsRequestURL)) != "" && strings.TrimSpace(getenv(EnvActionsRequestToken)) != "" {
		return actionsFromEnv(getenv, opts.HTTPClient)
	}
	gce := &GCE{HTTPClient: opts.HTTPClient, Getenv: opts.Getenv}
	if strings.TrimSpace(getenv(EnvMetadataHost)) != "" {
		return gce, nil
	}
	onGCE := opts.OnGCE
	if onGCE == nil {
		onGCE = func(ctx context.Context) bool { return probeMetadata(ctx, opts.HTTPClient) }
	}
	if onGCE(ctx) {
		return gce, nil
	}
	if strings.EqualFold(strings.TrimSpace(getenv(EnvGitHubActions)), "true") {
		// A GitHub Actions job without the token variables: say why.
		return nil, actionsNotAvailable(getenv(EnvActionsRequestURL), getenv(EnvActionsRequestToken), getenv)
	}
	return nil, &NotAvailableError{
		Source: SourceAuto,
		Message: "no workload ID token source found: on GitHub Actions give the job \"permissions: id-token: write\" (so the runner sets " +
			EnvActionsRequestURL + " and " + EnvActionsRequestToken + "); on Google Cloud run where the metadata server is reachable (or set " +
			EnvMetadataHost + ")",
	}
}

func actionsFromEnv(getenv func(string) string, hc *http.Client) (Source, error) {
	g, err := GitHubActionsFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	g.HTTPClient = hc
	return g, nil
}

// probeMetadata asks the metadata library whether this runs on Google Cloud.
func probeMetadata(ctx context.Context, hc *http.Client) bool {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	return metadata.NewWithOptions(&metadata.Options{Client: httpClient(hc)}).OnGCEWithContext(ctx)
}

func quote(s string) string { return "\"" + sanitize(s) + "\"" }

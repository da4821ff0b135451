package idtoken

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/oauth"
)

// GitHubActions gets the ID token of a GitHub Actions job from the runner's
// token endpoint, as actions/toolkit's core.getIDToken does. It implements
// Source.
type GitHubActions struct {
	RequestURL   string       // $ACTIONS_ID_TOKEN_REQUEST_URL
	RequestToken string       // $ACTIONS_ID_TOKEN_REQUEST_TOKEN (a secret)
	HTTPClient   *http.Client // nil = a client with a DefaultTimeout timeout
}

// GitHubActionsFromEnv reads ACTIONS_ID_TOKEN_REQUEST_URL and
// ACTIONS_ID_TOKEN_REQUEST_TOKEN through getenv (os.Getenv when nil). Without
// them it returns a *NotAvailableError that says the job needs
// "permissions: id-token: write"; a request URL that is not https (or http on
// loopback) is a *UsageError.
func GitHubActionsFromEnv(getenv func(string) string) (*GitHubActions, error) {
	getenv = orOSGetenv(getenv)
	u := strings.TrimSpace(getenv(EnvActionsRequestURL))
	t := strings.TrimSpace(getenv(EnvActionsRequestToken))
	if u == "" || t == "" {
		return nil, actionsNotAvailable(u, t, getenv)
	}
	if _, err := ActionsTokenURL(u, ""); err != nil {
		return nil, err
	}
	return &GitHubActions{RequestURL: u, RequestToken: t}, nil
}

// Environment variables every GitHub Actions job has.
const (
	// EnvGitHubActions is "true" in every GitHub Actions job.
	EnvGitHubActions = "GITHUB_ACTIONS"
	// EnvGitHubEventName is the event that started the workflow.
	EnvGitHubEventName = "GITHUB_EVENT_NAME"
)

// forkRule is GitHub's rule about pull requests from forks.
const forkRule = "pull requests from forks never get an OIDC token (GitHub's rule), so a workflow must not rely on one there"

// actionsNotAvailable names the missing variables, the permission that
// makes the runner set them and GitHub's rule for forks. getenv (nil: none)
// tells whether this runs inside a job, and for which event.
func actionsNotAvailable(requestURL, requestToken string, getenv func(string) string) *NotAvailableError {
	var missing []string
	if strings.TrimSpace(requestURL) == "" {
		missing = append(missing, EnvActionsRequestURL)
	}
	if strings.TrimSpace(requestToken) == "" {
		missing = append(missing, EnvActionsRequestToken)
	}
	verb := "are"
	if len(missing) == 1 {
		verb = "is"
	}
	inJob := getenv != nil && strings.EqualFold(strings.TrimSpace(getenv(EnvGitHubActions)), "true")
	msg := "no GitHub Actions ID token: " + strings.Join(missing, " and ") + " " + verb + " not set"
	if inJob {
		msg += " in this GitHub Actions job"
	}
	msg += "; the runner sets " + EnvActionsRequestURL + " and " + EnvActionsRequestToken +
		" only for jobs with \"permissions: id-token: write\" (add it to the workflow or the job), and " + forkRule
	if inJob && strings.HasPrefix(getenv(EnvGitHubEventName), "pull_request") && getenv(EnvGitHubEventName) != "pull_request_target" {
		msg += "; this job runs for a " + getenv(EnvGitHubEventName) + " event, so if the pull request comes from a fork, that is why"
	}
	return &NotAvailableError{Source: SourceGitHubActions, Message: msg, InActions: inJob}
}

// Name returns "github-actions".
func (g *GitHubActions) Name() string { return SourceGitHubActions }

// ActionsTokenURL returns requestURL with audience=<audience> added to the
// query it already has (normally "api-version=2.0"). The existing parameters
// keep their order and encoding; an existing audience parameter is replaced.
// An empty audience leaves the query as it is. The URL must be https, or
// http on a loopback host, since the request token travels with it.
func ActionsTokenURL(requestURL, audience string) (string, error) {
	// A fragment is never sent, so it is dropped rather than refused.
	raw, _, _ := strings.Cut(strings.TrimSpace(requestURL), "#")
	u, err := safe.CheckURL(raw)
	if err != nil {
		msg := EnvActionsRequestURL + " is not an absolute URL"
		var ue *safe.URLError
		if errors.As(err, &ue) {
			switch ue.Problem {
			case safe.PlainHTTP, safe.Scheme:
				scheme, _, _ := strings.Cut(raw, ":")
				msg = "refusing to send the request token to " + EnvActionsRequestURL + " over " + strings.ToLower(scheme) + ": it must be https (or http on a loopback address)"
			case safe.UserInfo:
				msg = EnvActionsRequestURL + " must not hold a user name or password"
			}
		}
		return "", &UsageError{Source: SourceGitHubActions, Message: msg}
	}
	if audience != "" {
		var kept []string
		for _, p := range strings.Split(u.RawQuery, "&") {
			if p == "" {
				continue
			}
			k, _, _ := strings.Cut(p, "=")
			if key, err := url.QueryUnescape(k); err == nil && key == "audience" {
				continue
			}
			kept = append(kept, p)
		}
		kept = append(kept, url.Values{"audience": {audience}}.Encode())
		u.RawQuery = strings.Join(kept, "&")
		u.ForceQuery = false
	}
	return u.String(), nil
}

// Token asks the runner's endpoint for an ID token with the requested
// audience and returns the JWT from the reply's "value".
func (g *GitHubActions) Token(ctx context.Context, req Request) (string, error) {
	if req.Full || req.Licenses {
		return "", &UsageError{Source: SourceGitHubActions, Message: "format=full and licenses apply only to the metadata server (--source gce)"}
	}
	if strings.TrimSpace(g.RequestToken) == "" || strings.TrimSpace(g.RequestURL) == "" {
		return "", actionsNotAvailable(g.RequestURL, g.RequestToken, nil)
	}
	endpoint, err := ActionsTokenURL(g.RequestURL, req.Audience)
	if err != nil {
		return "", err
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return "", &UsageError{Source: SourceGitHubActions, Message: EnvActionsRequestURL + " cannot be requested: " + sanitize(oauth.StripURL(err).Error(), g.RequestToken)}
	}
	hreq.Header.Set("Authorization", "Bearer "+strings.TrimSpace(g.RequestToken))
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", userAgent)
	resp, err := httpClient(g.HTTPClient).Do(hreq)
	if err != nil {
		if re := redirectRefused(SourceGitHubActions, err, g.RequestToken); re != nil {
			return "", re
		}
		return "", &NetworkError{Source: SourceGitHubActions, Host: hreq.URL.Host, Err: redactErr(oauth.StripURL(err), g.RequestToken)}
	}
	defer resp.Body.Close()
	body, err := readBody(resp.Body)
	if err != nil {
		return "", &NetworkError{Source: SourceGitHubActions, Host: hreq.URL.Host, Err: redactErr(err, g.RequestToken)}
	}
	if resp.StatusCode != http.StatusOK {
		return "", &HTTPError{Source: SourceGitHubActions, StatusCode: resp.StatusCode, Message: snippet(body, g.RequestToken)}
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return "", &ResponseError{Source: SourceGitHubActions, Message: "the body is empty (expected JSON with a \"value\")"}
	}
	var reply map[string]json.RawMessage
	if err := json.Unmarshal(body, &reply); err != nil || reply == nil {
		return "", &ResponseError{Source: SourceGitHubActions, Message: "the body is not a JSON object (expected {\"value\": \"<JWT>\"})"}
	}
	raw, ok := reply["value"]
	if !ok {
		return "", &ResponseError{Source: SourceGitHubActions, Message: "the JSON has no \"value\" field"}
	}
	var value string
	if err := json.Unmarshal(raw, &value); err != nil {
		return "", &ResponseError{Source: SourceGitHubActions, Message: "the \"value\" field is not a string"}
	}
	tok := strings.TrimSpace(value)
	if tok == "" {
		return "", &ResponseError{Source: SourceGitHubActions, Message: "the \"value\" field is empty"}
	}
	if err := looksLikeJWT(tok); err != nil {
		return "", &ResponseError{Source: SourceGitHubActions, Message: "the \"value\" field is " + err.Error()}
	}
	return tok, nil
}

// redactErr returns err unchanged, or, when its text holds a secret or
// JWT-shaped text, an error with that text redacted. The redacted error does
// not unwrap, so the secret cannot be reached through errors.Unwrap either.
func redactErr(err error, secrets ...string) error {
	msg := err.Error()
	leaks := jwtLike().MatchString(msg)
	for _, sec := range secrets {
		if len(sec) >= 4 && strings.Contains(msg, sec) {
			leaks = true
		}
	}
	if !leaks {
		return err
	}
	return &redactedError{msg: sanitize(msg, secrets...)}
}

// redactedError is an error whose text had secrets removed.
type redactedError struct{ msg string }

func (e *redactedError) Error() string { return e.msg }

func orOSGetenv(getenv func(string) string) func(string) string {
	if getenv == nil {
		return osGetenv
	}
	return getenv
}

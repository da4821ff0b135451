package githubapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
	"github.com/ghlogin/ghlogin/oauth"
)

// AppTokenError is GitHub's refusal of DELETE /applications/{client_id}/token.
type AppTokenError struct {
	// Host is the API host that answered.
	Host string
	// StatusCode is 401 or 403 (the app's client ID and secret were
	// refused), 404 (the token is unknown: already revoked, or another
	// app's) or 422 (the request was refused).
	StatusCode int
}

// Error says what GitHub refused.
func (e *AppTokenError) Error() string {
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Sprintf("%s refused the OAuth app's client ID and secret (HTTP %d)", e.Host, e.StatusCode)
	case http.StatusNotFound:
		return fmt.Sprintf("%s does not know the token (HTTP 404): it was already revoked, or belongs to another app", e.Host)
	}
	return fmt.Sprintf("%s refused to revoke the token (HTTP %d)", e.Host, e.StatusCode)
}

// Gone reports that the server does not know the token (404): it no longer
// works, which is what revoking it was for.
func (e *AppTokenError) Gone() bool { return e.StatusCode == http.StatusNotFound }

// AppTokenURL is the endpoint that revokes one token of an OAuth app or a
// GitHub App: apiURL + /applications/{client_id}/token ("Delete an app
// token", GitHub REST API).
func AppTokenURL(apiURL, clientID string) string {
	return strings.TrimRight(apiURL, "/") + "/applications/" + url.PathEscape(clientID) + "/token"
}

// DeleteAppToken revokes token, issued to the app creds names, with
// DELETE {apiURL}/applications/{client_id}/token, authenticated with HTTP
// Basic client_id:client_secret and the token in the JSON body — never
// /grant, which would end every session of the app for that user. The
// request carries secrets, so it follows no redirect. nil means revoked.
// Errors: *AppTokenError, *oauth.HTTPError (5xx and the like),
// *oauth.NetworkError, *safe.URLError; an error without a client secret.
// Whatever the server echoes, neither the token nor the client secret is
// in the error.
func (c *Client) DeleteAppToken(ctx context.Context, apiURL string, creds oauth.Credentials, token string) error {
	basic := base64.StdEncoding.EncodeToString([]byte(creds.ClientID + ":" + creds.ClientSecret))
	return redact(c.deleteAppToken(ctx, apiURL, creds, token), append(oauth.SecretsFrom(ctx), token, creds.ClientSecret, basic)...)
}

// deleteAppToken is DeleteAppToken before redaction.
func (c *Client) deleteAppToken(ctx context.Context, apiURL string, creds oauth.Credentials, token string) error {
	if creds.ClientID == "" || creds.ClientSecret == "" {
		return errors.New("revoking a token through the API needs the app's client ID and client secret")
	}
	if token == "" {
		return errors.New("no token to revoke")
	}
	endpoint := AppTokenURL(apiURL, creds.ClientID)
	u, err := safe.CheckURL(endpoint)
	if err != nil {
		return err
	}
	where := u.Scheme + "://" + u.Host + u.Path
	body, _ := json.Marshal(map[string]string{"access_token": token})
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(safehttp.WithSecret(ctx), http.MethodDelete, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(creds.ClientID, creds.ClientSecret)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := safehttp.HTTPClient(c.HTTPClient, timeout).Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return ctx.Err()
		}
		return &oauth.NetworkError{Endpoint: where, Err: oauth.StripURL(err)}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, oauth.MaxBodyBytes))
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
		return nil
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity:
		return &AppTokenError{Host: u.Host, StatusCode: resp.StatusCode}
	}
	return &oauth.HTTPError{StatusCode: resp.StatusCode, Detail: "from " + where,
		RetryAfter: oauth.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
}

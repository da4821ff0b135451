// Package credconfig writes the "external_account" credential configuration
// that Google's client libraries read to use Workload Identity Federation, in
// the shape `gcloud iam workload-identity-pools create-cred-config` writes:
// where the workload's OIDC token comes from (a file or a URL), the STS
// token URL, the pool provider's audience, and optionally the service
// account to impersonate.
package credconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/workload/federation"
	"github.com/ghlogin/ghlogin/internal/workload/idtoken"
)

// Values written into every configuration.
const (
	TypeExternalAccount = "external_account"
	UniverseDomain      = "googleapis.com"
)

// Environment variables GitHub Actions sets in a job with
// `permissions: id-token: write`.
const (
	EnvRequestURL   = idtoken.EnvActionsRequestURL
	EnvRequestToken = idtoken.EnvActionsRequestToken
)

// Options describe the configuration to build.
type Options struct {
	// Provider is the workload identity pool provider (required).
	Provider federation.Provider
	// ServiceAccount, when set, is impersonated through IAM Credentials.
	ServiceAccount string
	// TokenLifetime is the impersonated token's lifetime (needs
	// ServiceAccount); zero leaves the libraries' default of 3600s.
	TokenLifetime time.Duration
	// STSURL and IAMCredentialsURL default as in package federation.
	STSURL, IAMCredentialsURL string
	// File is credential_source.file: a file holding the OIDC token. Give
	// an absolute path; the libraries read it relative to their own
	// working directory otherwise.
	File string
	// URL is credential_source.url, fetched with a GET and Headers.
	URL     string
	Headers map[string]string
	// Format is "text" (the default: the whole file or reply is the token)
	// or "json", which reads the token from the field named Field.
	Format string
	Field  string
	// Audience is, for GitHubActions only, the audience to request the
	// job's token for; "" means Provider.DefaultTokenAudience(). Build
	// rejects it: a file or URL source supplies its own token.
	Audience string
}

// Config is an external_account credential configuration. It can hold a
// secret (a URL source's Authorization header): String hides header values.
type Config struct {
	UniverseDomain                 string           `json:"universe_domain"`
	Type                           string           `json:"type"`
	Audience                       string           `json:"audience"`
	SubjectTokenType               string           `json:"subject_token_type"`
	TokenURL                       string           `json:"token_url"`
	ServiceAccountImpersonationURL string           `json:"service_account_impersonation_url,omitempty"`
	ServiceAccountImpersonation    *Impersonation   `json:"service_account_impersonation,omitempty"`
	CredentialSource               CredentialSource `json:"credential_source"`
}

// Impersonation is the service_account_impersonation object.
type Impersonation struct {
	TokenLifetimeSeconds int64 `json:"token_lifetime_seconds"`
}

// CredentialSource says where the libraries read the subject token.
type CredentialSource struct {
	File    string            `json:"file,omitempty"`
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Format  *Format           `json:"format,omitempty"`
}

// Format is credential_source.format, written only for JSON sources.
type Format struct {
	Type                  string `json:"type"`
	SubjectTokenFieldName string `json:"subject_token_field_name,omitempty"`
}

// Error is an option that cannot make a valid configuration, or a missing
// environment. It never holds a header value.
type Error struct {
	Reason string
}

func (e *Error) Error() string { return "credential configuration: " + e.Reason }

func errorf(format string, args ...any) error { return &Error{Reason: fmt.Sprintf(format, args...)} }

// Build checks o and returns the configuration it describes.
func Build(o Options) (*Config, error) {
	if err := o.Provider.Validate(); err != nil {
		return nil, err
	}
	if o.Audience != "" {
		return nil, errorf("an audience (--audience) applies only to --github-actions: a file or URL source supplies its own token")
	}
	fed := &federation.Config{STSURL: o.STSURL, IAMCredentialsURL: o.IAMCredentialsURL}
	if err := federation.CheckEndpoint("STS URL", fed.STSEndpoint()); err != nil {
		return nil, err
	}
	c := &Config{
		UniverseDomain:   UniverseDomain,
		Type:             TypeExternalAccount,
		Audience:         o.Provider.Audience(),
		SubjectTokenType: federation.TokenTypeJWT,
		TokenURL:         fed.STSEndpoint(),
	}
	if o.ServiceAccount != "" {
		if err := federation.ValidateServiceAccount(o.ServiceAccount); err != nil {
			return nil, err
		}
		if err := federation.CheckEndpoint("IAM Credentials URL", fed.IAMCredentialsEndpoint()); err != nil {
			return nil, err
		}
		c.ServiceAccountImpersonationURL = fed.ImpersonationURL(o.ServiceAccount)
		if o.TokenLifetime != 0 {
			if err := federation.ValidateLifetime(o.TokenLifetime); err != nil {
				return nil, err
			}
			c.ServiceAccountImpersonation = &Impersonation{TokenLifetimeSeconds: int64(o.TokenLifetime / time.Second)}
		}
	} else if o.TokenLifetime != 0 {
		return nil, errorf("a token lifetime applies only to an impersonated service account: add --service-account")
	}

	switch {
	case o.File != "" && o.URL != "":
		return nil, errorf("give either a credential file (--credential-file) or a URL (--credential-url), not both")
	case o.File == "" && o.URL == "":
		return nil, errorf("say where the OIDC token comes from: --credential-file PATH or --credential-url URL (or --github-actions)")
	case o.File != "":
		if strings.TrimSpace(o.File) != o.File || strings.ContainsAny(o.File, "\x00\r\n") {
			return nil, errorf("the credential file path %q has control characters or surrounding spaces", o.File)
		}
		if len(o.Headers) > 0 {
			return nil, errorf("headers (--header) apply only to a credential URL")
		}
		c.CredentialSource.File = o.File
	default:
		if err := checkSourceURL(o.URL); err != nil {
			return nil, err
		}
		c.CredentialSource.URL = o.URL
		if len(o.Headers) > 0 {
			c.CredentialSource.Headers = make(map[string]string, len(o.Headers))
			for k, v := range o.Headers {
				if !validHeaderName(k) {
					return nil, errorf("header name %q is not a valid HTTP header name", k)
				}
				if strings.ContainsAny(v, "\x00\r\n") {
					return nil, errorf("the value of header %s has control characters", k)
				}
				c.CredentialSource.Headers[k] = v
			}
		}
	}

	switch strings.ToLower(o.Format) {
	case "", "text":
		if o.Field != "" {
			return nil, errorf("a field name (--field) needs --format json")
		}
	case "json":
		if strings.TrimSpace(o.Field) == "" {
			return nil, errorf("--format json needs the name of the field that holds the token (--field, \"value\" for GitHub Actions)")
		}
		c.CredentialSource.Format = &Format{Type: "json", SubjectTokenFieldName: o.Field}
	default:
		return nil, errorf("format %q: use \"text\" or \"json\"", o.Format)
	}
	return c, nil
}

// GitHubActions builds the URL-sourced configuration that reads the job's
// OIDC token from the Actions token endpoint, as google-github-actions/auth
// does: $ACTIONS_ID_TOKEN_REQUEST_URL with &audience= o.Audience (default:
// the provider's default token audience), the header Authorization: Bearer
// $ACTIONS_ID_TOKEN_REQUEST_TOKEN, and the token in the JSON field "value".
// The bearer is written into the file, which WriteFile keeps private (0600).
// o must not name another source. getenv nil means os.Getenv.
func GitHubActions(o Options, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if o.File != "" || o.URL != "" || len(o.Headers) > 0 || o.Format != "" || o.Field != "" {
		return nil, errorf("--github-actions sets the token source itself: drop --credential-file, --credential-url, --header, --format and --field")
	}
	if err := o.Provider.Validate(); err != nil {
		return nil, err
	}
	reqURL, reqToken := getenv(EnvRequestURL), getenv(EnvRequestToken)
	if reqURL == "" || reqToken == "" {
		return nil, errorf("%s and %s are not set: run this in a GitHub Actions job whose workflow grants `permissions: id-token: write`", EnvRequestURL, EnvRequestToken)
	}
	if strings.ContainsAny(reqToken, "\x00\r\n ") {
		return nil, errorf("%s is not a single-line token", EnvRequestToken)
	}
	aud := o.Audience
	if aud == "" {
		aud = o.Provider.DefaultTokenAudience()
	}
	if len(aud) > 2048 || strings.ContainsAny(aud, "\x00\r\n") {
		return nil, errorf("the audience must be a single line of at most 2048 characters")
	}
	u, err := idtoken.ActionsTokenURL(reqURL, aud)
	if err != nil {
		return nil, errorf("%v", err)
	}
	o.Audience = ""
	o.URL = u
	o.Headers = map[string]string{"Authorization": "Bearer " + reqToken}
	o.Format = "json"
	o.Field = "value"
	return Build(o)
}

// checkSourceURL applies safe.CheckURL, and on top of it allows plain http
// to a link-local address (a metadata server such as 169.254.169.254), as
// Google's client libraries do.
func checkSourceURL(raw string) error {
	check := raw
	if u, err := url.Parse(raw); err == nil && u.Scheme == "http" {
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLinkLocalUnicast() {
			check = "https" + raw[len("http"):]
		}
	}
	_, err := safe.CheckURL(check)
	if err == nil {
		return nil
	}
	var ue *safe.URLError
	if errors.As(err, &ue) {
		switch ue.Problem {
		case safe.UserInfo:
			return errorf("the credential URL must not hold a user name or password")
		case safe.Fragment:
			return errorf("the credential URL must not have a #fragment")
		case safe.PlainHTTP:
			if u, err := url.Parse(raw); err == nil {
				return errorf("the credential URL %s must use https (http only on a loopback or link-local address)", u.Scheme+"://"+u.Host+u.Path)
			}
		}
	}
	return errorf("the credential URL must be an absolute https URL")
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) {
			return false
		}
	}
	return true
}

// Marshal returns the configuration as indented JSON ending in a newline,
// with no HTML escaping (URLs keep their '&').
func (c *Config) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// String describes c without header values.
func (c Config) String() string {
	src := "file " + c.CredentialSource.File
	if c.CredentialSource.URL != "" {
		u := c.CredentialSource.URL
		if pu, err := url.Parse(u); err == nil {
			u = pu.Scheme + "://" + pu.Host + pu.Path
		}
		names := make([]string, 0, len(c.CredentialSource.Headers))
		for k := range c.CredentialSource.Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		src = fmt.Sprintf("url %s headers %v", u, names)
	}
	sa := ""
	if c.ServiceAccountImpersonationURL != "" {
		sa = " impersonating " + c.ServiceAccountImpersonationURL
	}
	return fmt.Sprintf("credconfig.Config{%s audience %s from %s%s}", c.Type, c.Audience, src, sa)
}

// GoString hides header values from %#v too.
func (c Config) GoString() string { return c.String() }

// WriteFile writes the configuration to path with mode 0600, atomically (a
// temporary file in the same directory, then a rename). It refuses to
// replace a symbolic link or a directory.
func (c *Config) WriteFile(path string) error {
	if path == "" {
		return errorf("no output file given (--output)")
	}
	data, err := c.Marshal()
	if err != nil {
		return fmt.Errorf("encoding the credential configuration: %w", err)
	}
	fi, err := os.Lstat(path)
	switch {
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		return errorf("%s is a symbolic link; refusing to write through it: give the real path", path)
	case err == nil && fi.IsDir():
		return errorf("%s is a directory: give a file name", path)
	case err == nil && !fi.Mode().IsRegular():
		return errorf("%s is not a regular file", path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("writing the credential configuration: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing the credential configuration: %w (does the directory %s exist and is it writable?)", err, dir)
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("writing the credential configuration: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("writing the credential configuration: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing the credential configuration: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the credential configuration: %w", err)
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("writing the credential configuration: %w", err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

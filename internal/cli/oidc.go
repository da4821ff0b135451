package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
	"github.com/ghlogin/ghlogin/internal/workload/credconfig"
	"github.com/ghlogin/ghlogin/internal/workload/federation"
	"github.com/ghlogin/ghlogin/internal/workload/idtoken"
)

// Environment variables that point the workload commands at other
// endpoints (other universes, or the emulator's fakes). Flags win.
const (
	envSTSURL            = "GHLOGIN_STS_URL"
	envIAMCredentialsURL = "GHLOGIN_IAMCREDENTIALS_URL"
)

// maxSubjectTokenBytes bounds --subject-token-file: an ID token is a few KiB.
const maxSubjectTokenBytes = 64 << 10

func (a *app) oidcCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "oidc",
		Short: "Workload identity: OIDC tokens from GitHub Actions or Google Cloud, and Google Workload Identity Federation",
		Long: "Get a workload its tokens where no person is present, with no long-lived secret:\n" +
			"  ghlogin oidc token        the OIDC ID token of this GitHub Actions job or Google Cloud VM\n" +
			"  ghlogin oidc exchange     that token exchanged for a Google Cloud access token (STS, then\n" +
			"                            optionally a service account's access or ID token)\n" +
			"  ghlogin oidc cred-config  an external_account credential file for Google's client libraries\n" +
			"  ghlogin oidc doctor       whether Google's STS would accept the token, and if not, why",
		Args: noArgs,
		RunE: parentRun,
	}
	cmd.AddCommand(a.oidcTokenCmd(), a.oidcExchangeCmd(), a.oidcCredConfigCmd(), newOIDCDoctorCmd(a, nil))
	return cmd
}

// workloadHTTP is the HTTP client for the workload commands, under the one
// redirect policy (it reaches go-oidc through oidc.ClientContext and the
// metadata library too); the packages add their own per-request timeouts.
func (a *app) workloadHTTP() *http.Client {
	return safehttp.HTTPClient(a.env.HTTPClient, 30*time.Second)
}

// checkSource validates --source.
func checkSource(s string) error {
	switch s {
	case "auto", "github-actions", "gce":
		return nil
	}
	return usagef("--source %q: use auto, github-actions or gce", s)
}

// ambientToken fetches the workload's ID token from the source named by
// --source. withFile says the command also takes --subject-token-file
// (exchange, doctor): when no source has a token, the message names it.
func (a *app) ambientToken(ctx context.Context, source string, req idtoken.Request, withFile bool) (string, idtoken.Source, error) {
	src, err := idtoken.Detect(ctx, idtoken.DetectOptions{Source: source, Getenv: a.getenv, HTTPClient: a.workloadHTTP()})
	if err != nil {
		return "", nil, asUsage(orTokenFile(err, withFile))
	}
	tok, err := src.Token(ctx, req)
	if err != nil {
		return "", src, asUsage(orTokenFile(err, withFile))
	}
	return tok, src, nil
}

// orTokenFile adds "or pass the token with --subject-token-file" to an
// error saying that the workload has no token to give, when the command
// takes that flag.
func orTokenFile(err error, withFile bool) error {
	var (
		na *idtoken.NotAvailableError
		ne *idtoken.NetworkError
	)
	if !withFile || !errors.As(err, &na) && !(errors.As(err, &ne) && !ne.Timeout()) {
		return err
	}
	return fmt.Errorf("%w; or pass the token with --subject-token-file", err)
}

// asUsage marks idtoken's usage errors (a missing --audience, flags the
// source cannot honour) as command-line mistakes: exit status 2.
func asUsage(err error) error {
	var ue *idtoken.UsageError
	if errors.As(err, &ue) {
		return &usageError{err: err}
	}
	return err
}

func (a *app) oidcTokenCmd() *cobra.Command {
	var (
		audience, source, issuer, format string
		decode, verify                   bool
		full, licenses                   bool
	)
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print this workload's OIDC ID token (GitHub Actions job or Google metadata server)",
		Long: "Print the OIDC ID token of this workload and nothing else:\n" +
			"  github-actions  from ACTIONS_ID_TOKEN_REQUEST_URL with ACTIONS_ID_TOKEN_REQUEST_TOKEN\n" +
			"                  (the job needs 'permissions: id-token: write')\n" +
			"  gce             from the Google metadata server (GCE_METADATA_HOST overrides its address)\n" +
			"--source auto (the default) picks the first that is available.\n\n" +
			"--decode prints the header and claims as JSON instead, without checking the signature.\n" +
			"--verify checks the signature against the issuer's keys (OIDC discovery), the expiry and,\n" +
			"with --audience, the audience; --issuer pins the issuer instead of trusting the token's.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkSource(source); err != nil {
				return err
			}
			switch format {
			case "", "standard":
			case "full":
				full = true
			default:
				return usagef("--format %q: use standard or full (the metadata server's format parameter)", format)
			}
			if licenses && !full {
				return syntaxf("--licenses needs --full (the metadata server adds licence IDs only to full tokens)")
			}
			ctx := cmd.Context()
			tok, _, err := a.ambientToken(ctx, source, idtoken.Request{Audience: audience, Full: full, Licenses: licenses}, false)
			if err != nil {
				return err
			}
			var verified *idtoken.Verified
			if verify {
				verified, err = idtoken.Verify(ctx, tok, idtoken.VerifyOptions{
					Issuer: issuer, Audience: audience, HTTPClient: a.workloadHTTP(), Clock: a.env.Clock,
				})
				if err != nil {
					return err
				}
				// The claims are the issuer's text: safe.Text before the terminal.
				fmt.Fprintf(a.env.Stderr, "Verified: signed by %s for %s, subject %s, expires %s\n",
					safe.Text(verified.Issuer), safe.Text(strings.Join(verified.Audience, ", ")), safe.Text(verified.Subject),
					verified.Expiry.UTC().Format(time.RFC3339))
			}
			if !decode {
				_, err = fmt.Fprintln(a.env.Stdout, tok)
				return err
			}
			d, err := idtoken.Decode(tok)
			if err != nil {
				return err
			}
			out := struct {
				*idtoken.Decoded
				Verified *bool `json:"verified,omitempty"`
			}{Decoded: d}
			if verify {
				out.Verified = &verify
			}
			return writeJSON(a.env.Stdout, out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&audience, "audience", "", "audience (aud) of the token (GitHub Actions default: the repository owner's URL; required for gce)")
	f.StringVar(&source, "source", "auto", "where the token comes from: auto, github-actions or gce")
	f.BoolVar(&decode, "decode", false, "print the header and claims as JSON (no signature check) instead of the token")
	f.BoolVar(&verify, "verify", false, "check the signature (issuer's JWKS via OIDC discovery), expiry and audience")
	f.StringVar(&issuer, "issuer", "", "with --verify: the issuer the token must come from (default: the token's own, https only)")
	f.BoolVar(&full, "full", false, "gce: format=full, adding the instance's project, zone and name to the claims")
	f.StringVar(&format, "format", "", "gce: the metadata server's format parameter, standard or full (full is the same as --full)")
	f.BoolVar(&licenses, "licenses", false, "gce: licenses=TRUE, adding the instance's licence IDs (needs --full)")
	return cmd
}

// writeJSON writes v as indented JSON and a newline. What a server chose
// (a token's claims, scopes, logins) is kept verbatim but with the
// characters a terminal could act on escaped (safe.JSON).
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(safe.JSON(buf.Bytes()))
	return err
}

// endpointFlags are the overridable Google endpoints.
type endpointFlags struct{ sts, iam string }

func (e *endpointFlags) register(cmd *cobra.Command) {
	// Other names people reach for (the credential configuration's own
	// field names, "endpoint" for "url") mean the same flags.
	cmd.Flags().SetNormalizeFunc(func(f *pflag.FlagSet, name string) pflag.NormalizedName {
		switch name {
		case "sts-endpoint", "token-url", "sts-token-url":
			name = "sts-url"
		case "iamcredentials-endpoint", "iam-credentials-url", "iam-credentials-endpoint", "iam-url":
			name = "iamcredentials-url"
		}
		return pflag.NormalizedName(name)
	})
	cmd.Flags().StringVar(&e.sts, "sts-url", "", "Security Token Service token endpoint (default https://sts.googleapis.com/v1/token, or $"+envSTSURL+")")
	cmd.Flags().StringVar(&e.iam, "iamcredentials-url", "", "IAM Service Account Credentials API base URL (default https://iamcredentials.googleapis.com, or $"+envIAMCredentialsURL+")")
}

// resolve fills empty values from the environment (then the packages' defaults).
func (e *endpointFlags) resolve(a *app) (sts, iam string) {
	sts, iam = e.sts, e.iam
	if sts == "" {
		sts = a.getenv(envSTSURL)
	}
	if iam == "" {
		iam = a.getenv(envIAMCredentialsURL)
	}
	return sts, iam
}

// parseProviderFlag parses --provider as a usage error when wrong.
func parseProviderFlag(s string) (federation.Provider, error) {
	if s == "" {
		return federation.Provider{}, syntaxf("--provider is required: //iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER")
	}
	p, err := federation.ParseProvider(s)
	if err != nil {
		return p, &usageError{err: fmt.Errorf("--provider: %w", err)}
	}
	return p, nil
}

// readSubjectToken reads --subject-token-file ("-" is stdin): a token file
// is hostile input, so its size is bounded and it must hold one token.
func (a *app) readSubjectToken(path string) (string, error) {
	var r io.Reader
	if path == "-" {
		r = a.env.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("--subject-token-file: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxSubjectTokenBytes+1))
	if err != nil {
		return "", fmt.Errorf("--subject-token-file: %w", err)
	}
	if len(b) > maxSubjectTokenBytes {
		return "", fmt.Errorf("--subject-token-file %s: larger than %d KiB; it must hold one ID token", path, maxSubjectTokenBytes>>10)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("--subject-token-file %s is empty; it must hold the ID token to exchange", path)
	}
	if strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("--subject-token-file %s holds more than one line or word; it must hold just the ID token", path)
	}
	return tok, nil
}

func (a *app) oidcExchangeCmd() *cobra.Command {
	var (
		provider, serviceAccount, idAudience, tokenFile, audience, source string
		scopes                                                            []string
		lifetime                                                          time.Duration
		includeEmail, asJSON                                              bool
		ep                                                                endpointFlags
	)
	cmd := &cobra.Command{
		Use:   "exchange --provider //iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/X",
		Short: "Exchange this workload's OIDC token for a Google Cloud access token (Workload Identity Federation)",
		Long: "Exchange the workload's OIDC ID token (or --subject-token-file) at Google's Security Token\n" +
			"Service for a federated access token. With --service-account, use that token to get the\n" +
			"service account's access token (IAM Credentials generateAccessToken), or its ID token with\n" +
			"--id-token-audience (generateIdToken). Prints the token and nothing else, or with --json an\n" +
			"object with the token and its expiry.\n\n" +
			"The OIDC token is requested for --audience, by default the provider's default audience\n" +
			"https://iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/X.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parseProviderFlag(provider)
			if err != nil {
				return err
			}
			if err := checkSource(source); err != nil {
				return err
			}
			if serviceAccount == "" && (idAudience != "" || cmd.Flags().Changed("lifetime")) {
				return syntaxf("--id-token-audience and --lifetime apply to a service account's token; add --service-account EMAIL")
			}
			if serviceAccount != "" {
				if err := federation.ValidateServiceAccount(serviceAccount); err != nil {
					return &usageError{err: fmt.Errorf("--service-account: %w", err)}
				}
				if err := federation.ValidateLifetime(lifetime); err != nil {
					return &usageError{err: fmt.Errorf("--lifetime: %w", err)}
				}
			}
			if tokenFile != "" && cmd.Flags().Changed("source") {
				return syntaxf("--subject-token-file and --source both say where the token comes from; give one")
			}
			scopeList := splitList(scopes)
			ctx := cmd.Context()
			var subject string
			if tokenFile != "" {
				subject, err = a.readSubjectToken(tokenFile)
			} else {
				if audience == "" {
					audience = p.DefaultTokenAudience()
				}
				subject, _, err = a.ambientToken(ctx, source, idtoken.Request{Audience: audience}, true)
			}
			if err != nil {
				return err
			}
			sts, iam := ep.resolve(a)
			fc := &federation.Config{STSURL: sts, IAMCredentialsURL: iam, HTTPClient: a.workloadHTTP(), Clock: a.env.Clock}
			fed, err := fc.Exchange(ctx, federation.ExchangeRequest{Provider: p, SubjectToken: subject, Scopes: scopeList})
			if err != nil {
				return err
			}
			switch {
			case serviceAccount == "":
				return a.printAccessToken(fed, asJSON, "")
			case idAudience != "":
				id, err := fc.GenerateIDToken(ctx, fed, serviceAccount, idAudience, includeEmail)
				if err != nil {
					return err
				}
				return a.printIDToken(id, asJSON, serviceAccount)
			default:
				sa, err := fc.GenerateAccessToken(ctx, fed, serviceAccount, scopeList, lifetime)
				if err != nil {
					return err
				}
				return a.printAccessToken(sa, asJSON, serviceAccount)
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&provider, "provider", "", "workload identity pool provider: //iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/X")
	f.StringVar(&serviceAccount, "service-account", "", "service account EMAIL to impersonate with the federated token")
	f.StringSliceVar(&scopes, "scope", nil, "OAuth scopes, repeatable or comma-separated (default https://www.googleapis.com/auth/cloud-platform)")
	f.DurationVar(&lifetime, "lifetime", time.Hour, "lifetime of the service account's access token (at most 1h unless your organisation allows 12h)")
	f.StringVar(&idAudience, "id-token-audience", "", "get the service account's ID token for this audience instead of an access token")
	f.BoolVar(&includeEmail, "include-email", true, "with --id-token-audience: include the email and email_verified claims")
	f.StringVar(&tokenFile, "subject-token-file", "", "read the OIDC token to exchange from this file ('-' for stdin) instead of the workload")
	f.StringVar(&audience, "audience", "", "audience to request the workload's OIDC token for (default: the provider's default audience)")
	f.StringVar(&source, "source", "auto", "where the OIDC token comes from: auto, github-actions or gce")
	f.BoolVar(&asJSON, "json", false, "print a JSON object with the token, its type and expiry")
	ep.register(cmd)
	return cmd
}

// splitList flattens repeatable, comma-separated flag values.
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// tokenJSON is `oidc exchange --json`'s output. It holds the token the user
// asked for, as `ghlogin token` prints one.
type tokenJSON struct {
	AccessToken     string `json:"access_token,omitempty"`
	IDToken         string `json:"id_token,omitempty"`
	TokenType       string `json:"token_type,omitempty"`
	IssuedTokenType string `json:"issued_token_type,omitempty"`
	ExpiresAt       string `json:"expires_at,omitempty"`
	ExpiresIn       *int64 `json:"expires_in,omitempty"`
	ServiceAccount  string `json:"service_account,omitempty"`
}

func (a *app) expiry(t time.Time) (string, *int64) {
	if t.IsZero() {
		return "", nil
	}
	in := int64(t.Sub(a.now()).Round(time.Second) / time.Second)
	if in < 0 {
		in = 0
	}
	return t.UTC().Format(time.RFC3339), &in
}

func (a *app) printAccessToken(t *federation.Token, asJSON bool, sa string) error {
	if !asJSON {
		_, err := fmt.Fprintln(a.env.Stdout, t.AccessToken)
		return err
	}
	out := tokenJSON{AccessToken: t.AccessToken, TokenType: t.TokenType, IssuedTokenType: t.IssuedTokenType, ServiceAccount: sa}
	if out.TokenType == "" {
		out.TokenType = "Bearer"
	}
	out.ExpiresAt, out.ExpiresIn = a.expiry(t.Expiry)
	return writeJSON(a.env.Stdout, out)
}

func (a *app) printIDToken(t *federation.IDToken, asJSON bool, sa string) error {
	if !asJSON {
		_, err := fmt.Fprintln(a.env.Stdout, t.Token)
		return err
	}
	out := tokenJSON{IDToken: t.Token, ServiceAccount: sa}
	out.ExpiresAt, out.ExpiresIn = a.expiry(t.Expiry)
	return writeJSON(a.env.Stdout, out)
}

func (a *app) oidcCredConfigCmd() *cobra.Command {
	var (
		provider, serviceAccount, file, credURL, format, field, output, audience string
		headers                                                                  []string
		lifetime                                                                 time.Duration
		actions                                                                  bool
		ep                                                                       endpointFlags
	)
	cmd := &cobra.Command{
		Use:   "cred-config --provider ... (--credential-file PATH | --credential-url URL | --github-actions) --output FILE",
		Short: "Write an external_account credential configuration for Google's client libraries",
		Long: "Write the credential configuration that Google's client libraries and gcloud read through\n" +
			"GOOGLE_APPLICATION_CREDENTIALS, as 'gcloud iam workload-identity-pools create-cred-config'\n" +
			"does: where to get the OIDC token (a file, or a URL with headers), the provider, and\n" +
			"optionally the service account to impersonate. No token is fetched now.\n\n" +
			"--github-actions points at this job's token endpoint with its bearer header and reads the\n" +
			"'value' field. That header is a secret valid for this job only: the file is written 0600;\n" +
			"keep it out of artifacts and caches.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parseProviderFlag(provider)
			if err != nil {
				return err
			}
			if output == "" {
				return syntaxf("--output FILE is required (where to write the credential configuration)")
			}
			n := 0
			for _, set := range []bool{file != "", credURL != "", actions} {
				if set {
					n++
				}
			}
			if n != 1 {
				return syntaxf("give exactly one of --credential-file, --credential-url and --github-actions")
			}
			if actions && (cmd.Flags().Changed("format") || field != "" || len(headers) > 0) {
				return syntaxf("--github-actions sets the URL, header and format itself; drop --format, --field and --header")
			}
			if file != "" && len(headers) > 0 {
				return syntaxf("--header applies to --credential-url only")
			}
			if audience != "" && !actions {
				return syntaxf("--audience applies to --github-actions only (a file or URL source supplies its own token)")
			}
			hdrs := map[string]string{}
			for _, h := range headers {
				k, v, ok := strings.Cut(h, "=")
				if !ok || strings.TrimSpace(k) == "" {
					return usagef("--header %q: use NAME=VALUE", h)
				}
				hdrs[strings.TrimSpace(k)] = v
			}
			if len(hdrs) == 0 {
				hdrs = nil
			}
			var lt time.Duration
			if cmd.Flags().Changed("lifetime") {
				if serviceAccount == "" {
					return syntaxf("--lifetime applies to service account impersonation; add --service-account EMAIL")
				}
				if err := federation.ValidateLifetime(lifetime); err != nil {
					return &usageError{err: fmt.Errorf("--lifetime: %w", err)}
				}
				lt = lifetime
			}
			if serviceAccount != "" {
				if err := federation.ValidateServiceAccount(serviceAccount); err != nil {
					return &usageError{err: fmt.Errorf("--service-account: %w", err)}
				}
			}
			sts, iam := ep.resolve(a)
			opts := credconfig.Options{
				Provider: p, ServiceAccount: serviceAccount, TokenLifetime: lt,
				STSURL: sts, IAMCredentialsURL: iam,
				File: file, URL: credURL, Headers: hdrs, Format: format, Field: field,
			}
			var cfg *credconfig.Config
			if actions {
				opts.Audience, opts.Format = audience, ""
				cfg, err = credconfig.GitHubActions(opts, a.getenv)
			} else if cfg, err = credconfig.Build(opts); err != nil {
				err = &usageError{err: err}
			}
			if err != nil {
				return err
			}
			if err := cfg.WriteFile(output); err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stderr, "Wrote the external_account credential configuration to %s\n", output)
			fmt.Fprintf(a.env.Stderr, "Use it with: export GOOGLE_APPLICATION_CREDENTIALS=%s\n", output)
			if actions {
				fmt.Fprintln(a.env.Stderr, "It holds this job's token request bearer (valid for this job only): keep it out of artifacts and caches.")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&provider, "provider", "", "workload identity pool provider: //iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/X")
	f.StringVar(&serviceAccount, "service-account", "", "service account EMAIL to impersonate")
	f.DurationVar(&lifetime, "lifetime", time.Hour, "service account token lifetime (token_lifetime_seconds)")
	f.StringVar(&file, "credential-file", "", "file the OIDC token is read from")
	f.StringVar(&credURL, "credential-url", "", "URL the OIDC token is fetched from")
	f.StringArrayVar(&headers, "header", nil, "header NAME=VALUE sent to --credential-url (repeatable)")
	f.StringVar(&format, "format", "text", "format of the token source: text or json")
	f.StringVar(&field, "field", "", "with --format json: the field that holds the token")
	f.BoolVar(&actions, "github-actions", false, "use this GitHub Actions job's OIDC token endpoint (needs permissions: id-token: write)")
	f.StringVar(&audience, "audience", "", "with --github-actions: the token's audience (default: the provider's default audience)")
	f.StringVar(&output, "output", "", "file to write (mode 0600)")
	ep.register(cmd)
	return cmd
}

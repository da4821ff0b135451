package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/ghlogin/ghlogin/internal/clock"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/gitcred/setupgit"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/workload/doctor"
	"github.com/ghlogin/ghlogin/internal/workload/federation"
	"github.com/ghlogin/ghlogin/internal/workload/idtoken"
)

// Environment of `oidc doctor`.
const (
	// envGoogleAccessToken is the bearer for the IAM API, as gcloud and
	// Terraform read it (gcloud auth print-access-token).
	envGoogleAccessToken = "GOOGLE_OAUTH_ACCESS_TOKEN"
	// envIAMURL points the IAM API requests elsewhere (tests, the emulator).
	envIAMURL = "GHLOGIN_IAM_URL"
)

// maxProviderFileBytes bounds --provider-file.
const maxProviderFileBytes = 1 << 20

// oidcDoctorOptions are `ghlogin oidc doctor`'s flags and what it needs
// from outside.
type oidcDoctorOptions struct {
	Stdout     io.Writer
	Getenv     func(string) string
	HTTPClient *http.Client
	Clock      clock.Clock
	// ReadSubjectToken reads --subject-token-file ("-" is stdin).
	ReadSubjectToken func(path string) (string, error)
	// AmbientToken gets the workload's own token from --source.
	AmbientToken func(ctx context.Context, source string, req idtoken.Request) (string, error)

	Provider         string
	ProviderFile     string
	SubjectTokenFile string
	Audience         string
	Source           string
	SourceSet        bool
	ServiceAccount   string
	IAMURL           string
	JSON             bool
}

// newOIDCDoctorCmd is `ghlogin oidc doctor`; runF (nil: runOIDCDoctor)
// runs it.
func newOIDCDoctorCmd(a *app, runF func(context.Context, *oidcDoctorOptions) error) *cobra.Command {
	opts := &oidcDoctorOptions{}
	cmd := &cobra.Command{
		Use:   "doctor --provider //iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/X",
		Short: "Say whether Google's STS would accept this workload's OIDC token, and if not, why",
		Long: "Check a workload's OIDC token against a workload identity pool provider as Google's\n" +
			"Security Token Service does, offline, and report each check with the values involved:\n" +
			"the provider's name and state, the token's signature, issuer, audience and times, the\n" +
			"attribute mapping and the attribute condition (evaluated with CEL, clause by clause),\n" +
			"remarks about the setup, and the IAM members the token is.\n\n" +
			"The provider's settings come from --provider-file (the JSON that 'gcloud iam\n" +
			"workload-identity-pools providers describe --format=json' prints), or from the IAM API\n" +
			"with the access token in " + envGoogleAccessToken + " (gcloud auth print-access-token).\n" +
			"The token comes from --subject-token-file, or from this workload as for 'oidc exchange'.\n\n" +
			"Exit status: 0 when STS would accept the token, 1 when not (the last line names the\n" +
			"first failing check), 2 for usage errors. The token itself is never printed.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.SourceSet = cmd.Flags().Changed("source")
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runOIDCDoctor(cmd.Context(), opts)
		},
	}
	opts.Stdout = a.env.Stdout
	opts.Getenv = a.getenv
	opts.HTTPClient = a.workloadHTTP()
	opts.Clock = a.env.Clock
	opts.ReadSubjectToken = a.readSubjectToken
	opts.AmbientToken = func(ctx context.Context, source string, req idtoken.Request) (string, error) {
		tok, _, err := a.ambientToken(ctx, source, req, true)
		return tok, err
	}
	f := cmd.Flags()
	f.StringVar(&opts.Provider, "provider", "", "workload identity pool provider: //iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/X")
	f.StringVar(&opts.ProviderFile, "provider-file", "", "the provider's JSON ('gcloud iam workload-identity-pools providers describe --format=json'), instead of the IAM API")
	f.StringVar(&opts.SubjectTokenFile, "subject-token-file", "", "read the OIDC token from this file ('-' for stdin) instead of the workload")
	f.StringVar(&opts.Audience, "audience", "", "audience to request the workload's token for (default: the provider's default audience)")
	f.StringVar(&opts.Source, "source", "auto", "where the workload's token comes from: auto, github-actions or gce")
	f.StringVar(&opts.ServiceAccount, "service-account", "", "service account EMAIL: print the command that lets this token impersonate it")
	f.StringVar(&opts.IAMURL, "iam-url", "", "IAM API base URL (default "+doctor.DefaultIAMURL+", or $"+envIAMURL+")")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document with every check")
	return cmd
}

// runOIDCDoctor reads the inputs, runs the checks and prints the report.
func runOIDCDoctor(ctx context.Context, opts *oidcDoctorOptions) error {
	if err := checkSource(opts.Source); err != nil {
		return err
	}
	if opts.Provider == "" && opts.ProviderFile == "" {
		return syntaxf("--provider is required (or --provider-file with the provider's JSON): %s", federation.ProviderShape)
	}
	if opts.SubjectTokenFile != "" && (opts.SourceSet || opts.Audience != "") {
		return syntaxf("--subject-token-file gives the token; --source and --audience apply to the workload's own token, so drop them")
	}
	if opts.ServiceAccount != "" {
		if err := federation.ValidateServiceAccount(opts.ServiceAccount); err != nil {
			return &usageError{err: fmt.Errorf("--service-account: %w", err)}
		}
	}
	in := doctor.Options{
		Provider:       opts.Provider,
		ServiceAccount: opts.ServiceAccount,
		HTTPClient:     opts.HTTPClient,
		Clock:          opts.Clock,
	}
	if opts.ProviderFile != "" {
		if opts.IAMURL != "" {
			return syntaxf("--iam-url applies when the provider is read from the IAM API; drop it or --provider-file")
		}
		b, err := readBounded(opts.ProviderFile, maxProviderFileBytes)
		if err != nil {
			return fmt.Errorf("--provider-file: %w", err)
		}
		in.ProviderJSON, in.ProviderSource = b, opts.ProviderFile
	} else {
		in.AccessToken = strings.TrimSpace(opts.Getenv(envGoogleAccessToken))
		// A name that is no provider's (a pool's path, say) is the first
		// check's failure, found without the IAM API: report that rather
		// than ask for credentials to read a provider that cannot exist.
		if in.AccessToken == "" && doctor.ProviderNameProblem(opts.Provider) == "" {
			return usagef("give --provider-file FILE (gcloud iam workload-identity-pools providers describe PROVIDER --workload-identity-pool=POOL --location=global --format=json > FILE), or set %s (gcloud auth print-access-token) to read the provider from the IAM API", envGoogleAccessToken)
		}
		in.IAMURL = opts.IAMURL
		if in.IAMURL == "" {
			in.IAMURL = opts.Getenv(envIAMURL)
		}
		if in.IAMURL != "" {
			if _, err := safe.CheckURL(in.IAMURL); err != nil {
				return &usageError{err: fmt.Errorf("--iam-url (or %s): %w", envIAMURL, err)}
			}
		}
	}
	var err error
	if opts.SubjectTokenFile != "" {
		in.SubjectToken, err = opts.ReadSubjectToken(opts.SubjectTokenFile)
	} else {
		aud := opts.Audience
		if aud == "" {
			if p, perr := federation.ParseProvider(providerNameFor(opts, in.ProviderJSON)); perr == nil {
				aud = p.DefaultTokenAudience()
			}
		}
		in.SubjectToken, err = opts.AmbientToken(ctx, opts.Source, idtoken.Request{Audience: aud})
	}
	if err != nil {
		return err
	}
	rep, err := doctor.Run(ctx, in)
	if err != nil {
		return doctorError(err, opts)
	}
	if opts.JSON {
		err = writeJSON(opts.Stdout, rep)
	} else {
		err = renderDoctor(opts.Stdout, rep)
	}
	if err != nil {
		return err
	}
	if !rep.Accepted {
		return &reportedError{code: ExitFailure, err: fmt.Errorf("STS would reject the token (%s)", rep.FailedCheck)}
	}
	return nil
}

// providerNameFor is the provider's name from --provider or the file.
func providerNameFor(opts *oidcDoctorOptions, providerJSON []byte) string {
	if opts.Provider != "" || providerJSON == nil {
		return opts.Provider
	}
	if res, err := doctor.ParseProviderResource(providerJSON); err == nil {
		return res.Name
	}
	return ""
}

// readBounded reads a file of at most max bytes.
func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d KiB", path, max>>10)
	}
	return b, nil
}

// doctorError turns the doctor's errors into sentences that name the flags.
func doctorError(err error, opts *oidcDoctorOptions) error {
	var fe *doctor.FetchError
	var re *doctor.ResourceError
	switch {
	case errors.Is(err, doctor.ErrNoProviderName):
		return usagef("--provider-file %s has no \"name\": add --provider", opts.ProviderFile)
	case errors.As(err, &re):
		return fmt.Errorf("--provider-file %s: %s", opts.ProviderFile, re.Reason)
	case errors.As(err, &fe):
		hint := ""
		switch {
		case fe.StatusCode == http.StatusUnauthorized:
			hint = envGoogleAccessToken + " was refused: it expired or is not an OAuth access token (gcloud auth print-access-token)"
		case fe.StatusCode == http.StatusForbidden:
			hint = "the account behind " + envGoogleAccessToken + " may not read the provider: it needs iam.workloadIdentityPoolProviders.get (roles/iam.workloadIdentityPoolViewer); or pass --provider-file"
		case fe.Location != "":
			hint = "check --iam-url (or " + envIAMURL + ")"
		case fe.StatusCode == 0:
			hint = "check the network, or pass --provider-file"
		}
		if hint != "" {
			return fmt.Errorf("%w; %s", err, hint)
		}
	}
	return err
}

// doctorMarks are the marks of each status.
var doctorMarks = map[doctor.Status]string{doctor.Pass: "✓", doctor.Fail: "✗", doctor.Warn: "!", doctor.Skip: "-"}

// renderDoctor prints the report: one line per check, the values below it,
// and the verdict last. Every line goes through safe.Text: claims and
// Google's replies are text a server chose.
func renderDoctor(w io.Writer, rep *doctor.Report) error {
	var b strings.Builder
	line := func(s string) { b.WriteString(safe.Text(s) + "\n") }
	line("Provider  " + rep.Provider)
	line("Settings  " + rep.SettingsFrom)
	b.WriteString("\n")
	width := 0
	for _, c := range rep.Checks {
		width = max(width, len(c.Name))
	}
	pad := strings.Repeat(" ", width+4)
	for _, c := range rep.Checks {
		line(fmt.Sprintf("%s %-*s  %s", doctorMarks[c.Status], width, c.Name, c.Summary))
		for _, d := range c.Details {
			line(pad + d)
		}
	}
	if len(rep.BindCommand) > 0 {
		q := make([]string, len(rep.BindCommand))
		for i, a := range rep.BindCommand {
			q[i] = setupgit.ShellQuote(a)
		}
		b.WriteString("\n")
		line("Let this token's principal impersonate the service account:")
		line("  " + strings.Join(q, " "))
	}
	b.WriteString("\n")
	if rep.Accepted {
		line("STS would accept this token.")
	} else {
		line(fmt.Sprintf("STS would reject this token. First failing check: %s: %s", rep.FailedCheck, rep.Reason))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

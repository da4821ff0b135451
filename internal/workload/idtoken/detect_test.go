package idtoken

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	actionsEnv := map[string]string{
		EnvActionsRequestURL:   "https://pipelines.actions.githubusercontent.com/x/idtoken?api-version=2.0",
		EnvActionsRequestToken: canaryRequestToken,
	}
	hc := &http.Client{}
	type key struct{}
	cases := []struct {
		name     string
		source   string
		env      map[string]string
		onGCE    bool
		wantName string
		wantErr  any
		probed   bool
	}{
		{"auto picks Actions", "auto", actionsEnv, true, SourceGitHubActions, nil, false},
		{"empty source means auto", "", actionsEnv, false, SourceGitHubActions, nil, false},
		{"auto picks GCE by GCE_METADATA_HOST", "auto", map[string]string{EnvMetadataHost: "127.0.0.1:1"}, false, SourceGCE, nil, false},
		{"auto picks GCE by probe", "auto", nil, true, SourceGCE, nil, true},
		{"auto with half the Actions variables probes", "auto", map[string]string{EnvActionsRequestURL: "https://x/idtoken"}, true, SourceGCE, nil, true},
		{"auto finds nothing", "auto", nil, false, "", new(*NotAvailableError), true},
		{"explicit Actions", "github-actions", actionsEnv, true, SourceGitHubActions, nil, false},
		{"explicit Actions is case-insensitive", " GitHub-Actions ", actionsEnv, true, SourceGitHubActions, nil, false},
		{"explicit Actions without variables", "github-actions", nil, true, "", new(*NotAvailableError), false},
		{"explicit GCE skips the probe", "gce", nil, false, SourceGCE, nil, false},
		{"unknown source", "aws", actionsEnv, true, "", new(*UsageError), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			probed := false
			ctx := context.WithValue(context.Background(), key{}, "v")
			src, err := Detect(ctx, DetectOptions{
				Source:     c.source,
				Getenv:     func(k string) string { return c.env[k] },
				HTTPClient: hc,
				OnGCE: func(got context.Context) bool {
					probed = true
					if got.Value(key{}) != "v" {
						t.Error("OnGCE did not get the caller's context")
					}
					return c.onGCE
				},
			})
			if probed != c.probed {
				t.Errorf("probed = %v, want %v", probed, c.probed)
			}
			if c.wantErr != nil {
				if !errors.As(err, c.wantErr) {
					t.Fatalf("err = %v, want %T", err, c.wantErr)
				}
				assertNoSecret(t, err, canaryRequestToken)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if src.Name() != c.wantName {
				t.Fatalf("source %q, want %q", src.Name(), c.wantName)
			}
			switch s := src.(type) {
			case *GitHubActions:
				if s.RequestURL != actionsEnv[EnvActionsRequestURL] || s.RequestToken != canaryRequestToken || s.HTTPClient != hc {
					t.Errorf("GitHubActions = %+v", s)
				}
			case *GCE:
				if s.HTTPClient != hc || s.Getenv == nil {
					t.Errorf("GCE = %+v", s)
				}
			default:
				t.Errorf("unexpected source type %T", src)
			}
		})
	}
}

func TestDetectNothingMessage(t *testing.T) {
	_, err := Detect(context.Background(), DetectOptions{
		Getenv: func(string) string { return "" },
		OnGCE:  func(context.Context) bool { return false },
	})
	var na *NotAvailableError
	if !errors.As(err, &na) || na.Source != SourceAuto {
		t.Fatalf("err = %v", err)
	}
	for _, w := range []string{"permissions: id-token: write", "ACTIONS_ID_TOKEN_REQUEST_URL", "metadata server", "GCE_METADATA_HOST"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q lacks %q", err, w)
		}
	}
	_, err = Detect(context.Background(), DetectOptions{Source: "azure"})
	if err == nil || !strings.Contains(err.Error(), "auto, github-actions or gce") {
		t.Errorf("unknown source: %v", err)
	}
}

// TestDetectDefaultProbe runs the metadata library's own probe, which trusts
// GCE_METADATA_HOST in the process environment before any network access.
func TestDetectDefaultProbe(t *testing.T) {
	t.Setenv(EnvMetadataHost, "127.0.0.1:9")
	src, err := Detect(context.Background(), DetectOptions{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if src.Name() != SourceGCE {
		t.Errorf("source %q, want gce", src.Name())
	}
}

// --source auto inside a GitHub Actions job without id-token: write says so.
func TestDetectAutoInActionsJob(t *testing.T) {
	_, err := Detect(context.Background(), DetectOptions{
		Getenv: func(k string) string { return map[string]string{EnvGitHubActions: "true"}[k] },
		OnGCE:  func(context.Context) bool { return false },
	})
	var na *NotAvailableError
	if !errors.As(err, &na) || na.Source != SourceGitHubActions || !na.InActions || !strings.Contains(err.Error(), "forks") {
		t.Fatalf("err = %v", err)
	}
}

package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
)

// Revision, Date and Modified describe the commit a release was built from.
// A release build sets them, with Version, through the linker:
//
//	-ldflags "-X github.com/ghlogin/ghlogin/internal/cli.Version=v1.2.3
//	          -X github.com/ghlogin/ghlogin/internal/cli.Revision=<commit>
//	          -X github.com/ghlogin/ghlogin/internal/cli.Date=2006-01-02T15:04:05Z
//	          -X github.com/ghlogin/ghlogin/internal/cli.Modified=false"
//
// Left empty (and Version left "dev"), each comes from the build information
// the go command embeds: the module version (a tag or a pseudo-version, see
// https://go.dev/ref/mod#pseudo-versions) and the vcs.* settings.
var (
	Revision string
	Date     string
	Modified string
)

// buildInfo is what `ghlogin version` reports.
type buildInfo struct {
	Module   string  `json:"module"`
	Version  string  `json:"version"`
	Revision *string `json:"revision"`
	Date     *string `json:"date"`
	Modified bool    `json:"modified"`
	Go       string  `json:"go"`
	OS       string  `json:"os"`
	Arch     string  `json:"arch"`
}

// currentBuild is this binary's buildInfo, read once.
var currentBuild = sync.OnceValue(func() buildInfo {
	bi, _ := debug.ReadBuildInfo()
	return resolveBuild(bi, Version, Revision, Date, Modified)
})

// resolveBuild merges the linker-set values (which win when set) with the
// embedded build information bi (nil when the binary has none).
func resolveBuild(bi *debug.BuildInfo, version, revision, date, modified string) buildInfo {
	b := buildInfo{Module: "github.com/ghlogin/ghlogin", Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	var vcsRev, vcsTime string
	var vcsModified bool
	if bi != nil {
		if bi.Main.Path != "" {
			b.Module = bi.Main.Path
		}
		if bi.GoVersion != "" {
			b.Go = bi.GoVersion
		}
		b.Version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				vcsRev = s.Value
			case "vcs.time":
				vcsTime = s.Value
			case "vcs.modified":
				vcsModified = s.Value == "true"
			}
		}
	}
	if version != "" && version != "dev" {
		b.Version = version
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	if revision != "" {
		vcsRev = revision
	}
	if date != "" {
		vcsTime = date
	}
	b.Revision = nonEmpty(vcsRev)
	b.Date = nonEmpty(vcsTime)
	b.Modified = vcsModified
	if modified != "" {
		b.Modified = modified == "true"
	}
	return b
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// String is the text of `ghlogin --version` and `ghlogin version`.
func (b buildInfo) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "ghlogin version %s\n", b.Version)
	if b.Revision != nil || b.Date != nil || b.Modified {
		var parts []string
		if b.Revision != nil {
			parts = append(parts, "commit "+*b.Revision)
		} else {
			parts = append(parts, "commit unknown")
		}
		if b.Date != nil {
			d := *b.Date
			if t, err := time.Parse(time.RFC3339, d); err == nil {
				d = t.UTC().Format(time.RFC3339)
			}
			parts = append(parts, d)
		}
		if b.Modified {
			parts = append(parts, "modified")
		}
		sb.WriteString(strings.Join(parts, ", ") + "\n")
	}
	fmt.Fprintf(&sb, "built with %s for %s/%s\n", b.Go, b.OS, b.Arch)
	return sb.String()
}

// setVersion gives root the --version flag, printing the same text as
// `ghlogin version`.
func setVersion(root *cobra.Command) {
	text := currentBuild().String()
	root.Version = currentBuild().Version
	// cobra reads the version template as a text/template: quote any "{{".
	root.SetVersionTemplate(strings.NewReplacer("{{", "{{`{{`}}").Replace(text))
}

// versionOptions are version's dependencies and flags.
type versionOptions struct {
	IO    *Env
	Build buildInfo

	JSON bool
}

func newVersionCmd(a *app, runF func(*versionOptions) error) *cobra.Command {
	o := &versionOptions{IO: a.env}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Show ghlogin's version, commit, Go version and platform",
		Long: "Show the module version (a release tag or a Go pseudo-version), the commit it was\n" +
			"built from and its date, whether the tree had uncommitted changes, and the Go version\n" +
			"and platform of the build. The same as ghlogin --version.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Build = currentBuild()
			if runF != nil {
				return runF(o)
			}
			return runVersion(o)
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print one JSON document")
	return cmd
}

// runVersion prints the build's description, as text or JSON.
func runVersion(o *versionOptions) error {
	if o.JSON {
		enc := json.NewEncoder(o.IO.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(o.Build)
	}
	_, err := io.WriteString(o.IO.Stdout, o.Build.String())
	return err
}

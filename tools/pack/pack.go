package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/Masterminds/semver/v3"
	"github.com/goreleaser/chglog"
	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/arch" // registers "archlinux"
	_ "github.com/goreleaser/nfpm/v2/deb"  // registers "deb"
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers "rpm"
)

// Name is the package name in every format.
const Name = "ghlogin"

// summary is the package's one-line description.
const summary = "Log in to GitHub and keep your tokens safe"

// Formats are the nfpm packagers Build knows, in the order it builds them.
var Formats = []string{"deb", "rpm", "archlinux"}

// Manifest says what to package. tools/release writes it as JSON; its field
// names are the contract between the two programs.
type Manifest struct {
	// Version is the Go-style version: a tag (v1.2.3) or a pseudo-version
	// (v0.0.0-20261130095026-c4c7812059cc), with +dirty when the tree had
	// uncommitted changes.
	Version string `json:"version"`
	// Arch is the GOARCH of the binaries: amd64 or arm64.
	Arch string `json:"arch"`
	// MTime is the commit time. Every file, directory, archive member and
	// header timestamp in the packages is this time.
	MTime time.Time `json:"mtime"`
	// BinDir holds the Linux binaries; every file in it goes to /usr/bin.
	BinDir string `json:"bin_dir"`
	// CompletionsDir holds ghlogin.bash, _ghlogin (zsh) and ghlogin.fish.
	CompletionsDir string `json:"completions_dir"`
	// ManDir holds the section 1 man pages (*.1); they go gzipped to
	// /usr/share/man/man1.
	ManDir string `json:"man_dir"`
	// License is the LICENSE file.
	License string `json:"license"`
	// Maintainer is "Name <email>", for the package headers and the changelog.
	Maintainer string `json:"maintainer"`
	// Changelog lists the releases, newest first; the first is this one.
	Changelog []Release `json:"changelog"`
	// Formats are the packagers to run (deb, rpm, archlinux); empty means all.
	Formats []string `json:"formats"`
	// OutDir receives the packages.
	OutDir string `json:"out_dir"`
}

// Release is one changelog entry.
type Release struct {
	Version string    `json:"version"`
	Date    time.Time `json:"date"`
	Changes []Change  `json:"changes"`
}

// Change is one commit of a release.
type Change struct {
	Commit string `json:"commit"`
	Note   string `json:"note"`
}

// Build writes one package per format into m.OutDir and returns their paths.
func Build(m Manifest) ([]string, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	formats := m.Formats
	if len(formats) == 0 {
		formats = Formats
	}
	work, err := os.MkdirTemp("", "ghlogin-pack-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	contents, err := m.contents(work)
	if err != nil {
		return nil, err
	}
	rpmChangelog := filepath.Join(work, "changelog.yml")
	entries := m.changelogEntries(func(v string) string { return v })
	if err := entries.Save(rpmChangelog); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(m.OutDir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	for _, format := range formats {
		pkgr, err := nfpm.Get(format)
		if err != nil {
			return nil, err
		}
		info, err := m.info(format, contents)
		if err != nil {
			return nil, err
		}
		if format == "rpm" {
			// rpm keeps the changelog in its header (%changelog).
			info.Changelog = rpmChangelog
		}
		path := filepath.Join(m.OutDir, pkgr.ConventionalFileName(info))
		if err := writePackage(pkgr, info, path); err != nil {
			return nil, fmt.Errorf("%s: %w", format, err)
		}
		written = append(written, path)
	}
	return written, nil
}

func (m Manifest) check() error {
	var missing []string
	for name, v := range map[string]string{"version": m.Version, "arch": m.Arch, "bin_dir": m.BinDir,
		"completions_dir": m.CompletionsDir, "man_dir": m.ManDir, "license": m.License,
		"maintainer": m.Maintainer, "out_dir": m.OutDir} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		return fmt.Errorf("manifest lacks %s", strings.Join(missing, ", "))
	}
	if m.MTime.IsZero() {
		return errors.New("manifest lacks mtime")
	}
	if len(m.Changelog) == 0 {
		return errors.New("manifest has no changelog entry")
	}
	for _, f := range m.Formats {
		if _, err := nfpm.Get(f); err != nil {
			return err
		}
	}
	return nil
}

func writePackage(pkgr nfpm.Packager, info *nfpm.Info, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pkgr.Package(info, f); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// info is the package's metadata for format: the same for every format but
// for the version's spelling and a few headers each format has alone.
func (m Manifest) info(format string, contents files.Contents) (*nfpm.Info, error) {
	v, err := splitVersion(m.Version)
	if err != nil {
		return nil, err
	}
	info := &nfpm.Info{
		Name:     Name,
		Arch:     m.Arch,
		Platform: "linux",
		// The version is spelled per format below; nfpm must not re-parse it.
		VersionSchema: "none",
		Section:       "utils",
		Priority:      "optional",
		Maintainer:    m.Maintainer,
		Vendor:        "The ghlogin authors",
		Homepage:      "https://github.com/ghlogin/ghlogin",
		License:       "MIT",
		Description: summary + "\n" +
			"ghlogin logs people and machines in to GitHub (github.com, GitHub Enterprise\n" +
			"Server, or any OAuth 2.0 server with the same flows): the device flow (RFC 8628)\n" +
			"in a terminal UI, the loopback web flow (RFC 8252) with PKCE, tokens in the OS\n" +
			"keyring, a git credential helper that refreshes expiring GitHub App tokens, and\n" +
			"workload identity for GitHub Actions and Google Cloud.",
		MTime: m.MTime.UTC(),
		Overridables: nfpm.Overridables{
			Contents: cloneContents(contents),
			Umask:    0o022,
			RPM: nfpm.RPM{
				Summary:  summary,
				Group:    "Development/Tools",
				Packager: m.Maintainer,
				// The default, os.Hostname(), would differ between machines.
				BuildHost: "reproducible",
			},
			ArchLinux: nfpm.ArchLinux{Packager: m.Maintainer},
		},
	}
	switch format {
	case "deb":
		// A native package: no Debian revision.
		info.Version, info.Prerelease, info.VersionMetadata = v.core, v.pre, v.meta
	case "rpm":
		info.Version, info.Prerelease, info.VersionMetadata, info.Release = v.core, v.pre, v.meta, "1"
	case "archlinux":
		info.Version, info.Release = v.arch(), "1"
		// pkgdesc is one line.
		info.Description = summary
	}
	return nfpm.WithDefaults(info), nil
}

// version is a Go version split for the packagers.
type version struct {
	core string // 1.2.3
	pre  string // the pre-release with dots for hyphens: 0.20261130095026.c4c7812059cc
	meta string // build metadata: dirty
}

// splitVersion parses a tag or Go pseudo-version
// (https://go.dev/ref/mod#pseudo-versions). The pre-release keeps its order
// in every format: deb and rpm write it after "~", which sorts before the
// release itself (1.2.4~0.2026… < 1.2.4), and hyphens become dots because a
// hyphen in a Debian version starts the Debian revision.
func splitVersion(s string) (version, error) {
	sv, err := semver.StrictNewVersion(strings.TrimPrefix(s, "v"))
	if err != nil {
		return version{}, fmt.Errorf("version %q is not a semantic version: %w", s, err)
	}
	return version{
		core: fmt.Sprintf("%d.%d.%d", sv.Major(), sv.Minor(), sv.Patch()),
		pre:  strings.ReplaceAll(sv.Prerelease(), "-", "."),
		meta: sv.Metadata(),
	}, nil
}

// deb is the Debian spelling, for the changelog.
func (v version) deb() string {
	s := v.core
	if v.pre != "" {
		s += "~" + v.pre
	}
	if v.meta != "" {
		s += "+" + v.meta
	}
	return s
}

// arch is the Arch Linux pkgver: no hyphens allowed, and no "~". pacman's
// vercmp sorts a letter suffix before the release (1.2.4rc1 < 1.2.4), so a
// pre-release is appended after a letter: "pre" unless it starts with one.
func (v version) arch() string {
	s := v.core
	if v.pre != "" {
		if !unicode.IsLetter(rune(v.pre[0])) {
			s += "pre"
		}
		s += v.pre
	}
	if v.meta != "" {
		s += "." + v.meta
	}
	return s
}

// changelogEntries turns the manifest's changelog into chglog entries, with
// each version spelled by spell.
func (m Manifest) changelogEntries(spell func(string) string) chglog.ChangeLogEntries {
	var entries chglog.ChangeLogEntries
	for _, r := range m.Changelog {
		e := &chglog.ChangeLog{
			Semver:   spell(r.Version),
			Date:     r.Date.UTC(),
			Packager: m.Maintainer,
			ChangeLogOverridables: chglog.ChangeLogOverridables{
				Deb: &chglog.ChangelogDeb{Urgency: "low", Distributions: []string{"unstable"}},
			},
		}
		for _, c := range r.Changes {
			e.Changes = append(e.Changes, &chglog.ChangeLogChange{Commit: c.Commit, Note: c.Note})
		}
		if len(e.Changes) == 0 {
			e.Changes = append(e.Changes, &chglog.ChangeLogChange{Note: "No changes."})
		}
		entries = append(entries, e)
	}
	return entries
}

// debianChangelog is /usr/share/doc/ghlogin/changelog.gz: the name Debian
// gives a native package's changelog, in the format of deb-changelog(5).
func (m Manifest) debianChangelog() ([]byte, error) {
	entries := m.changelogEntries(func(s string) string {
		v, err := splitVersion(s)
		if err != nil {
			return s
		}
		return v.deb()
	})
	tpl, err := chglog.DebTemplate()
	if err != nil {
		return nil, err
	}
	text, err := chglog.FormatChangelog(&chglog.PackageChangeLog{Name: Name, Entries: entries}, tpl)
	if err != nil {
		return nil, err
	}
	return gzipBytes([]byte(strings.TrimSpace(text) + "\n"))
}

// contents lists the files of the package. Generated files (gzipped man
// pages, the Debian changelog) are written into work.
func (m Manifest) contents(work string) (files.Contents, error) {
	var c files.Contents
	file := func(src, dst string, mode os.FileMode, packager string) {
		c = append(c, &files.Content{Source: src, Destination: dst, Packager: packager,
			FileInfo: &files.ContentFileInfo{Mode: mode, MTime: m.MTime.UTC()}})
	}

	bins, err := regularFiles(m.BinDir, "")
	if err != nil {
		return nil, err
	}
	if len(bins) == 0 {
		return nil, fmt.Errorf("%s holds no binary", m.BinDir)
	}
	for _, b := range bins {
		file(filepath.Join(m.BinDir, b), "/usr/bin/"+b, 0o755, "")
	}

	// Shell completions, where each shell looks for vendor completions.
	// Debian's zsh reads /usr/share/zsh/vendor-completions; Fedora's and
	// Arch's read site-functions.
	comp := func(name string) string { return filepath.Join(m.CompletionsDir, name) }
	file(comp(Name+".bash"), "/usr/share/bash-completion/completions/"+Name, 0o644, "")
	file(comp("_"+Name), "/usr/share/zsh/vendor-completions/_"+Name, 0o644, "deb")
	file(comp("_"+Name), "/usr/share/zsh/site-functions/_"+Name, 0o644, "rpm")
	file(comp("_"+Name), "/usr/share/zsh/site-functions/_"+Name, 0o644, "archlinux")
	file(comp(Name+".fish"), "/usr/share/fish/vendor_completions.d/"+Name+".fish", 0o644, "")

	pages, err := regularFiles(m.ManDir, ".1")
	if err != nil {
		return nil, err
	}
	if len(pages) == 0 {
		return nil, fmt.Errorf("%s holds no man page", m.ManDir)
	}
	if err := os.MkdirAll(filepath.Join(work, "man1"), 0o755); err != nil {
		return nil, err
	}
	for _, p := range pages {
		data, err := os.ReadFile(filepath.Join(m.ManDir, p))
		if err != nil {
			return nil, err
		}
		gz, err := gzipBytes(data)
		if err != nil {
			return nil, err
		}
		src := filepath.Join(work, "man1", p+".gz")
		if err := os.WriteFile(src, gz, 0o644); err != nil {
			return nil, err
		}
		file(src, "/usr/share/man/man1/"+p+".gz", 0o644, "")
	}

	// The license and changelog where each distribution expects them.
	changelog, err := m.debianChangelog()
	if err != nil {
		return nil, err
	}
	changelogPath := filepath.Join(work, "changelog.gz")
	if err := os.WriteFile(changelogPath, changelog, 0o644); err != nil {
		return nil, err
	}
	file(m.License, "/usr/share/doc/"+Name+"/copyright", 0o644, "deb")
	file(changelogPath, "/usr/share/doc/"+Name+"/changelog.gz", 0o644, "deb")
	c = append(c, &files.Content{Source: m.License, Destination: "/usr/share/licenses/" + Name + "/LICENSE",
		Type: files.TypeRPMLicense, Packager: "rpm", FileInfo: &files.ContentFileInfo{Mode: 0o644, MTime: m.MTime.UTC()}})
	file(m.License, "/usr/share/licenses/"+Name+"/LICENSE", 0o644, "archlinux")
	return c, nil
}

// regularFiles lists the regular files of dir ending in ext, sorted.
func regularFiles(dir, ext string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ext) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// cloneContents copies contents, which nfpm rewrites while packaging.
func cloneContents(in files.Contents) files.Contents {
	out := make(files.Contents, len(in))
	for i, c := range in {
		cc := *c
		if c.FileInfo != nil {
			fi := *c.FileInfo
			cc.FileInfo = &fi
		}
		out[i] = &cc
	}
	return out
}

// gzipBytes compresses data as `gzip -9n` does (no name, no time), as
// Debian policy asks for man pages and changelogs.
func gzipBytes(data []byte) ([]byte, error) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(zw, bytes.NewReader(data)); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

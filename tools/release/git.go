package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// source is the commit a release is built from.
type source struct {
	Root   string    // the repository's top directory
	Commit string    // full hash of HEAD
	Time   time.Time // HEAD's committer time, UTC
	Dirty  bool      // uncommitted changes (or untracked files) in the tree
	// Version is HEAD's release tag, or else a Go pseudo-version naming the
	// latest earlier tag (https://go.dev/ref/mod#pseudo-versions), with
	// "+dirty" for a modified tree, as the go command spells it.
	Version string
	// Tag is HEAD's release tag, or "" when Version is a pseudo-version.
	Tag string
}

// git runs git in dir and returns its standard output, trimmed.
func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// readSource describes the commit checked out in the repository holding dir.
func readSource(dir string) (*source, error) {
	root, err := git(dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, err
	}
	s := &source{Root: root}
	if s.Commit, err = git(root, "rev-parse", "HEAD"); err != nil {
		return nil, err
	}
	ct, err := git(root, "log", "-1", "--format=%ct", "HEAD")
	if err != nil {
		return nil, err
	}
	sec, err := strconv.ParseInt(ct, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("commit time %q: %w", ct, err)
	}
	s.Time = time.Unix(sec, 0).UTC()
	status, err := git(root, "status", "--porcelain")
	if err != nil {
		return nil, err
	}
	s.Dirty = status != ""

	tags, err := releaseTags(root, "--points-at", "HEAD")
	if err != nil {
		return nil, err
	}
	if len(tags) > 0 {
		s.Tag = tags[0]
		s.Version = s.Tag
	} else {
		older, err := releaseTags(root, "--merged", "HEAD")
		if err != nil {
			return nil, err
		}
		base := ""
		if len(older) > 0 {
			base = older[0]
		}
		s.Version = module.PseudoVersion("", base, s.Time, s.Commit[:12])
	}
	if s.Dirty {
		s.Version += "+dirty"
	}
	return s, nil
}

// releaseTags lists the tags git tag selects with filter (for example
// "--merged HEAD") that are semantic versions without build metadata,
// highest first.
func releaseTags(root string, filter ...string) ([]string, error) {
	out, err := git(root, append([]string{"tag", "--list", "v*"}, filter...)...)
	if err != nil {
		return nil, err
	}
	var tags []string
	for _, t := range strings.Fields(out) {
		if semver.IsValid(t) && semver.Build(t) == "" && semver.Canonical(t) == t {
			tags = append(tags, t)
		}
	}
	sort.Slice(tags, func(i, j int) bool { return semver.Compare(tags[i], tags[j]) > 0 })
	return tags, nil
}

// release is one changelog entry: a version and its commits, newest first.
type release struct {
	Version string    `json:"version"`
	Date    time.Time `json:"date"`
	Changes []change  `json:"changes"`
}

// change is one commit: its hash and subject line.
type change struct {
	Commit string `json:"commit"`
	Note   string `json:"note"`
}

// changelog lists s's release and every earlier release tag on its history,
// newest first, each with the commits since the one before (merges left out).
func changelog(s *source) ([]release, error) {
	tags, err := releaseTags(s.Root, "--merged", "HEAD")
	if err != nil {
		return nil, err
	}
	type point struct{ version, rev string }
	var points []point
	if s.Tag == "" {
		points = append(points, point{s.Version, "HEAD"})
	}
	for _, t := range tags {
		points = append(points, point{t, t})
	}
	var out []release
	for i, p := range points {
		rng := p.rev
		if i+1 < len(points) {
			rng = points[i+1].rev + ".." + p.rev
		}
		r := release{Version: p.version}
		if p.version == s.Version {
			r.Date = s.Time
		} else {
			ct, err := git(s.Root, "log", "-1", "--format=%ct", p.rev)
			if err != nil {
				return nil, err
			}
			sec, err := strconv.ParseInt(ct, 10, 64)
			if err != nil {
				return nil, err
			}
			r.Date = time.Unix(sec, 0).UTC()
		}
		log, err := git(s.Root, "log", "--no-merges", "--format=%H%x1f%s", rng, "--")
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(log, "\n") {
			if hash, subject, ok := strings.Cut(line, "\x1f"); ok {
				r.Changes = append(r.Changes, change{Commit: hash, Note: subject})
			}
		}
		out = append(out, r)
	}
	return out, nil
}

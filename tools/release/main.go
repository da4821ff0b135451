// Command release builds a ghlogin release into dist/ from the commit checked
// out, reproducibly: two runs on the same commit, on any machine with the
// same Go version, write byte-identical files.
//
//	go run ./tools/release                      # everything
//	go run ./tools/release -targets linux/amd64 -packages deb
//
// It writes, for linux, darwin and windows on amd64 and arm64:
//
//   - ghlogin_VERSION_OS_ARCH.tar.gz (.zip for windows): the binaries, README.md,
//     LICENSE, completions/ (bash, zsh, fish, PowerShell) and man/man1/;
//   - for linux, a .deb, an .rpm and an Arch Linux package (tools/pack, nfpm);
//   - ghlogin_VERSION.cdx.json, a CycloneDX SBOM of the modules linked in;
//   - ghlogin_VERSION_checksums.txt, the SHA-256 of every file above.
//
// VERSION is HEAD's release tag (vX.Y.Z) or a Go pseudo-version, "+dirty"
// when the tree has uncommitted changes. Binaries are built with
// CGO_ENABLED=0, -trimpath, -buildvcs=false and -ldflags "-s -w -buildid="
// plus -X for the version, commit and commit date (what `ghlogin version`
// prints). The go command's own VCS stamping is off because it silently
// stamps nothing in a git worktree (it looks for a .git directory), so two
// checkouts of one commit would differ; -X says the same on every checkout.
// Every timestamp in archives and packages is the commit time, or
// SOURCE_DATE_EPOCH when set.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/tools/internal/cmddocs"
)

const (
	name       = "ghlogin"
	modulePath = "github.com/ghlogin/ghlogin"
	cliPackage = modulePath + "/internal/cli"
)

// commands are the binaries a release ships, with the package each is built
// from. A command whose directory is not in the tree is left out, so a new
// one is one line here.
var commands = []struct{ Name, Dir string }{
	{"ghlogin", "."},
	{"git-credential-ghlogin", "cmd/git-credential-ghlogin"},
}

// target is a GOOS/GOARCH pair.
type target struct{ OS, Arch string }

func (t target) String() string { return t.OS + "/" + t.Arch }

// exe is the file name of command n on t.
func (t target) exe(n string) string {
	if t.OS == "windows" {
		return n + ".exe"
	}
	return n
}

// allTargets are the platforms of a release.
var allTargets = []target{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

// options are release's flags.
type options struct {
	Out        string
	Targets    []target
	Packages   []string
	Maintainer string
	Log        func(format string, args ...any)
}

func main() {
	out := flag.String("out", "", "directory to write the release into, emptied first (default: dist/ in the repository)")
	targets := flag.String("targets", "", "comma-separated GOOS/GOARCH list (default: linux, darwin, windows × amd64, arm64)")
	packages := flag.String("packages", "deb,rpm,archlinux", "Linux package formats to build for the linux targets, comma-separated; \"none\" for none")
	maintainer := flag.String("maintainer", "The ghlogin authors <ghlogin@users.noreply.github.com>", "package maintainer, \"Name <email>\"")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "release: unexpected arguments:", strings.Join(flag.Args(), " "))
		os.Exit(2)
	}
	opts := options{Out: *out, Maintainer: *maintainer, Log: func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}}
	var err error
	if opts.Targets, err = parseTargets(*targets); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(2)
	}
	if *packages != "none" && *packages != "" {
		opts.Packages = strings.Split(*packages, ",")
	}
	if err := run(opts); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func parseTargets(s string) ([]target, error) {
	if s == "" {
		return allTargets, nil
	}
	var ts []target
	for _, p := range strings.Split(s, ",") {
		os, arch, ok := strings.Cut(strings.TrimSpace(p), "/")
		if !ok || os == "" || arch == "" {
			return nil, fmt.Errorf("target %q is not GOOS/GOARCH", p)
		}
		ts = append(ts, target{os, arch})
	}
	return ts, nil
}

func run(opts options) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	src, err := readSource(wd)
	if err != nil {
		return err
	}
	mtime := src.Time
	if e := os.Getenv("SOURCE_DATE_EPOCH"); e != "" {
		sec, err := strconv.ParseInt(e, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", e, err)
		}
		mtime = time.Unix(sec, 0).UTC()
	}
	if opts.Out == "" {
		opts.Out = filepath.Join(src.Root, "dist")
	}
	if opts.Out, err = filepath.Abs(opts.Out); err != nil {
		return err
	}
	if err := resetDir(opts.Out); err != nil {
		return err
	}
	if src.Dirty {
		opts.Log("the tree has uncommitted changes: building %s from them", src.Version)
	}
	opts.Log("release %s of %s (commit time %s)", src.Version, src.Commit[:12], src.Time.Format(time.RFC3339))

	stage, err := os.MkdirTemp("", "ghlogin-release-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)

	// Man pages and completions are the same on every platform.
	manDir, compDir := filepath.Join(stage, "man"), filepath.Join(stage, "completions")
	if err := cmddocs.Man(manDir, mtime, name+" "+src.Version); err != nil {
		return err
	}
	if err := cmddocs.Completions(compDir); err != nil {
		return err
	}
	shared, err := sharedMembers(src.Root, manDir, compDir)
	if err != nil {
		return err
	}

	var bins []builtBinary
	for _, t := range opts.Targets {
		binDir := filepath.Join(stage, "bin", t.OS+"_"+t.Arch)
		built, err := buildTarget(src, t, binDir)
		if err != nil {
			return err
		}
		bins = append(bins, built...)
		members := append([]member(nil), shared...)
		for _, b := range built {
			data, err := os.ReadFile(b.Path)
			if err != nil {
				return err
			}
			opts.Log("built %-14s %-24s %5.1f MB", t, filepath.Base(b.Path), float64(len(data))/1e6)
			members = append(members, member{Name: t.exe(b.Name), Mode: 0o755, Data: data})
		}
		base := archiveName(src.Version, t)
		for i := range members {
			members[i].Name = base + "/" + members[i].Name
		}
		var buf bytes.Buffer
		file := base + ".tar.gz"
		if t.OS == "windows" {
			file = base + ".zip"
			err = writeZip(&buf, members, mtime)
		} else {
			err = writeTarGz(&buf, members, mtime)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if err := os.WriteFile(filepath.Join(opts.Out, file), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}

	if len(opts.Packages) > 0 {
		var linux []target
		for _, t := range opts.Targets {
			if t.OS == "linux" {
				linux = append(linux, t)
			}
		}
		if len(linux) > 0 {
			if err := buildPackages(opts, src, mtime, stage, linux, compDir, manDir); err != nil {
				return err
			}
		}
	}

	var sbom bytes.Buffer
	if err := writeSBOM(&sbom, src, bins); err != nil {
		return fmt.Errorf("SBOM: %w", err)
	}
	if err := os.WriteFile(filepath.Join(opts.Out, name+"_"+src.Version+".cdx.json"), sbom.Bytes(), 0o644); err != nil {
		return err
	}
	sums, err := checksums(opts.Out)
	if err != nil {
		return err
	}
	sumFile := name + "_" + src.Version + "_checksums.txt"
	if err := os.WriteFile(filepath.Join(opts.Out, sumFile), sums, 0o644); err != nil {
		return err
	}
	opts.Log("wrote %s:", opts.Out)
	return listDir(opts.Out, opts.Log)
}

// resetDir empties dir (creating it), refusing a directory that looks like
// a source tree.
func resetDir(dir string) error {
	for _, marker := range []string{".git", "go.mod"} {
		if _, err := os.Stat(filepath.Join(dir, marker)); err == nil {
			return fmt.Errorf("%s holds %s: choose an output directory of its own", dir, marker)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o755)
}

// sharedMembers are the archive members every platform has.
func sharedMembers(root, manDir, compDir string) ([]member, error) {
	var ms []member
	add := func(src, dst string) error {
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		ms = append(ms, member{Name: dst, Mode: 0o644, Data: data})
		return nil
	}
	for _, f := range []string{"README.md", "LICENSE"} {
		if err := add(filepath.Join(root, f), f); err != nil {
			return nil, err
		}
	}
	for _, d := range []struct{ dir, prefix string }{{compDir, "completions/"}, {manDir, "man/man1/"}} {
		entries, err := os.ReadDir(d.dir)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if err := add(filepath.Join(d.dir, e.Name()), d.prefix+e.Name()); err != nil {
				return nil, err
			}
		}
	}
	return ms, nil
}

// buildEnv is the environment of every go command release runs: the
// caller's, with everything that changes the output pinned.
func buildEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOFLAGS", "CGO_ENABLED", "GOOS", "GOARCH", "GOAMD64", "GOARM64", "GOEXPERIMENT", "GOWORK":
			continue
		}
		env = append(env, kv)
	}
	return append(append(env,
		"GOFLAGS=-mod=readonly", "CGO_ENABLED=0", "GOAMD64=v1", "GOARM64=v8.0", "GOEXPERIMENT=", "GOWORK=off"),
		extra...)
}

// buildTarget builds every command for t into dir.
func buildTarget(src *source, t target, dir string) ([]builtBinary, error) {
	x := func(n, v string) string { return "-X " + cliPackage + "." + n + "=" + v }
	ldflags := strings.Join([]string{"-s", "-w", "-buildid=",
		x("Version", src.Version), x("Revision", src.Commit),
		x("Date", src.Time.Format(time.RFC3339)), x("Modified", strconv.FormatBool(src.Dirty)),
		// The lean git helper links no cli package; it reads its own.
		"-X main.version=" + src.Version}, " ")
	var built []builtBinary
	for _, c := range commands {
		if _, err := os.Stat(filepath.Join(src.Root, c.Dir)); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		out := filepath.Join(dir, t.exe(c.Name))
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, "./"+c.Dir)
		cmd.Dir = src.Root
		cmd.Env = buildEnv("GOOS="+t.OS, "GOARCH="+t.Arch)
		if msg, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s for %s: %v\n%s", c.Name, t, err, msg)
		}
		built = append(built, builtBinary{Target: t, Name: c.Name, Path: out})
	}
	return built, nil
}

// packManifest is tools/pack's Manifest (tools/pack/pack.go), which lives in
// its own module.
type packManifest struct {
	Version        string    `json:"version"`
	Arch           string    `json:"arch"`
	MTime          time.Time `json:"mtime"`
	BinDir         string    `json:"bin_dir"`
	CompletionsDir string    `json:"completions_dir"`
	ManDir         string    `json:"man_dir"`
	License        string    `json:"license"`
	Maintainer     string    `json:"maintainer"`
	Changelog      []release `json:"changelog"`
	Formats        []string  `json:"formats"`
	OutDir         string    `json:"out_dir"`
}

// buildPackages builds tools/pack (its own module, see there why) and runs
// it for each linux target.
func buildPackages(opts options, src *source, mtime time.Time, stage string, linux []target, compDir, manDir string) error {
	packBin := filepath.Join(stage, "pack")
	if runtime.GOOS == "windows" {
		packBin += ".exe"
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", packBin, ".")
	cmd.Dir = filepath.Join(src.Root, "tools", "pack")
	cmd.Env = buildEnv()
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building tools/pack: %v\n%s", err, msg)
	}
	log, err := changelog(src)
	if err != nil {
		return err
	}
	for _, t := range linux {
		m := packManifest{
			Version:        src.Version,
			Arch:           t.Arch,
			MTime:          mtime,
			BinDir:         filepath.Join(stage, "bin", t.OS+"_"+t.Arch),
			CompletionsDir: compDir,
			ManDir:         manDir,
			License:        filepath.Join(src.Root, "LICENSE"),
			Maintainer:     opts.Maintainer,
			Changelog:      log,
			Formats:        opts.Packages,
			OutDir:         opts.Out,
		}
		data, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return err
		}
		mf := filepath.Join(stage, "pack-"+t.Arch+".json")
		if err := os.WriteFile(mf, data, 0o644); err != nil {
			return err
		}
		cmd := exec.Command(packBin, "-manifest", mf)
		cmd.Env = buildEnv("SOURCE_DATE_EPOCH=" + strconv.FormatInt(mtime.Unix(), 10))
		out, err := cmd.Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return fmt.Errorf("tools/pack for %s: %v\n%s", t, err, ee.Stderr)
			}
			return err
		}
		for _, p := range strings.Fields(string(out)) {
			opts.Log("packaged %-11s %s", t, filepath.Base(p))
		}
	}
	return nil
}

// checksums is the SHA-256 of every file in dir, in sha256sum's format,
// sorted by name.
func checksums(dir string) ([]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(sum[:]), n)
	}
	return b.Bytes(), nil
}

// listDir logs each file of dir with its size and SHA-256.
func listDir(dir string, log func(string, ...any)) error {
	sums, err := checksums(dir)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		sum, n, _ := strings.Cut(line, "  ")
		st, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		log("  %10d  %s  %s", st.Size(), sum, n)
	}
	return nil
}

package main

import (
	"crypto/sha256"
	"debug/buildinfo"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/package-url/packageurl-go"
)

// builtBinary is one binary of the release and the target it runs on.
type builtBinary struct {
	Target target
	Name   string // ghlogin, git-credential-ghlogin
	Path   string
}

// writeSBOM writes a CycloneDX 1.6 JSON bill of materials for the release:
// ghlogin itself, the Go standard library and every module linked into any
// of the binaries, read from the build information the go command embeds in
// each (debug/buildinfo), so it lists what was linked, not what go.mod
// could reach. Each module names the platforms whose binaries contain it.
//
// cyclonedx-go (the CycloneDX project's own library) writes the format. Its
// sibling cyclonedx-gomod derives the same list but brings go-git and a
// license detector into go.mod; the build information already holds all of it.
func writeSBOM(w io.Writer, src *source, bins []builtBinary) error {
	type mod struct {
		path, version string
		platforms     map[string]bool
	}
	mods := map[string]*mod{}
	goVersion := ""
	for _, b := range bins {
		info, err := buildinfo.ReadFile(b.Path)
		if err != nil {
			return fmt.Errorf("%s: %w", b.Path, err)
		}
		goVersion = info.GoVersion
		for _, d := range info.Deps {
			if d.Replace != nil {
				d = d.Replace
			}
			key := d.Path + "@" + d.Version
			if mods[key] == nil {
				mods[key] = &mod{path: d.Path, version: d.Version, platforms: map[string]bool{}}
			}
			mods[key].platforms[b.Target.String()] = true
		}
	}

	self := golangComponent(modulePath, src.Version, cdx.ComponentTypeApplication)
	self.Description = "Log in to GitHub and keep your tokens safe"
	self.Licenses = &cdx.Licenses{{License: &cdx.License{ID: "MIT"}}}
	self.ExternalReferences = &[]cdx.ExternalReference{
		{Type: cdx.ERTypeVCS, URL: "https://" + modulePath},
	}
	self.Properties = &[]cdx.Property{{Name: "ghlogin:commit", Value: src.Commit}}

	keys := make([]string, 0, len(mods))
	for k := range mods {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	std := golangComponent("std", goVersion, cdx.ComponentTypeLibrary)
	components := []cdx.Component{std}
	deps := []string{std.BOMRef}
	for _, k := range keys {
		m := mods[k]
		c := golangComponent(m.path, m.version, cdx.ComponentTypeLibrary)
		platforms := make([]string, 0, len(m.platforms))
		for p := range m.platforms {
			platforms = append(platforms, p)
		}
		sort.Strings(platforms)
		c.Properties = &[]cdx.Property{{Name: "ghlogin:platforms", Value: strings.Join(platforms, " ")}}
		components = append(components, c)
		deps = append(deps, c.BOMRef)
	}

	bom := cdx.NewBOM()
	bom.SerialNumber = serialNumber(src)
	bom.Metadata = &cdx.Metadata{
		Timestamp: src.Time.UTC().Format(time.RFC3339),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "ghlogin tools/release", Version: src.Version,
		}}},
		Component: &self,
	}
	bom.Components = &components
	bom.Dependencies = &[]cdx.Dependency{{Ref: self.BOMRef, Dependencies: &deps}}
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	return enc.EncodeVersion(bom, cdx.SpecVersion1_6)
}

// golangComponent is a Go module (or the standard library, "std") as a
// CycloneDX component, named by its package URL (pkg:golang/…).
func golangComponent(path, version string, typ cdx.ComponentType) cdx.Component {
	ns, n := "", path
	if i := strings.LastIndex(path, "/"); i >= 0 {
		ns, n = path[:i], path[i+1:]
	}
	purl := packageurl.NewPackageURL(packageurl.TypeGolang, ns, n, version, nil, "").ToString()
	return cdx.Component{Type: typ, BOMRef: purl, Name: path, Version: version, PackageURL: purl}
}

// serialNumber is the BOM's urn:uuid, derived from the commit and version so
// that two builds of one commit write the same BOM. It is an RFC 9562
// version 8 (custom) UUID over SHA-256; google/uuid is not a dependency, and
// its name-based UUIDs (v3, v5) use MD5 and SHA-1.
func serialNumber(src *source) string {
	sum := sha256.Sum256([]byte(modulePath + "@" + src.Version + "#" + src.Commit))
	u := sum[:16]
	u[6] = u[6]&0x0f | 0x80 // version 8
	u[8] = u[8]&0x3f | 0x80 // variant 10
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

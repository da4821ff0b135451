// Command pack builds ghlogin's Linux packages (.deb, .rpm and an Arch Linux
// package) with nfpm used as a library (github.com/goreleaser/nfpm/v2), from
// a manifest that tools/release writes:
//
//	go -C tools/pack run . -manifest /path/to/manifest.json
//
// It is its own Go module so that nfpm's module graph (go-git, gopenpgp,
// sprig, rpmpack, …) stays out of ghlogin's go.mod, which every program that
// imports ghlogin's public packages (oauth, deviceflow, webflow, store)
// inherits. Nothing here is part of ghlogin's binary. `go run ./tools/release`
// builds and runs it; run it by hand only to package binaries built elsewhere.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
)

func main() {
	manifest := flag.String("manifest", "", "the JSON manifest written by tools/release (see Manifest)")
	flag.Parse()
	if *manifest == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: pack -manifest FILE")
		os.Exit(2)
	}
	data, err := os.ReadFile(*manifest)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pack:", err)
		os.Exit(1)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		fmt.Fprintf(os.Stderr, "pack: %s: %v\n", *manifest, err)
		os.Exit(1)
	}
	written, err := Build(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pack:", err)
		os.Exit(1)
	}
	for _, p := range written {
		fmt.Println(p)
	}
}

// Command gendocs regenerates the command reference kept in docs/: markdown
// in docs/reference and man pages in docs/man, from ghlogin's command tree.
// Run it from the repository root after changing a command, a flag or a help
// text (go generate ./... runs it too):
//
//	go run ./tools/gendocs
//
// A test in this package fails while the files in docs/ are stale.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ghlogin/ghlogin/tools/internal/cmddocs"
)

func main() {
	dir := flag.String("dir", "docs", "the docs directory to write reference/ and man/ into")
	flag.Parse()
	if err := cmddocs.Reference(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

// Command ghlogin logs people and machines in to GitHub and keeps their tokens
// safe: device flow, loopback web flow, OS keyring, and a git credential helper.
package main

import (
	"context"
	"os"

	"github.com/ghlogin/ghlogin/internal/cli"
)

//go:generate go run ./tools/gendocs

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.SystemEnv()))
}

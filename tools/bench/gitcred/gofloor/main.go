// Command gofloor is the least a credential helper written in Go can do: it
// reads git's request and prints a stored credential from a file named by
// GOFLOOR_FILE, with nothing else linked in. The gitcred benchmark runs it to
// show what starting any Go program costs on the machine, next to ghlogin.
package main

import (
	"bufio"
	"io"
	"os"
)

func main() {
	if len(os.Args) != 2 || os.Args[1] != "get" {
		return
	}
	// Read the request to its end, as a helper must.
	_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
	b, err := os.ReadFile(os.Getenv("GOFLOOR_FILE"))
	if err != nil {
		os.Exit(1)
	}
	_, _ = os.Stdout.Write(b)
}

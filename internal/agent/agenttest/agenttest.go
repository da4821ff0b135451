// Package agenttest runs a ghlogin agent (agent.Server) on a socket of its
// own for a test, as `ghlogin ssh` runs one for a remote.
package agenttest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/agent"
)

// Serve runs s on a new socket in a fresh directory (agent.Listen) until
// the test ends, and returns the socket's path. When the test ends it
// stops s and checks that Serve returned without an error.
func Serve(t testing.TB, s *agent.Server) string {
	t.Helper()
	sock, err := agent.Listen(filepath.Join(t.TempDir(), "run"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, sock) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("agent Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("agent Serve did not return after its context ended")
		}
	})
	return sock.Path
}

package emulator

import (
	"context"
	"strings"
	"testing"
)

// TestListenUsesTheOneLoopbackRule checks that the listener's address is
// judged by safe.IsLoopback: "localhost" in any case is loopback (and
// becomes 127.0.0.1), a name that only starts like a loopback address is not.
func TestListenUsesTheOneLoopbackRule(t *testing.T) {
	s, err := Start(context.Background(), "LocalHost:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %q", s.URL())
	}
	if _, err := Start(context.Background(), "127.0.0.1.nip.io:0", Config{}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("Start(127.0.0.1.nip.io) = %v", err)
	}
}

//go:build !linux && !darwin && !freebsd

package agent

import "net"

// peerCheckSupported: this system offers the agent no way to tell which
// user connected, so Server.Serve refuses to start.
const peerCheckSupported = false

// peerUID cannot tell the peer's user here.
func peerUID(net.Conn) (int, error) {
	return -1, &UnsupportedError{Feature: "checking which user connects to a Unix-domain socket"}
}

//go:build linux

package agent

import (
	"net"

	"golang.org/x/sys/unix"
)

// peerCheckSupported: Linux reports a Unix-domain socket peer's
// credentials (SO_PEERCRED, unix(7)).
const peerCheckSupported = true

// peerUID returns the user ID of the process at the other end of conn, as
// the kernel recorded it when that process connected.
func peerUID(conn net.Conn) (int, error) {
	var cred *unix.Ucred
	err := control(conn, func(fd int) error {
		var err error
		cred, err = unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
		return err
	})
	if err != nil {
		return -1, err
	}
	return int(cred.Uid), nil
}

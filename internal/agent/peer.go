package agent

import (
	"fmt"
	"net"
	"runtime"
	"syscall"
)

// UnsupportedError is something the agent needs that this system does not
// offer.
type UnsupportedError struct {
	Feature string
}

// Error names what is missing.
func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("the ghlogin agent needs %s, which %s does not offer", e.Feature, runtime.GOOS)
}

// control runs fn on conn's file descriptor.
func control(conn net.Conn, fn func(fd int) error) error {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return fmt.Errorf("%T is not a socket", conn)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := raw.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

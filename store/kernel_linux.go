//go:build linux

package store

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// newKernelBackend returns the kernel backend with the real system calls.
func newKernelBackend() kernelBackend { return kernelBackend{sys: linuxKeyctl()} }

// linuxKeyctl is keyctlCalls through golang.org/x/sys/unix.
func linuxKeyctl() keyctlCalls {
	return keyctlCalls{
		persistent: func() (int, error) {
			// The persistent keyring is linked into the process keyring
			// (created on demand, private to this process and gone when
			// it exits), not the session keyring, so nothing outlives
			// the process but the persistent keyring itself.
			return unix.KeyctlInt(unix.KEYCTL_GET_PERSISTENT, -1, unix.KEY_SPEC_PROCESS_KEYRING, 0, 0)
		},
		search: func(ring int, desc string) (int, error) {
			return unix.KeyctlSearch(ring, KernelKeyType, desc, 0)
		},
		read: readKey,
		add: func(desc string, payload []byte, ring int) (int, error) {
			return unix.AddKey(KernelKeyType, desc, payload, ring)
		},
		setperm: unix.KeyctlSetperm,
		invalidate: func(id int) error {
			_, err := unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
			return err
		},
		unlink: func(id, ring int) error {
			_, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, ring, 0, 0)
			return err
		},
		classify: classifyKeyctl,
	}
}

// readKey reads a key's payload, growing the buffer when the key changed
// size between the calls.
func readKey(id int) ([]byte, error) {
	size := 512
	for {
		buf := make([]byte, size)
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
		if err != nil {
			clear(buf)
			return nil, err
		}
		if n <= len(buf) {
			return buf[:n], nil
		}
		clear(buf)
		size = n
	}
}

// classifyKeyctl turns a keyctl or add_key error into ErrNotFound or a
// *KernelKeyringUnavailableError that says why; other errors are returned
// as they are.
func classifyKeyctl(op string, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err
	}
	switch errno {
	case unix.ENOKEY, unix.EKEYEXPIRED, unix.EKEYREVOKED:
		return ErrNotFound
	case unix.ENOSYS:
		return &KernelKeyringUnavailableError{Op: op, Err: errno,
			Reason: "this kernel has no keyrings (keyctl: function not implemented), or a sandbox hides them"}
	case unix.EPERM, unix.EACCES:
		return &KernelKeyringUnavailableError{Op: op, Err: errno,
			Reason: fmt.Sprintf("the kernel refused keyctl (%v): a seccomp profile or sandbox, such as a container's default one, blocks it", errno)}
	case unix.EOPNOTSUPP:
		return &KernelKeyringUnavailableError{Op: op, Err: errno,
			Reason: "this kernel has no persistent keyrings (CONFIG_PERSISTENT_KEYRINGS is off)"}
	case unix.EDQUOT:
		return &KernelKeyringUnavailableError{Op: op, Err: errno,
			Reason: "your kernel key quota is full (see /proc/sys/kernel/keys/maxbytes and maxkeys)"}
	}
	return &KernelKeyringUnavailableError{Op: op, Err: errno, Reason: fmt.Sprintf("keyctl failed: %v", errno)}
}

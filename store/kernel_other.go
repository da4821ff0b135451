//go:build !linux

package store

import "errors"

// errNotLinux is what every kernel keyring call fails with off Linux.
var errNotLinux = errors.New("kernel keyrings exist only on Linux")

// newKernelBackend returns the kernel backend, which off Linux is always
// unavailable: every call is a *KernelKeyringUnavailableError.
func newKernelBackend() kernelBackend {
	fail := func() error { return errNotLinux }
	return kernelBackend{sys: keyctlCalls{
		persistent: func() (int, error) { return 0, fail() },
		search:     func(int, string) (int, error) { return 0, fail() },
		read:       func(int) ([]byte, error) { return nil, fail() },
		add:        func(string, []byte, int) (int, error) { return 0, fail() },
		setperm:    func(int, uint32) error { return fail() },
		invalidate: func(int) error { return fail() },
		unlink:     func(int, int) error { return fail() },
		classify: func(op string, err error) error {
			return &KernelKeyringUnavailableError{Op: op, Reason: "kernel keyrings exist only on Linux", Err: err}
		},
	}}
}

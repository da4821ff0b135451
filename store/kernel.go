package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// BackendKernel names the Linux kernel keyring backend in the index.
const BackendKernel = "kernel"

// KernelKeyType is the kernel key type the kernel backend uses: "user" keys
// hold an opaque payload that only processes with read permission can read
// back (keyrings(7), user-keyring(7)).
const KernelKeyType = "user"

// KernelKeyPerm is the permission mask of every key the kernel backend
// writes (keyctl_setperm(3)): the possessor may do everything (view, read,
// write, search, link, setattr); processes of the same user may view, read,
// write, search and change attributes, but not link the key elsewhere;
// group and others get nothing.
const KernelKeyPerm uint32 = 0x3f2f0000

// maxKernelPayload is the largest payload a "user" key holds (32767 bytes,
// user-keyring(7)).
const maxKernelPayload = 32767

// KernelDescription returns the description of host/login's key in the
// kernel keyring: "ghlogin:HOST:LOGIN". A ':' or '%' in the login is
// percent-encoded, so that two accounts never share a description (a host
// may hold a port, "127.0.0.1:8787", but never a '%').
func KernelDescription(host, login string) string {
	login = strings.NewReplacer("%", "%25", ":", "%3A").Replace(login)
	return ServicePrefix + host + ":" + login
}

// kernelProbeDescription is the key Probe looks up; nothing is ever stored
// under it.
const kernelProbeDescription = ServicePrefix + "probe.invalid:ghlogin-probe"

// KernelKeyringUnavailableError means the kernel keyring cannot be used here:
// not Linux, a kernel without keyrings or persistent keyrings, or a kernel
// that refuses the calls (the default seccomp profile of Docker and other
// container runtimes blocks keyctl and add_key).
type KernelKeyringUnavailableError struct {
	// Op is what was attempted: "read", "write", "delete" or "probe".
	Op string
	// Reason says why, for people, e.g. "the kernel refused keyctl
	// (operation not permitted): a seccomp profile, as in containers,
	// blocks it".
	Reason string
	// Err is the system call's error (a syscall.Errno), when there is one.
	Err error
}

// Error says that the kernel keyring is not available, and why.
func (e *KernelKeyringUnavailableError) Error() string {
	msg := "the kernel keyring is not available here: " + e.Reason
	if e.Op == "delete" {
		msg += "; nothing was removed"
	}
	return msg
}

// Unwrap returns the system call's error.
func (e *KernelKeyringUnavailableError) Unwrap() error { return e.Err }

// keyctlCalls are the kernel keyring system calls the kernel backend makes
// (keyctl(2), add_key(2)). On Linux they are golang.org/x/sys/unix's; tests
// replace them to act out a kernel that refuses (ENOSYS, EPERM), and on
// other systems every call fails. Each returns the raw system call error.
type keyctlCalls struct {
	// persistent returns the current user's persistent keyring
	// (KEYCTL_GET_PERSISTENT, uid -1) after linking it into the process
	// keyring, which makes this process its possessor. Each call resets
	// the keyring's idle expiry.
	persistent func() (ring int, err error)
	// search finds a "user" key by description under ring (KEYCTL_SEARCH).
	search func(ring int, desc string) (id int, err error)
	// read returns a key's payload (KEYCTL_READ).
	read func(id int) ([]byte, error)
	// add creates or updates the "user" key desc in ring (add_key).
	add func(desc string, payload []byte, ring int) (id int, err error)
	// setperm sets a key's permission mask (KEYCTL_SETPERM).
	setperm func(id int, perm uint32) error
	// invalidate removes a key at once, wherever it is linked
	// (KEYCTL_INVALIDATE).
	invalidate func(id int) error
	// unlink removes the link from ring to key id (KEYCTL_UNLINK).
	unlink func(id, ring int) error
	// classify turns a system call error into ErrNotFound (no such key,
	// or one that expired or was revoked), a
	// *KernelKeyringUnavailableError (the kernel refuses), or itself.
	classify func(op string, err error) error
}

// kernelBackend is the "kernel" Backend: one "user" key per account in the
// user's persistent kernel keyring (keyrings(7), persistent-keyring(7)),
// description KernelDescription(host, login), payload the Secret as JSON
// (as the keyring backend stores it), permissions KernelKeyPerm. Nothing is
// ever written to disk. The persistent keyring survives logout and the end
// of SSH sessions; the kernel drops it after it has not been used for
// /proc/sys/kernel/keys/persistent_keyring_expiry seconds (3 days by
// default), and it is gone after a restart.
type kernelBackend struct {
	sys keyctlCalls
}

// Name returns "kernel".
func (kb kernelBackend) Name() string { return BackendKernel }

// Volatile reports that the kernel keyring forgets its secrets (restart,
// idle expiry): a missing secret is "gone", not "removed".
func (kb kernelBackend) Volatile() bool { return true }

// ring returns the persistent keyring.
func (kb kernelBackend) ring(op string) (int, error) {
	ring, err := kb.sys.persistent()
	if err != nil {
		return 0, kb.fail(op, err)
	}
	return ring, nil
}

// fail classifies a system call error; anything not recognised is still a
// *KernelKeyringUnavailableError, never a raw errno.
func (kb kernelBackend) fail(op string, err error) error {
	err = kb.sys.classify(op, err)
	var ku *KernelKeyringUnavailableError
	if errors.Is(err, ErrNotFound) || errors.As(err, &ku) {
		return err
	}
	return &KernelKeyringUnavailableError{Op: op, Reason: fmt.Sprintf("the kernel keyring failed (%v)", err), Err: err}
}

// find returns the key of host/login: ErrNotFound when there is none.
func (kb kernelBackend) find(op, host, login string) (ring, id int, err error) {
	if ring, err = kb.ring(op); err != nil {
		return 0, 0, err
	}
	id, err = kb.sys.search(ring, KernelDescription(host, login))
	if err != nil {
		return ring, 0, kb.fail(op, err)
	}
	return ring, id, nil
}

// Get reads and decodes host/login's secret: ErrNotFound when the key is
// missing, expired or revoked.
func (kb kernelBackend) Get(ctx context.Context, host, login string) (*Secret, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_, id, err := kb.find("read", host, login)
	if err != nil {
		return nil, err
	}
	data, err := kb.sys.read(id)
	if err != nil {
		return nil, kb.fail("read", err)
	}
	defer clear(data)
	var sec Secret
	if err := json.Unmarshal(data, &sec); err != nil || sec.Token == "" {
		return nil, &CorruptSecretError{Host: host, Login: login, Store: BackendKernel}
	}
	return &sec, nil
}

// Set writes host/login's secret (creating or replacing its key) and sets
// the key's permissions to KernelKeyPerm. The key is created with the
// kernel's default for a new key (possessor access, user view: no group or
// other bits), so it is never readable by others, even for an instant.
func (kb kernelBackend) Set(ctx context.Context, host, login string, sec *Secret) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(sec)
	if err != nil {
		return err
	}
	defer clear(data)
	if len(data) > maxKernelPayload {
		return &SecretTooLargeError{Store: BackendKernel, Err: fmt.Errorf("%d bytes; a kernel key holds at most %d", len(data), maxKernelPayload)}
	}
	ring, err := kb.ring("write")
	if err != nil {
		return err
	}
	id, err := kb.sys.add(KernelDescription(host, login), data, ring)
	if err != nil {
		return kb.fail("write", err)
	}
	if err := kb.sys.setperm(id, KernelKeyPerm); err != nil {
		// A key whose permissions could not be set is not left behind.
		_ = kb.sys.invalidate(id)
		return kb.fail("write", err)
	}
	return nil
}

// Delete removes host/login's key: ErrNotFound when there was none. The
// key is invalidated (gone at once, wherever it was linked); when the
// kernel cannot invalidate it, it is unlinked from the persistent keyring.
func (kb kernelBackend) Delete(ctx context.Context, host, login string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ring, id, err := kb.find("delete", host, login)
	if err != nil {
		return err
	}
	if err := kb.sys.invalidate(id); err != nil {
		if uerr := kb.sys.unlink(id, ring); uerr != nil {
			return kb.fail("delete", err)
		}
	}
	return nil
}

// Probe gets the persistent keyring and searches it for a key that does not
// exist: it needs every call a login makes but add_key, and writes nothing.
// A refusal is a *KernelKeyringUnavailableError.
func (kb kernelBackend) Probe(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ring, err := kb.ring("probe")
	if err != nil {
		return err
	}
	if _, err := kb.sys.search(ring, kernelProbeDescription); err != nil {
		if err := kb.fail("probe", err); !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

package store

// NoKeyringServiceError means there is no keyring service on this machine:
// no D-Bus session bus (a server, an SSH session, a container), a bus that
// is gone, or a bus on which nothing provides the Secret Service. It is
// known before anything is asked of the keyring, and nothing was started to
// find out. The keyring backend returns it inside a *KeyringUnavailableError.
type NoKeyringServiceError struct {
	// Reason says what is missing, e.g. "no D-Bus session bus
	// (DBUS_SESSION_BUS_ADDRESS is not set and there is no socket at
	// /run/user/1000/bus)".
	Reason string
	// Err is the cause, when there is one (a connection error).
	Err error
}

// Error says that there is no keyring service, and why.
func (e *NoKeyringServiceError) Error() string {
	return "no keyring service on this machine: " + e.Reason
}

// Unwrap returns the cause.
func (e *NoKeyringServiceError) Unwrap() error { return e.Err }

package store

// osKeyring is the OS keyring for the tests that use a real Secret Service:
// package oskeyring's, set by the external test package (oskeyring imports
// store, so these tests cannot import it themselves).
var osKeyring Keyring = noKeyring{}

// SetOSKeyring sets the OS keyring the tests use.
func SetOSKeyring(k Keyring) { osKeyring = k }

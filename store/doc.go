// Package store is ghlogin's token store, usable by other Go programs that
// want to read (or keep) tokens the way ghlogin does: each account's secret
// in a backend — the OS keyring, the Linux kernel keyring, or a 0600
// credentials.json where the user chose it — and the non-secret index (which accounts exist, which one is
// active, scopes and expiries) in config.toml. Every change happens under
// one cross-process lock, so the many processes git starts never corrupt
// either side or lose an account.
//
// # Main types
//
//   - Store, from Open(Options): Save, SaveWith and Replace write an
//     account; Remove, Invalidate and Switch change one; Accounts, Resolve
//     and Secret read them; WithLock serialises work across processes.
//   - Secret is what a backend keeps (the token, its refresh token and
//     expiries), built from a token reply by the program that logged in.
//   - Account is an index entry, without the secret.
//   - Backend is one place secrets are kept. The store has "keyring"
//     (BackendKeyring: macOS Keychain, Windows Credential Manager or the
//     Secret Service through go-keyring, linked by passing
//     oskeyring.Keyring as Options.Keyring; service "ghlogin:HOST", user
//     the login, the Secret as JSON), "kernel" (BackendKernel: a "user" key
//     "ghlogin:HOST:LOGIN" in the user's persistent kernel keyring, the
//     Secret as JSON; never on disk, gone after a restart or when the
//     keyring expires unused) and "file" (BackendFile: credentials.json).
//     The index records each account's backend by name, and every operation
//     finds the backend by that name. Options.Backends adds or replaces
//     backends.
//   - Offers lists the backends usable on this machine, in the order to
//     offer them, each with what it protects against and how long a token
//     lives there (Describe gives that for one backend).
//   - The OS keyring is package oskeyring's (passed as Options.Keyring),
//     with the check that tells, without starting anything, whether an OS
//     keyring service is there (oskeyring.CheckSecretService;
//     *NoKeyringServiceError otherwise), so that a program reading only
//     the file store and the kernel keyring links no D-Bus client.
//   - BeginLogin makes one login run at a time per host across processes;
//     the others wait and get its LoginResult.
//
// # Use
//
//	st, err := store.Open(store.Options{}) // ghlogin's config directory
//	a, err := st.Resolve("github.com", "") // the active account
//	sec, err := st.Secret(ctx, a)          // its token, from its backend
//
// Example saves an account and reads it back.
//
// # Transactions
//
// A write puts the secret first and the index second, in one atomic write
// of config.toml; when the index cannot be written, the backend is put back
// as it was, so nothing already stored is lost and no account exists
// without its secret. SaveWith applies the host's settings in that same
// index write.
//
// # Files
//
// Layout of the config directory (0700 when the store creates it):
//
//	config.toml       settings and the account index (no tokens; a host's
//	                  client_secret when set), 0600
//	credentials.json  the file backend: host → login → Secret, 0600
//	ghlogin.lock      the lock every mutation takes
//	locks/NAME.lock   named locks (WithLock), e.g. one per token refresh
//	locks/login-HOST.lock, .owner, .result
//	                  the login in flight for HOST (BeginLogin): the lock,
//	                  who holds it (PID, start, command line), and the last
//	                  login's outcome (never a token)
//
// Both files are replaced atomically (temporary file, fsync, rename, fsync of
// the directory), so a crash leaves the old version or the new one, whole.
// A credentials.json that other users can access (group/other mode bits) is
// refused with *InsecureFileError until its mode is fixed, as ssh does with
// private keys: its tokens may have been exposed, which the user should know
// rather than have the store quietly repair. Like ssh's StrictModes, the
// directory, config.toml, credentials.json, ghlogin.lock, locks/ and every
// file in it must also belong to the user and not be writable by others
// (*UntrustedError, which names the chmod or chown to run): whoever
// can write a lock can hold it, and a forged result would make a waiting
// process report a login that never happened.
//
// # Defaults
//
// Every keyring call is bounded (Options.KeyringTimeout, else the config
// file's keyring_timeout, else 3 s): a call that does not return in time
// yields *KeyringUnavailableError{Timeout: true} at once and is left to
// finish in the background, since D-Bus and Keychain calls cannot be
// interrupted. Mutations wait at most 30 s for the store lock
// (Options.LockTimeout).
//
// # Errors
//
// Errors are typed and carry data (host, login, backend, path, operation):
// *NotLoggedInError (Gone when a kernel keyring secret is no longer
// there), *KeyringUnavailableError (wrapping *NoKeyringServiceError where
// there is no keyring service), *KernelKeyringUnavailableError,
// *CorruptSecretError,
// *UnknownBackendError, *InsecureFileError, *CorruptFileError, *LockError,
// *InvalidInputError. They say what happened; what a person should do about
// it is for the program using the store to say.
//
// Package storetest has an in-memory keyring for tests.
package store

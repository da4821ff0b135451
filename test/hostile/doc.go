// Package hostile holds ghlogin's hostile-world tests: they run the built
// ghlogin binary against servers on loopback that misbehave on purpose —
// token, API and workload endpoints that redirect a secret-carrying request
// to another port, another host or from https to plain http; servers whose
// error codes, descriptions, scopes, logins and claims carry terminal
// escape sequences (ESC, OSC 52, CSI, C1, bidi controls); a proxy that
// answers a device-flow poll with an HTML page — and against config files
// another user could have written. Each test asserts what the user sees on
// stdout and stderr, byte for byte where it matters, and that the second
// server receives nothing. The package has no non-test code.
package hostile

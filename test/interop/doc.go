// Package interop holds ghlogin's interoperability tests: they run the real
// ghlogin binary against an OAuth 2.0 / OpenID Connect server that ghlogin's
// authors did not write (the npm package oidc-provider, started by the node
// harness in provider/), and approve logins by driving that server's own HTML
// pages over HTTP. The package has no non-test code; see README.md.
package interop

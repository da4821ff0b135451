package hint

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/ghlogin/ghlogin/deviceflow"
	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/hint/core"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/webflow"
)

// loginCtx is the login command's context: it has every flag the steps
// name.
var loginCtx = Context{Flags: func(name string) bool {
	switch name {
	case "host", "store", "client-id", "scopes", "issuer", "web", "device":
		return true
	}
	return false
}}

// TestSentences: each typed error, alone, gives the sentence people have
// always seen for it.
func TestSentences(t *testing.T) {
	dbus := errors.New("The name org.freedesktop.secrets was not provided by any .service files")
	for _, tc := range []struct {
		err  error
		want string
	}{
		// oauth
		{&oauth.Error{Code: "access_denied"}, "the server answered access_denied (the request was denied in the browser; run login again to retry)"},
		{&oauth.Error{Code: "invalid_client", Description: "bad"}, "the server answered invalid_client: bad (check the client ID (--client-id, GHLOGIN_CLIENT_ID or the host's client_id setting) and client secret)"},
		{&oauth.Error{Code: "something_new"}, "the server answered something_new"},
		{&oauth.TimeoutError{Message: deviceflow.ExpiredMessage, Flow: oauth.FlowDevice}, "the code expired; run login again"},
		{&oauth.TimeoutError{Message: "no answer from the browser within 100ms", Flow: oauth.FlowWeb, After: 100 * time.Millisecond},
			"no answer from the browser within 100ms; run login again (or use the device flow: ghlogin login --device)"},
		{&oauth.TimeoutError{Message: "the workload token expired"}, "the workload token expired"},
		{&oauth.NetworkError{Endpoint: "https://github.com/login/oauth/access_token", Err: syscall.ECONNREFUSED},
			"could not reach https://github.com/login/oauth/access_token: connection refused (check your network connection)"},
		{&oauth.NetworkError{Endpoint: "https://127.0.0.1:8787/login/device/code", Err: errors.New("http: server gave HTTP response to HTTPS client")},
			"could not reach https://127.0.0.1:8787/login/device/code: the server there does not speak https (http: server gave HTTP response to HTTPS client); a server on this machine that speaks plain http is named with http://, as in --host http://127.0.0.1:8787"},
		{&oauth.NetworkError{Endpoint: "https://ghe.example.com/login/device/code", Err: tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}},
			"could not reach https://ghe.example.com/login/device/code: the server there does not speak https (tls: first record does not look like a TLS handshake); check the host name and port"},
		{&oauth.NetworkError{Endpoint: "https://ghe.example.com/login/device/code", Err: x509.UnknownAuthorityError{}},
			"could not reach https://ghe.example.com/login/device/code: its TLS certificate is not trusted on this machine (x509: certificate signed by unknown authority); if the server's certificate comes from a private authority, add that authority to this machine's trusted certificates (or point SSL_CERT_FILE at it)"},

		// store
		{&store.NotLoggedInError{Host: "github.com"}, "not logged in to github.com; run: ghlogin login --host github.com"},
		{&store.NotLoggedInError{Host: "github.com", Login: "ghost"}, `no account "ghost" for github.com; run: ghlogin login --host github.com`},
		{&store.NotLoggedInError{Host: "github.com", Login: "octocat", Store: store.BackendKeyring},
			"the token for octocat on github.com is missing from the OS keyring (removed outside ghlogin?); log in again: ghlogin login --host github.com"},
		{&store.NotLoggedInError{Host: "github.com", Login: "octocat", Store: store.BackendFile},
			"the token for octocat on github.com is missing from the credentials file (removed outside ghlogin?); log in again: ghlogin login --host github.com"},
		{&store.NotLoggedInError{Host: "github.com", Login: "octocat", Invalid: "the API rejected it (HTTP 401)"},
			"the token for octocat on github.com was removed because the API rejected it (HTTP 401); log in again: ghlogin login --host github.com"},
		{&store.CorruptSecretError{Host: "github.com", Login: "octocat", Store: store.BackendKeyring},
			"the secret for octocat on github.com in the OS keyring is not readable; log in again: ghlogin login --host github.com"},
		{&store.UnknownBackendError{Path: "/c/config.toml", Host: "github.com", Login: "octocat", Store: "disk"},
			`the config file /c/config.toml names an unknown store "disk" for octocat on github.com; log in again: ghlogin login --host github.com`},
		{&store.KeyringUnavailableError{Op: "write", Err: dbus},
			"the OS keyring is not available (write): " + dbus.Error() + "; to keep the token in a file readable only by you instead, use --store file or set GHLOGIN_STORE=file"},
		{&store.KeyringUnavailableError{Op: "read", Err: errors.New("the keyring is locked")},
			"the OS keyring is not available (read): the keyring is locked; run this where the keyring can be reached (your desktop session), or to keep the token in a file readable only by you instead, use --store file or set GHLOGIN_STORE=file"},
		{&store.KeyringUnavailableError{Op: "read", Timeout: true, Err: context.DeadlineExceeded},
			"the OS keyring is not available (read): the keyring did not answer in time; run this where the keyring can be reached (your desktop session), or to keep the token in a file readable only by you instead, use --store file or set GHLOGIN_STORE=file"},
		{&store.KeyringUnavailableError{Op: "delete", Err: dbus},
			"the OS keyring is not available (delete): " + dbus.Error() + "; nothing was removed: unlock or start the keyring, then try again"},
		{&store.SecretTooLargeError{Store: store.BackendKeyring, Err: keyring.ErrSetDataTooBig},
			"the token is too large for the OS keyring; use --store file or set GHLOGIN_STORE=file: " + keyring.ErrSetDataTooBig.Error()},
		{&store.NotLoggedInError{Host: "github.com", Login: "octocat", Store: store.BackendKernel, Gone: true},
			"the login for octocat on github.com was kept in memory and is gone (the machine restarted or it expired); log in again: ghlogin login --host github.com"},
		{&store.KernelKeyringUnavailableError{Op: "write", Reason: "the kernel refused keyctl (operation not permitted): a seccomp profile or sandbox, such as a container's default one, blocks it", Err: syscall.EPERM},
			"the kernel keyring is not available here: the kernel refused keyctl (operation not permitted): a seccomp profile or sandbox, such as a container's default one, blocks it; to keep the token in a file readable only by you instead, use --store file or set GHLOGIN_STORE=file"},
		{&store.KernelKeyringUnavailableError{Op: "delete", Reason: "kernel keyrings exist only on Linux"},
			"the kernel keyring is not available here: kernel keyrings exist only on Linux; nothing was removed"},
		{&store.SecretTooLargeError{Store: store.BackendKernel, Err: errors.New("40000 bytes; a kernel key holds at most 32767")},
			"the token is too large for the kernel keyring; use --store file or set GHLOGIN_STORE=file: 40000 bytes; a kernel key holds at most 32767"},
		{&store.InsecureFileError{Path: "/c/credentials.json", Mode: 0o644},
			"/c/credentials.json is accessible by other users (mode 0644), so the tokens in it may have been exposed; run: chmod 600 /c/credentials.json (and consider revoking those tokens)"},

		// deviceflow
		{&deviceflow.ConfigError{Field: deviceflow.FieldClientID, Reason: "none is configured"},
			"device flow: client ID: none is configured; give one with --client-id, GHLOGIN_CLIENT_ID or the host's client_id setting"},
		{&deviceflow.ConfigError{Field: deviceflow.FieldDeviceCodeURL, Reason: "none is set"},
			"device flow: device code URL: none is set; set the host's device_code_url in the config file"},
		{&deviceflow.ConfigError{Field: deviceflow.FieldTokenURL, Reason: "none is set"},
			"device flow: token URL: none is set; set the host's token_url in the config file"},
		{&deviceflow.CodeError{Field: "user_code", Reason: "is missing"},
			"the server's device code reply is unusable: user_code is missing (check the host's device_code_url setting and that the server supports the device flow)"},

		// webflow
		{&webflow.ConfigError{Field: webflow.FieldClientID, Reason: "none is configured"},
			"web flow: client ID: none is configured; give one with --client-id, GHLOGIN_CLIENT_ID or the host's client_id setting"},
		{&webflow.ConfigError{Field: webflow.FieldAuthorizeURL, Reason: "bad"}, "web flow: authorization URL: bad; check the host's authorize_url"},
		{&webflow.ConfigError{Field: webflow.FieldTokenURL, Reason: "bad"}, "web flow: token URL: bad; check the host's token_url"},
		{&webflow.ListenError{Addr: "127.0.0.1:8765", Err: syscall.EADDRINUSE},
			"could not listen on 127.0.0.1:8765 for the browser's callback: address already in use (free that port, or set the host's callback_port to 0 to use any free port)"},
		{&webflow.ListenError{Addr: "127.0.0.1:0", Err: syscall.EADDRNOTAVAIL},
			"could not listen on 127.0.0.1:0 for the browser's callback: cannot assign requested address (check that the loopback interface 127.0.0.1 is up)"},
		{&webflow.CallbackError{Reason: "without an authorization code or an error"},
			"the authorization server sent the browser back without an authorization code or an error; run login again, and if it keeps happening check the host's authorize_url setting or use the device flow (ghlogin login --device)"},

		// githubapi
		{&githubapi.UnauthorizedError{Host: "api.github.com"},
			"api.github.com rejected the token (HTTP 401): it was revoked or has expired; log in again with: ghlogin login --host github.com"},
		{&githubapi.UnauthorizedError{Host: "ghe.example.com"},
			"ghe.example.com rejected the token (HTTP 401): it was revoked or has expired; log in again with: ghlogin login --host ghe.example.com"},
		{&githubapi.UnauthorizedError{},
			"the server rejected the token (HTTP 401): it was revoked or has expired; log in again with: ghlogin login"},
		{&githubapi.LoginFieldError{Field: "preferred_username", Err: &oauth.HTTPError{StatusCode: 200, Detail: `the user info reply has no usable "preferred_username" field`}},
			`the server answered HTTP 200 OK: the user info reply has no usable "preferred_username" field (check the host's userinfo_url and login_field settings)`},

		// config
		{&config.ParseError{Path: "/c/config.toml", Reason: `[hosts."ghe.example.com"] invalid value "digest" for client_auth: use body or basic`, Host: "ghe.example.com", Key: "client_auth"},
			`the config file /c/config.toml cannot be read: [hosts."ghe.example.com"] invalid value "digest" for client_auth: use body or basic; fix it (or move it away to start afresh); to change the setting, run: ghlogin config set --host ghe.example.com client_auth VALUE`},
		{&config.ParseError{Path: "/c/config.toml", Reason: "invalid value for client_secret: bad", Host: "github.com", Key: "client_secret"},
			`the config file /c/config.toml cannot be read: invalid value for client_secret: bad; fix it (or move it away to start afresh); to change the setting, run: ghlogin config set --host github.com client_secret -`},

		// safe
		{&safehttp.RedirectError{Endpoint: "https://ghe.example.com/login/oauth/access_token", LocationHost: "collector.example", Status: 307, Secret: true},
			"https://ghe.example.com/login/oauth/access_token answered with a redirect to collector.example (HTTP 307); a request that carries a secret never follows a redirect" +
				" (check that URL, in the host's settings or the flag or variable that set it: it must be the server's final address, since ghlogin sends a secret only to the URL it was given; a proxy or a moved server can also cause this)"},
		{fmt.Errorf("gce: %w", &safehttp.RedirectError{Endpoint: "http://127.0.0.1:9/computeMetadata/v1/x", LocationHost: "127.0.0.1:10", Status: 302}),
			"gce: http://127.0.0.1:9/computeMetadata/v1/x answered with a redirect to 127.0.0.1:10 (HTTP 302); redirects are followed only to the same scheme, host and port" +
				" (check that URL, in the host's settings or the flag or variable that set it: give the address the server redirects to, if you trust it)"},

		// agent
		{&agent.GoneError{Path: "/tmp/a.sock", Err: syscall.ECONNREFUSED}, "the forwarded agent is gone; reconnect or log in here"},
		{&agent.NoAgentError{Path: "/tmp/a.sock", Err: syscall.ENOENT},
			"the forwarded agent is gone; reconnect or log in here (no ghlogin agent at /tmp/a.sock; after logging in here, unset GHLOGIN_AGENT_SOCK)"},
		{&agent.NoAgentError{Path: "/tmp/a.sock", Err: syscall.EACCES},
			"cannot reach the ghlogin agent at /tmp/a.sock: permission denied; reconnect with ghlogin ssh, or log in here and unset GHLOGIN_AGENT_SOCK"},
		{&agent.TimeoutError{Path: "/tmp/a.sock", After: 5 * time.Second},
			"the ghlogin agent at /tmp/a.sock did not answer within 5s; the connection to the machine that lends the login may have stalled: reconnect, or log in here"},
		{&agent.RefusedError{Agent: "laptop", Code: agent.CodeNotAllowed, Host: "ghe.example.com", Reason: "this agent serves github.com only"},
			"the agent on laptop does not serve ghe.example.com; reconnect with ghlogin ssh --allow ghe.example.com …"},
		{&agent.RefusedError{Agent: "laptop", Code: agent.CodeNotAllowed, Reason: "this agent answers only its own user"},
			"the agent on laptop refused the request: this agent answers only its own user"},
		{&agent.RefusedError{Agent: "laptop", Code: agent.CodeNotLoggedIn, Host: "github.com", Reason: "not logged in to github.com"},
			"the agent on laptop cannot lend a token for github.com: not logged in to github.com; log in on laptop with ghlogin login --host github.com, or log in here"},
		{&agent.RefusedError{Code: agent.CodeNeedsLogin, Host: "github.com", Reason: "the token for octo@github.com expired and could not be refreshed"},
			"the agent cannot lend a token for github.com: the token for octo@github.com expired and could not be refreshed; log in again on the agent's machine: ghlogin login --host github.com"},
		{&agent.RefusedError{Agent: "laptop", Code: agent.CodeInternal, Host: "github.com", Reason: "the token store or the token refresh failed"},
			"the agent on laptop could not get a token for github.com: the token store or the token refresh failed; try again, and if it keeps failing look at the ghlogin ssh session on laptop"},
		{&agent.RefusedError{Agent: "laptop", Code: agent.CodeBadRequest, Reason: "unknown field \"x\""},
			"the agent on laptop refused the request: unknown field \"x\"; use the same ghlogin version on both machines"},
		{&agent.ProtocolError{Path: "/tmp/a.sock", Reason: "not JSON"},
			"the ghlogin agent at /tmp/a.sock gave an answer this ghlogin does not understand: not JSON; use the same ghlogin version on both machines"},
		{&agent.DirError{Path: "/run/user/1/ghlogin", Problem: agent.DirOpen, Mode: 0o755},
			"the agent's socket directory /run/user/1/ghlogin can be entered by other users (mode 0755); fix it with: chmod 700 /run/user/1/ghlogin"},
		{&agent.DirError{Path: "/tmp/ghlogin-1", Problem: agent.DirNotOwned, UID: 0},
			"the agent's socket directory /tmp/ghlogin-1 belongs to another user (uid 0); remove it, or set XDG_RUNTIME_DIR to a directory of your own"},
		{&agent.SocketPathError{Path: "/very/long.sock"},
			"the socket path /very/long.sock is longer than 103 bytes; set XDG_RUNTIME_DIR to a directory with a shorter path"},

		{errors.New("plain"), "plain"},
	} {
		if got := ExplainIn(tc.err, loginCtx); got != tc.want {
			t.Errorf("Explain(%#v):\n got %q\nwant %q", tc.err, got, tc.want)
		}
		if _, isAgent := core.Agent(tc.err); isAgent {
			// The lean git helper explains an agent's errors with core
			// alone: the same words.
			if got := core.Explain(tc.err, core.Agent); got != tc.want {
				t.Errorf("core.Explain(%#v, core.Agent):\n got %q\nwant %q", tc.err, got, tc.want)
			}
		}
	}
}

// TestNoKeyringService: with no Secret Service the step offers the kernel
// keyring first on Linux, and the file store elsewhere; never "unlock".
func TestNoKeyringService(t *testing.T) {
	ns := &store.NoKeyringServiceError{Reason: "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set and there is no socket at /run/user/1000/bus)"}
	for _, err := range []error{ns, &store.KeyringUnavailableError{Op: "write", Err: ns}} {
		got := ExplainIn(err, loginCtx)
		if !strings.Contains(got, "no keyring service on this machine: no D-Bus session bus") || strings.Contains(got, "unlock") {
			t.Errorf("Explain(%v) = %q", err, got)
		}
		want := "use --store file"
		if runtime.GOOS == "linux" {
			want = "use --store kernel or set GHLOGIN_STORE=kernel; to keep it in a file readable only by you (plaintext at rest), use --store file or set GHLOGIN_STORE=file"
		}
		if !strings.Contains(got, want) {
			t.Errorf("Explain(%v) = %q, want it to say %q", err, got, want)
		}
	}
	if got := Explain(&store.KeyringUnavailableError{Op: "read", Err: ns}); !strings.HasPrefix(got, "the OS keyring is not available (read): no keyring service on this machine") {
		t.Errorf("read: %q", got)
	}
	if got := Explain(&store.KeyringUnavailableError{Op: "delete", Err: ns}); got != "the OS keyring is not available (delete): "+ns.Error()+"; nothing was removed" {
		t.Errorf("delete: %q", got)
	}
}

// TestOAuthCodes: every code with a next step has one, and the codes
// without one add nothing.
func TestOAuthCodes(t *testing.T) {
	for code, says := range map[string]string{
		"device_flow_disabled":         "enable Device Flow in the OAuth app's settings on GitHub, or use the web flow (--web)",
		"incorrect_client_credentials": "check the client ID",
		"invalid_client":               "check the client ID",
		"unauthorized_client":          "check the client ID",
		"expired_token":                "the code expired; run login again",
		"access_denied":                "denied",
		"incorrect_device_code":        "run login again",
		"bad_verification_code":        "run login again",
		"invalid_grant":                "run login again",
		"unsupported_grant_type":       "does not support this login method",
		"bad_refresh_token":            "run login again",
		"redirect_uri_mismatch":        "http://127.0.0.1/callback",
		"invalid_scope":                "--scopes",
		"invalid_request":              "rejected the request",
		"server_error":                 "try again later",
		"temporarily_unavailable":      "try again later",
	} {
		if h := OAuthIn(code, loginCtx); !strings.Contains(h, says) {
			t.Errorf("OAuth(%q) = %q, want it to say %q", code, h, says)
		}
	}
	for _, code := range []string{"", "no_such_code", "authorization_pending", "slow_down"} {
		if h := OAuth(code); h != "" {
			t.Errorf("OAuth(%q) = %q, want nothing", code, h)
		}
	}
}

// TestWrapped: the step goes right after the typed error's own text,
// wherever a wrapper put it.
func TestWrapped(t *testing.T) {
	oe := &oauth.Error{Code: "bad_refresh_token"}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"a %w wrapper", fmt.Errorf("storing the token: %w", &store.KeyringUnavailableError{Op: "write", Timeout: true}),
			"storing the token: the OS keyring is not available (write): the keyring did not answer in time; to keep the token in a file readable only by you instead, use --store file or set GHLOGIN_STORE=file"},
		{"a client ID wrapper", fmt.Errorf("%s refused the client ID %q: %w", "github.com", "Iv1.x", &oauth.Error{Code: "invalid_client"}),
			`github.com refused the client ID "Iv1.x": the server answered invalid_client (check the client ID (--client-id, GHLOGIN_CLIENT_ID or the host's client_id setting) and client secret)`},
		{"quoted in the middle", &refresh.NeedsLoginError{Host: "ghe.example.com", Login: "app", Reason: oe.Error(), Err: oe},
			"the token for app@ghe.example.com expired and could not be refreshed (the server answered bad_refresh_token (the refresh token is no longer valid; run login again)); run ghlogin login --host ghe.example.com"},
		{"not quoted", &refresh.NeedsLoginError{Host: "h", Login: "l", Reason: "the refresh token has expired", Err: oe},
			"the token for l@h expired and could not be refreshed (the refresh token has expired); run ghlogin login --host h"},
		{"joined", errors.Join(&store.NotLoggedInError{Host: "a.example"}, &githubapi.UnauthorizedError{Host: "b.example"}),
			"not logged in to a.example; run: ghlogin login --host a.example\nb.example rejected the token (HTTP 401): it was revoked or has expired; log in again with: ghlogin login --host b.example"},
		{"a typed error wrapping another", &store.KeyringUnavailableError{Op: "read", Err: &oauth.Error{Code: "access_denied"}},
			"the OS keyring is not available (read): the server answered access_denied; run this where the keyring can be reached (your desktop session), or to keep the token in a file readable only by you instead, use --store file or set GHLOGIN_STORE=file"},
	} {
		if got := ExplainIn(tc.err, loginCtx); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestWrap(t *testing.T) {
	if Wrap(nil) != nil || Explain(nil) != "" {
		t.Fatal("nil")
	}
	base := &store.NotLoggedInError{Host: "github.com"}
	w := Wrap(fmt.Errorf("token: %w", base))
	want := "token: not logged in to github.com; run: ghlogin login --host github.com"
	if w.Error() != want {
		t.Fatalf("Wrap: %q", w)
	}
	var nl *store.NotLoggedInError
	if !errors.As(w, &nl) || nl != base {
		t.Fatal("errors.As does not see through Wrap")
	}
	if Wrap(w) != w || Explain(w) != want || Explain(fmt.Errorf("x: %w", w)) != "x: "+want {
		t.Fatal("explained twice")
	}
	if oauth.ErrorCode(Wrap(&oauth.Error{Code: "access_denied"})) != "access_denied" {
		t.Fatal("ErrorCode does not see through Wrap")
	}
}

// TestExplainIsTerminalSafe: whatever text reached an error (a certificate
// name in a TLS error, a server's reply quoted by a library), Explain's
// lines hold no escape sequence, C1 or bidi control; line breaks the
// message meant stay.
func TestExplainIsTerminalSafe(t *testing.T) {
	err := fmt.Errorf("first line\nx509: certificate is valid for \x1b]52;c;ZXZpbA==\x07evil.example\u202e, \u009b2Jnot %s", "ghe.example.com")
	got := Explain(err)
	want := "first line\nx509: certificate is valid for evil.example, not ghe.example.com"
	if got != want {
		t.Errorf("Explain = %q, want %q", got, want)
	}
}

// An active account that names no account cannot be fixed with a command
// (the file cannot be read): the step says what to edit.
func TestActiveParseErrorStep(t *testing.T) {
	err := &config.ParseError{Path: "/c/config.toml", Reason: `[hosts."github.com"] active = "ghost" names no account of this host`, Host: "github.com", Key: config.KeyActive}
	got := Explain(err)
	if !strings.HasSuffix(got, "; in that file, set active to one of the host's accounts, or delete the line") || strings.Contains(got, "config set") {
		t.Errorf("%q", got)
	}
}

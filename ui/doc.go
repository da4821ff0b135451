// Package ui shows a login's progress to people and scripts: a terminal UI
// (bubbletea and lipgloss) on a terminal, plain lines on stderr otherwise, or
// JSON events on stdout with --json.
//
// # Event model
//
// The login flows (deviceflow, webflow) never import ui. A Task runs a flow
// and emits what happens through an emit func(any): the flows' own
// deviceflow.Event and webflow.Event values (or pointers to them), and ui's
// Status and Warning lines. Run converts each emitted value, once and in the
// same way for every Mode, into one of ui's typed Events:
//
//	deviceflow KindCode      → Code (user code and URIs; never the device code)
//	deviceflow KindPending   → Pending
//	deviceflow KindSlowDown  → SlowDown
//	deviceflow KindRetry     → Retry
//	webflow KindAuthorize    → Authorize
//	webflow KindBrowser      → Browser
//	webflow KindCallback     → Callback
//	webflow KindPasteAccepted → PasteAccepted
//	webflow KindPasteRejected → PasteRejected (with the *webflow.PasteError)
//	either flow KindSuccess  → Approved
//	either flow KindError    → Stopped
//	Status, Warning          → themselves
//
// Anything else (another type, an unknown kind, a nil pointer, a token) is
// ignored, so nothing ui renders can hold a token or a device code. The set
// of Events is closed, and one dispatch hands each to the renderer of the
// chosen Mode — the TUI model, the plain writer or the JSON writer — which
// has one method per Event type: adding a type is a compile error in every
// renderer until each handles it. The outcome (success or error) is not an
// event: Run reports what the Task returns, once, in every mode.
//
// Text a server chose (codes, URLs, error descriptions) goes through
// internal/safe before it reaches a terminal, and a URL is opened or made a
// hyperlink only when safe.CheckURL accepts it. Countdowns read the injected
// clock (Options.Clock).
//
// # Layout
//
// The TUI lays its screen out for the window and again on every resize
// (which clears the screen, since the terminal has folded or cut the lines
// drawn for the old size). No line is wider than the window: text wraps at
// word boundaries, URLs are cut into pieces, the boxed code falls back to a
// one-line code and the key help to its short form, which always keeps r
// and q. No screen is taller than the window: blank lines, then hints, then
// the header, then the end of a long URL (cut with "…"), then titles give
// way; the code, a URL's first line, the status and the key help never do.
// A QR code that does not fit is replaced by a one-line note naming the
// window size it needs, or to use the URL. Options.Intro (such as the
// demo's explanation) is part of the screen, so it survives a resize, and
// gives way first. Text printed outside the TUI goes through Wrap
// (PrintWrapped, Confirm), which breaks lines at spaces only.
//
// # Copying the code
//
// The c key (and Options.CopyCode, for login --clipboard, when the code
// arrives, and again for each new code under --wait) sends OSC 52 to the
// terminal — plain, and also wrapped for tmux or screen inside them, since
// tmux drops the wrapped one unless allow-passthrough is on — and puts the
// code on this machine's clipboard when it has one. The message says what
// was done: "Copied" only when this machine's clipboard took the code;
// "Sent to your terminal's clipboard" when only OSC 52 went out, which no
// terminal confirms. On the web screens c copies the authorization URL
// the same way (Ctrl-Y on the paste screen, where every letter types into
// its field), for a browser on another device; and a URL too long for one
// line is printed as a block from the window's first column, so that a
// mouse selection of it holds line breaks but no spaces.
//
// # JSON events
//
// In JSON mode stdout carries one JSON object a line and nothing else:
//
//	{"event":"code","user_code":"…","verification_uri":"…","verification_uri_complete":"…"|null,"expires_at":"RFC 3339","interval":N}
//	{"event":"pending"}
//	{"event":"slow_down","interval":N}
//	{"event":"retry","error":"…","retry_in":N}
//	{"event":"authorize","url":"https://…/login/oauth/authorize?…"}
//	{"event":"success","host":"…","login":"…","store":"keyring"|"kernel"|"file"}
//	{"event":"error","code":"…","message":"…"}
//
// Intervals are whole seconds. authorize is the web flow's: open url in a
// browser on this machine. An error's code is the one an error in its
// chain carries (an ErrorCode method: the command line gives every error
// one, docs/json-events.md), else the OAuth error code (RFC 6749 §5.2, RFC
// 8628 §3.5), or timeout, network, cancelled or error. Status and Warning,
// a browser that could not be opened, what copying the code did
// (Options.CopyCode), the QR code (Options.QR), and the paste-back question
// and why a paste was rejected (Options.Paste; the pasted line itself comes
// on stdin) go to stderr as plain lines.
package ui

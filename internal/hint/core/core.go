// Package core is the light part of package hint: the walk that puts each
// typed error's next step right after that error's own text, and the next
// steps for a forwarded agent's errors (package agent). Package hint adds
// the steps for every other error ghlogin meets and is the one its
// commands use; the lean git-credential-ghlogin, which must not link the
// OAuth client, the flows or the UI that hint's other steps name, explains
// an agent's failure here in the very same words.
package core

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/safe"
)

// SentenceFunc returns err's own text with its next step, and whether it
// has one. It looks at err itself, not its chain.
type SentenceFunc func(err error) (string, bool)

// Explain returns the message for err with sentence's next steps (see
// Walk). It returns "" for nil. Each of the message's lines has passed
// through safe.Text, so no server text that reached an error can carry an
// escape sequence to a terminal.
func Explain(err error, sentence SentenceFunc) string {
	if err == nil {
		return ""
	}
	lines := strings.Split(Walk(err.Error(), err, sentence), "\n")
	for i, l := range lines {
		lines[i] = safe.Text(l)
	}
	return strings.Join(lines, "\n")
}

// Walk walks err's tree. A node with a next step (sentence) has its own
// text in msg replaced by the text followed by the step, and its subtree
// is left alone (its message already covers it); other nodes pass the walk
// on. An error already explained (WithMessage) is left as it is.
func Walk(msg string, err error, sentence SentenceFunc) string {
	if _, ok := err.(*explained); ok {
		return msg
	}
	if full, ok := sentence(err); ok {
		own := err.Error()
		if i := strings.Index(msg, own); i >= 0 {
			return msg[:i] + full + msg[i+len(own):]
		}
		// A wrapper that did not quote the error chose its own words.
		return msg
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if next := u.Unwrap(); next != nil {
			return Walk(msg, next, sentence)
		}
	case interface{ Unwrap() []error }:
		for _, next := range u.Unwrap() {
			if next != nil {
				msg = Walk(msg, next, sentence)
			}
		}
	}
	return msg
}

// WithMessage returns err with Error() replaced by msg, a message already
// explained: Walk leaves it as it is, however it is wrapped. errors.Is and
// errors.As see err. WithMessage(nil, msg) is nil.
func WithMessage(err error, msg string) error {
	if err == nil {
		return nil
	}
	return &explained{err: err, msg: msg}
}

// IsExplained reports whether err itself (not its chain) is already
// explained (WithMessage).
func IsExplained(err error) bool {
	_, ok := err.(*explained)
	return ok
}

// explained is an error whose message is already explained.
type explained struct {
	err error
	msg string
}

// Error returns the explained message.
func (e *explained) Error() string { return e.msg }

// Unwrap returns the original error.
func (e *explained) Unwrap() error { return e.err }

// Context is what a next step may name for the command at hand: its flags
// and the --host value of a host. The zero Context is no command at hand:
// steps then name whole command lines ("ghlogin login --store kernel"),
// environment variables and settings, never a bare flag, and hosts by
// their names.
type Context struct {
	// Flags reports whether the command at hand has the long flag called
	// name (without dashes); nil means no command is at hand.
	Flags func(name string) bool
	// Host is the --host value the command at hand was given ("" when it
	// was given none): a command line a step suggests for the same host
	// carries it.
	Host string
	// HostArg returns the --host value that names the host called name
	// (hosts.Arg: its URL for a plain-http loopback host, whose bare name
	// would mean https); nil means the name itself.
	HostArg func(name string) string
}

// Has reports whether the command at hand has the flag --name.
func (c Context) Has(name string) bool { return c.Flags != nil && c.Flags(name) }

// HostValue is the --host value naming the host called name.
func (c Context) HostValue(name string) string {
	if c.HostArg != nil {
		if v := c.HostArg(name); v != "" {
			return v
		}
	}
	return name
}

// Login is the login command line for the host called name ("" for the
// host of the command at hand), with args after it: "ghlogin login --host
// http://127.0.0.1:8787 --store kernel".
func (c Context) Login(name string, args ...string) string {
	cmd := "ghlogin login"
	switch {
	case name != "":
		cmd += " --host " + c.HostValue(name)
	case c.Host != "":
		cmd += " --host " + c.Host
	}
	for _, a := range args {
		cmd += " " + a
	}
	return cmd
}

// Agent is the SentenceFunc for a forwarded agent's errors with the zero
// Context (see Context.Agent).
func Agent(err error) (string, bool) { return Context{}.Agent(err) }

// Agent is the SentenceFunc for a forwarded agent's errors (package agent):
// what to do when the agent is gone, stalled, refused the request or its
// socket's directory is not safe.
func (c Context) Agent(err error) (string, bool) {
	step := ""
	switch e := err.(type) {
	case *agent.GoneError:
		step = "; reconnect or log in here"
	case *agent.NoAgentError:
		if e.Err == nil || errors.Is(e.Err, fs.ErrNotExist) || errors.Is(e.Err, syscall.ENOTDIR) {
			// The socket was removed: the session that lent the login
			// ended (the remote command removes it), and this shell
			// still names it.
			return "the forwarded agent is gone; reconnect or log in here (" + e.Error() +
				"; after logging in here, unset " + agent.EnvSock + ")", true
		}
		step = "; reconnect with ghlogin ssh, or log in here and unset " + agent.EnvSock
	case *agent.TimeoutError:
		step = "; the connection to the machine that lends the login may have stalled: reconnect, or log in here"
	case *agent.RefusedError:
		step = c.agentRefusal(e)
	case *agent.ProtocolError:
		step = "; use the same ghlogin version on both machines"
	case *agent.DirError:
		switch e.Problem {
		case agent.DirOpen:
			step = "; fix it with: chmod 700 " + e.Path
		case agent.DirNotOwned, agent.DirSymlink, agent.DirNotDir:
			step = "; remove it, or set XDG_RUNTIME_DIR to a directory of your own"
		case agent.DirCreate:
			step = "; set XDG_RUNTIME_DIR to a directory of your own"
		}
	case *agent.SocketPathError:
		step = "; set XDG_RUNTIME_DIR to a directory with a shorter path"
	}
	if step == "" {
		return "", false
	}
	return err.Error() + step, true
}

// agentRefusal is the next step after an agent's refusal.
func (c Context) agentRefusal(e *agent.RefusedError) string {
	where := "on the agent's machine"
	if e.Agent != "" {
		where = "on " + e.Agent
	}
	switch e.Code {
	case agent.CodeNotAllowed:
		if e.Host != "" {
			return "; reconnect with ghlogin ssh --allow " + e.Host + " …"
		}
	case agent.CodeNotLoggedIn:
		if e.Host != "" {
			return "; log in " + where + " with " + c.Login(e.Host) + ", or log in here"
		}
	case agent.CodeNeedsLogin:
		if e.Host != "" {
			return "; log in again " + where + ": " + c.Login(e.Host)
		}
	case agent.CodeInternal:
		return "; try again, and if it keeps failing look at the ghlogin ssh session " + where
	case agent.CodeBadRequest:
		return "; use the same ghlogin version on both machines"
	}
	return ""
}

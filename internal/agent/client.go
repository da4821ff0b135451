package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/safe"
)

// DefaultTimeout bounds one Client call (connect, request, answer). It is
// longer than DefaultSourceTimeout, so an agent that has to refresh a token
// answers in time, and short enough that git never seems to hang.
const DefaultTimeout = 5 * time.Second

// maxAgentName bounds the agent's name in messages.
const maxAgentName = 64

// Client asks an agent. The zero Timeout means DefaultTimeout. A Client
// opens one connection per call and is safe for concurrent use.
type Client struct {
	// Path is the agent's socket.
	Path string
	// Fallback, when set, is tried when nothing listens at Path (no socket,
	// or connection refused): the well-known path a newer session links,
	// for a shell that kept an old session's GHLOGIN_AGENT_SOCK.
	Fallback string
	// Timeout bounds each call.
	Timeout time.Duration
}

// Listing is the answer to List.
type Listing struct {
	// Agent names the machine the agent runs on.
	Agent string
	// Hosts are the hosts it serves, with their accounts.
	Hosts []HostAccounts
}

// NoAgentError means there is no agent socket at Path (or it cannot be
// reached at all, Err says why).
type NoAgentError struct {
	Path string
	Err  error
}

// Error names the path.
func (e *NoAgentError) Error() string {
	if e.Err != nil && !errors.Is(e.Err, fs.ErrNotExist) {
		return fmt.Sprintf("cannot reach the ghlogin agent at %s: %v", e.Path, errText(e.Err))
	}
	return "no ghlogin agent at " + e.Path
}

// Unwrap returns the system's error.
func (e *NoAgentError) Unwrap() error { return e.Err }

// GoneError means the agent's socket is there but nobody answers on it any
// more: the ssh session that forwarded it ended, or the agent stopped.
type GoneError struct {
	Path string
	Err  error
}

// Error says the agent is gone.
func (e *GoneError) Error() string { return "the forwarded agent is gone" }

// Unwrap returns the system's error.
func (e *GoneError) Unwrap() error { return e.Err }

// TimeoutError means the agent did not answer within the Client's Timeout.
type TimeoutError struct {
	Path  string
	After time.Duration
}

// Error says how long the client waited.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("the ghlogin agent at %s did not answer within %s", e.Path, e.After)
}

// Timeout reports true (net.Error's convention).
func (e *TimeoutError) Timeout() bool { return true }

// RefusedError is the agent's refusal.
type RefusedError struct {
	// Agent names the machine the agent runs on ("" when it did not say);
	// it is printable (safe.Short).
	Agent string
	Code  Code
	// Host is the host the request named.
	Host string
	// Reason is the agent's sentence, printable (safe.Short).
	Reason string
}

// Error says who refused what.
func (e *RefusedError) Error() string {
	who := "the agent"
	if e.Agent != "" {
		who = "the agent on " + e.Agent
	}
	switch {
	case e.Code == CodeNotAllowed && e.Host != "":
		return who + " does not serve " + e.Host
	case (e.Code == CodeNotLoggedIn || e.Code == CodeNeedsLogin) && e.Host != "":
		return who + " cannot lend a token for " + e.Host + ": " + e.Reason
	case e.Code == CodeInternal && e.Host != "":
		return who + " could not get a token for " + e.Host + ": " + e.Reason
	}
	return who + " refused the request: " + e.Reason
}

// ProtocolError is an answer that does not follow the protocol.
type ProtocolError struct {
	Path   string
	Reason string
}

// Error says what was wrong with the answer.
func (e *ProtocolError) Error() string {
	return fmt.Sprintf("the ghlogin agent at %s gave an answer this ghlogin does not understand: %s", e.Path, e.Reason)
}

// Token asks the agent for q's token. Errors: *NoAgentError, *GoneError,
// *TimeoutError, *RefusedError, *ProtocolError, or ctx's error when ctx
// ended first.
func (c *Client) Token(ctx context.Context, q Query) (*Grant, error) {
	req := Request{V: Version, Op: OpToken, Host: q.Host, Owner: q.Owner, User: q.User, Purpose: q.Purpose}
	resp, path, err := c.do(ctx, &req)
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, refused(resp)
	}
	want := hosts.Normalize(q.Host, "https")
	switch {
	case resp.Token == "":
		return nil, &ProtocolError{Path: path, Reason: "no token and no refusal"}
	case want == "" || hosts.Normalize(resp.Host, "https") != want:
		return nil, &ProtocolError{Path: path, Reason: fmt.Sprintf("a token for %q when asked for %q", safe.Short(resp.Host, 80), safe.Short(q.Host, 80))}
	}
	return &Grant{Host: want, Login: safe.Short(resp.Login, maxName), Token: resp.Token, ExpiresAt: resp.ExpiresAt, Agent: agentName(resp.Agent)}, nil
}

// List asks the agent which hosts it serves and their accounts. Errors as
// for Token.
func (c *Client) List(ctx context.Context) (*Listing, error) {
	resp, path, err := c.do(ctx, &Request{V: Version, Op: OpList, Purpose: PurposeStatus})
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, refused(resp)
	}
	if resp.Token != "" {
		return nil, &ProtocolError{Path: path, Reason: "a token in answer to a list request"}
	}
	out := &Listing{Agent: agentName(resp.Agent), Hosts: []HostAccounts{}}
	for _, h := range resp.Hosts {
		ha := HostAccounts{Host: safe.Short(h.Host, 260), Problem: safe.Short(h.Problem, 200), Accounts: []Account{}}
		for _, a := range h.Accounts {
			ha.Accounts = append(ha.Accounts, Account{Login: safe.Short(a.Login, maxName), Active: a.Active, ExpiresAt: a.ExpiresAt})
		}
		out.Hosts = append(out.Hosts, ha)
	}
	return out, nil
}

func agentName(s string) string { return safe.Short(s, maxAgentName) }

// refused turns a refusal response into a *RefusedError.
func refused(resp *Response) *RefusedError {
	e := &RefusedError{Agent: agentName(resp.Agent), Code: Code(safe.Short(string(resp.Error.Code), 40)), Reason: safe.Short(resp.Error.Reason, 300)}
	e.Host = hosts.Normalize(resp.Error.Host, "https")
	return e
}

// do makes one round trip within the timeout: it returns the response and
// the path that answered.
func (c *Client) do(ctx context.Context, req *Request) (*Response, string, error) {
	limit := c.Timeout
	if limit <= 0 {
		limit = DefaultTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	conn, path, err := c.dial(cctx)
	if err != nil {
		return nil, path, c.failed(ctx, cctx, path, limit, err)
	}
	defer conn.Close()
	if dl, ok := cctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	// A cancelled ctx interrupts the read at once.
	stop := context.AfterFunc(cctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	line, err := encodeLine(req)
	if err != nil {
		return nil, path, err
	}
	// After a failed write the agent may still have answered (a refusal
	// sent before it closed): read it before blaming the connection.
	_, werr := conn.Write(line)
	r := bufio.NewReaderSize(conn, 4096)
	b, err := readLine(r, MaxResponse)
	if errors.Is(err, errTooLong) {
		return nil, path, &ProtocolError{Path: path, Reason: fmt.Sprintf("an answer longer than %d bytes", MaxResponse)}
	}
	if err != nil {
		if werr != nil {
			err = werr
		}
		return nil, path, c.failed(ctx, cctx, path, limit, err)
	}
	var resp Response
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, path, &ProtocolError{Path: path, Reason: "not JSON (" + jsonReason(err) + ")"}
	}
	if resp.V != Version {
		return nil, path, &ProtocolError{Path: path, Reason: fmt.Sprintf("protocol version %d (this ghlogin speaks %d)", resp.V, Version)}
	}
	return &resp, path, nil
}

// dial connects to Path, or to Fallback when nothing listens at Path.
func (c *Client) dial(ctx context.Context) (net.Conn, string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.Path)
	if err == nil || c.Fallback == "" || c.Fallback == c.Path || ctx.Err() != nil || !nobodyListens(err) {
		return conn, c.Path, err
	}
	if fconn, ferr := d.DialContext(ctx, "unix", c.Fallback); ferr == nil {
		return fconn, c.Fallback, nil
	}
	return nil, c.Path, err
}

// nobodyListens: the socket is missing or refuses connections.
func nobodyListens(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ECONNREFUSED)
}

// failed classifies a dial, write or read error.
func (c *Client) failed(parent, cctx context.Context, path string, limit time.Duration, err error) error {
	if perr := parent.Err(); perr != nil {
		return perr
	}
	var ne net.Error
	if cctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &TimeoutError{Path: path, After: limit}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return &NoAgentError{Path: path, Err: err}
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return &GoneError{Path: path, Err: err}
	}
	return &NoAgentError{Path: path, Err: err}
}

// errText is err's text, printable.
func errText(err error) string { return safe.Short(err.Error(), 200) }

// FromEnv returns the Client this process should use, and whether there is
// one: GHLOGIN_AGENT_SOCK's socket when the variable is set (with the
// well-known path as Fallback when that passes its checks), else the
// well-known path (WellKnownPath) when its directory is the user's own with
// mode 0700 and a socket is there. GHLOGIN_AGENT_SOCK=none means no agent.
// A set variable is taken even when its socket is gone, so that the
// commands say the agent is gone instead of quietly using another login.
func FromEnv(getenv func(string) string) (*Client, bool) {
	return fromEnv(getenv, os.Getuid())
}

func fromEnv(getenv func(string) string, uid int) (*Client, bool) {
	env := getenv(EnvSock)
	if env == "none" {
		return nil, false
	}
	wk := WellKnownPath(getenv, uid)
	if !usableWellKnown(wk) {
		wk = ""
	}
	if env != "" {
		if wk == env {
			wk = ""
		}
		return &Client{Path: env, Fallback: wk}, true
	}
	if wk != "" {
		return &Client{Path: wk}, true
	}
	return nil, false
}

// usableWellKnown: path's directory passes CheckDir and path leads to a
// socket (the link a session made, or a socket itself).
func usableWellKnown(path string) bool {
	if CheckDir(filepath.Dir(path)) != nil {
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&os.ModeSocket != 0
}

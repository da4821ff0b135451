package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/store"
)

// Defaults of a Server.
const (
	// DefaultIdleTimeout is how long a connection may stay silent before
	// the agent closes it.
	DefaultIdleTimeout = 10 * time.Second
	// DefaultSourceTimeout bounds one Source call (a refresh included), so
	// the agent answers before a Client with DefaultTimeout gives up.
	DefaultSourceTimeout = 4 * time.Second
	// DefaultMaxConns is how many connections the agent serves at once;
	// more wait in the listen queue.
	DefaultMaxConns = 64
)

// Query is a token request as the Source sees it.
type Query struct {
	// Host is normalized (hosts.Normalize) and one the agent serves.
	Host string
	// Owner is the repository owner, when the remote knew it.
	Owner string
	// User names the account; "" lets the Source choose (owner binding,
	// then the host's active account).
	User    string
	Purpose Purpose
}

// Grant is a token handed out: by a Source to the Server, and by the Server
// to a Client. Its String never shows the token.
type Grant struct {
	Host  string
	Login string
	Token string
	// ExpiresAt is the token's expiry; zero when it does not expire.
	ExpiresAt time.Time
	// Agent names the machine that lent the token (set by Client).
	Agent string
}

// String describes g without its token.
func (g Grant) String() string { return "agent.Grant{" + g.Login + "@" + g.Host + "}" }

// GoString hides the token from %#v too.
func (g Grant) GoString() string { return g.String() }

// Source finds tokens for the Server. The ghlogin command backs it with its
// local token store (never with an agent, or the agent would ask itself).
type Source interface {
	// Token returns the token for q, refreshed first when it is due.
	// Refreshes of one account must be serialized (the store's
	// per-account lock does that), so that many requests at once make one
	// refresh. Errors the Server understands: *store.NotLoggedInError
	// (not_logged_in); *store.CorruptSecretError and
	// *store.UnknownBackendError (needs_login); *RefusedError, with its
	// code: NeedsLogin makes the one for a token that expired and could
	// not be refreshed (turn a *refresh.NeedsLoginError into it), and a
	// Source that asks another agent passes that agent's refusals on.
	// Anything else is internal, and its text stays on this machine.
	Token(ctx context.Context, q Query) (*Grant, error)
	// Accounts lists host's accounts, without tokens. A
	// *store.NotLoggedInError means none.
	Accounts(ctx context.Context, host string) ([]Account, error)
}

// EventKind says what happened on a connection.
type EventKind string

// The events.
const (
	// EventServed: a token or list request was answered.
	EventServed EventKind = "served"
	// EventRefused: a request was refused (Event.Code says why).
	EventRefused EventKind = "refused"
	// EventPeerRefused: a process of another user connected (Event.UID).
	EventPeerRefused EventKind = "peer_refused"
	// EventError: something failed on the agent's side (Event.Err); the
	// peer got an internal refusal, or nothing when the connection failed.
	EventError EventKind = "error"
)

// Event is one thing the agent did, for its log. It never holds a token.
type Event struct {
	Time    time.Time
	Kind    EventKind
	Op      Op
	Purpose Purpose
	Host    string
	Owner   string
	User    string
	// Login is the account whose token was served.
	Login string
	// Code and Reason describe a refusal.
	Code   Code
	Reason string
	// UID is the peer's user ID, -1 when unknown.
	UID int
	// Err is the local cause of an EventError (never sent to the peer).
	Err error
}

// Count is how often the remote asked for one host's token for one purpose.
type Count struct {
	Host    string
	Purpose Purpose
	Served  int
	Refused int
}

// Server is the agent. Set the fields, then call Serve once. It is safe for
// many connections at once.
type Server struct {
	// Name is this machine's name as the remote's messages show it
	// ("laptop"); it is sent in every response.
	Name string
	// Allowed are the hosts the agent serves (as --allow names them);
	// requests for any other host are refused with not_allowed.
	Allowed []string
	// Source finds the tokens.
	Source Source
	// Clock stamps events; nil means clock.Real. Socket deadlines use the
	// system clock, as the kernel does.
	Clock clock.Clock
	// Log, when set, receives every event. It is called from many
	// goroutines at once.
	Log func(Event)
	// IdleTimeout, SourceTimeout and MaxConns: zero means the defaults.
	IdleTimeout   time.Duration
	SourceTimeout time.Duration
	MaxConns      int

	mu      sync.Mutex
	counts  map[countKey]*Count
	allowed map[string]bool
	order   []string
}

type countKey struct {
	host    string
	purpose Purpose
}

// ConfigError is a Server that cannot serve as configured.
type ConfigError struct {
	Reason string
}

// Error says what is wrong.
func (e *ConfigError) Error() string { return "the agent cannot start: " + e.Reason }

// Serve answers connections on ln until ctx ends (then it closes ln and
// every open connection, waits for their handlers and returns nil) or ln
// fails (then it returns that error). It returns an *UnsupportedError at
// once on a system where it cannot check who connects.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if !peerCheckSupported {
		return &UnsupportedError{Feature: "checking which user connects to a Unix-domain socket"}
	}
	if s.Source == nil {
		return &ConfigError{Reason: "no token source"}
	}
	if err := s.init(); err != nil {
		return err
	}
	maxConns := s.MaxConns
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, maxConns)
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		conn, err := ln.Accept()
		if err != nil {
			<-slots
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Out of file descriptors and the like: wait a little and retry.
			s.log(Event{Kind: EventError, UID: -1, Err: err})
			if s.clock().Sleep(ctx, 50*time.Millisecond) != nil {
				return nil
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			s.handle(ctx, conn)
		}()
	}
}

// init checks and indexes the allowed hosts.
func (s *Server) init() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allowed = map[string]bool{}
	s.order = nil
	for _, h := range s.Allowed {
		name := hosts.Normalize(h, "https")
		if name == "" {
			return &ConfigError{Reason: fmt.Sprintf("%q is not a host name", safe.Short(h, 80))}
		}
		if !s.allowed[name] {
			s.allowed[name] = true
			s.order = append(s.order, name)
		}
	}
	if s.counts == nil {
		s.counts = map[countKey]*Count{}
	}
	return nil
}

// Counts returns how often each host's token was asked for, per purpose,
// sorted by host, then git, token, exec, status (list requests count under PurposeStatus with
// no host; requests too malformed to name a host, under no host or purpose).
func (s *Server) Counts() []Count {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Count, 0, len(s.counts))
	for _, c := range s.counts {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		return purposeRank(out[i].Purpose) < purposeRank(out[j].Purpose)
	})
	return out
}

// purposeRank orders purposes as people meet them: git, token, exec, status.
func purposeRank(p Purpose) int {
	switch p {
	case PurposeGit:
		return 0
	case PurposeToken:
		return 1
	case PurposeExec:
		return 2
	case PurposeStatus:
		return 3
	}
	return 4
}

func (s *Server) count(host string, p Purpose, served bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := countKey{host, p}
	c := s.counts[k]
	if c == nil {
		c = &Count{Host: host, Purpose: p}
		s.counts[k] = c
	}
	if served {
		c.Served++
	} else {
		c.Refused++
	}
}

func (s *Server) clock() clock.Clock { return clock.Or(s.Clock) }

func (s *Server) log(e Event) {
	if s.Log == nil {
		return
	}
	e.Time = s.clock().Now()
	s.Log(e)
}

func (s *Server) idle() time.Duration {
	if s.IdleTimeout > 0 {
		return s.IdleTimeout
	}
	return DefaultIdleTimeout
}

// handle serves one connection: the peer check, then request lines until
// the peer closes, goes quiet for IdleTimeout, or sends a line too long.
func (s *Server) handle(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	r := bufio.NewReaderSize(conn, 4096)
	uid, err := peerUID(conn)
	if err != nil {
		s.log(Event{Kind: EventError, UID: -1, Err: fmt.Errorf("cannot tell which user connected: %w", err)})
		s.refuseFirst(conn, r, "the agent cannot tell which user is asking")
		return
	}
	if uid != os.Getuid() {
		s.log(Event{Kind: EventPeerRefused, UID: uid, Code: CodeNotAllowed})
		s.refuseFirst(conn, r, "this agent answers only its own user")
		return
	}
	for {
		conn.SetReadDeadline(time.Now().Add(s.idle()))
		line, err := readLine(r, MaxLine)
		if errors.Is(err, errTooLong) {
			s.count("", "", false)
			s.log(Event{Kind: EventRefused, UID: uid, Code: CodeBadRequest, Reason: errTooLong.Reason})
			s.write(conn, s.refusal(CodeBadRequest, "", errTooLong.Reason))
			return
		}
		if err != nil {
			return
		}
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		if !s.write(conn, s.answer(ctx, line, uid)) {
			return
		}
	}
}

// refuseFirst answers the first request line with a not_allowed refusal,
// unread: a peer that writes its request after the agent closed would see
// a broken pipe instead of the reason.
func (s *Server) refuseFirst(conn net.Conn, r *bufio.Reader, reason string) {
	conn.SetReadDeadline(time.Now().Add(s.idle()))
	readLine(r, MaxLine)
	s.write(conn, s.refusal(CodeNotAllowed, "", reason))
}

// readLine reads up to and without the next newline; a last line without
// one counts at EOF. A line over max bytes gives errTooLong.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(bytesTrimNewline(line)) > max {
			return nil, errTooLong
		}
		switch {
		case err == nil:
			return bytesTrimNewline(line), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return line, nil
		default:
			return nil, err
		}
	}
}

func bytesTrimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// write sends one response line; false when the connection failed.
func (s *Server) write(conn net.Conn, resp *Response) bool {
	b, err := encodeLine(resp)
	if err != nil {
		s.log(Event{Kind: EventError, UID: -1, Err: err})
		return false
	}
	conn.SetWriteDeadline(time.Now().Add(s.idle()))
	_, err = conn.Write(b)
	return err == nil
}

func (s *Server) refusal(code Code, host, reason string) *Response {
	return &Response{V: Version, Agent: s.Name, Error: &Refusal{Code: code, Host: host, Reason: reason}}
}

// answer turns one request line into its response.
func (s *Server) answer(ctx context.Context, line []byte, uid int) *Response {
	req, err := ParseRequest(line)
	if err != nil {
		var re *RequestError
		errors.As(err, &re)
		s.count("", "", false)
		s.log(Event{Kind: EventRefused, UID: uid, Code: CodeBadRequest, Reason: re.Reason})
		return s.refusal(CodeBadRequest, "", re.Reason)
	}
	ev := Event{Op: req.Op, Purpose: req.Purpose, Host: req.Host, Owner: req.Owner, User: req.User, UID: uid}
	if req.Op == OpList {
		return s.list(ctx, ev)
	}
	if !s.serves(req.Host) {
		reason := "this agent serves " + s.servedList()
		s.count(req.Host, req.Purpose, false)
		ev.Kind, ev.Code, ev.Reason = EventRefused, CodeNotAllowed, reason
		s.log(ev)
		return s.refusal(CodeNotAllowed, req.Host, reason)
	}
	g, err := s.token(ctx, Query{Host: req.Host, Owner: req.Owner, User: req.User, Purpose: req.Purpose})
	if err != nil {
		code, reason := s.classify(req, err)
		s.count(req.Host, req.Purpose, false)
		ev.Kind, ev.Code, ev.Reason = EventRefused, code, reason
		if code == CodeInternal {
			ev.Kind, ev.Err = EventError, err
		}
		s.log(ev)
		return s.refusal(code, req.Host, reason)
	}
	s.count(req.Host, req.Purpose, true)
	ev.Kind, ev.Login = EventServed, g.Login
	s.log(ev)
	return &Response{V: Version, Agent: s.Name, Host: g.Host, Login: g.Login, Token: g.Token, ExpiresAt: g.ExpiresAt}
}

// token asks the Source within SourceTimeout and checks what it gave.
func (s *Server) token(ctx context.Context, q Query) (*Grant, error) {
	limit := s.SourceTimeout
	if limit <= 0 {
		limit = DefaultSourceTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	g, err := s.Source.Token(ctx, q)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, &sourceTimeoutError{after: limit, err: err}
		}
		return nil, err
	}
	switch {
	case g == nil || g.Token == "":
		return nil, errors.New("the token source returned no token")
	case hosts.Normalize(g.Host, "https") != q.Host:
		return nil, fmt.Errorf("the token source returned a token for %q when asked for %q", g.Host, q.Host)
	}
	out := *g
	out.Host = q.Host
	return &out, nil
}

// sourceTimeoutError is a Source call that ran out of time.
type sourceTimeoutError struct {
	after time.Duration
	err   error
}

func (e *sourceTimeoutError) Error() string {
	return fmt.Sprintf("getting the token took longer than %s: %v", e.after, e.err)
}

func (e *sourceTimeoutError) Unwrap() error { return e.err }

// classify maps a Source error to a refusal. The reason is built from the
// error's data, never its text, so nothing local leaks to the remote
// beyond what the code needs.
func (s *Server) classify(req *Request, err error) (Code, string) {
	var (
		nl *store.NotLoggedInError
		cs *store.CorruptSecretError
		ub *store.UnknownBackendError
		rf *RefusedError
		st *sourceTimeoutError
	)
	switch {
	case errors.As(err, &rf):
		return rf.Code, rf.Reason
	case errors.As(err, &cs), errors.As(err, &ub):
		return CodeNeedsLogin, "the stored token for " + req.Host + " cannot be used"
	case errors.As(err, &nl):
		switch {
		case nl.Login != "" && nl.Store == "" && nl.Invalid == "":
			return CodeNotLoggedIn, fmt.Sprintf("no account %q for %s", nl.Login, req.Host)
		case nl.Login != "":
			return CodeNotLoggedIn, fmt.Sprintf("the token for %s@%s is no longer stored", nl.Login, req.Host)
		}
		return CodeNotLoggedIn, "not logged in to " + req.Host
	case errors.As(err, &st):
		return CodeInternal, fmt.Sprintf("getting the token took longer than %s", st.after)
	}
	return CodeInternal, "the token store or the token refresh failed"
}

// NeedsLogin is the error a Source returns when login's token for host
// expired and could not be refreshed (for ghlogin's store: a
// *refresh.NeedsLoginError, whose Reason goes here). The remote is told to
// log in again on the agent's machine.
func NeedsLogin(host, login, reason string) error {
	r := fmt.Sprintf("the token for %s@%s expired and could not be refreshed", login, host)
	if reason != "" {
		r += " (" + safe.Short(reason, 120) + ")"
	}
	return &RefusedError{Code: CodeNeedsLogin, Host: host, Reason: r}
}

func (s *Server) serves(host string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.allowed[host]
}

// servedList names the served hosts for a refusal ("github.com only",
// "github.com and ghe.example.com only", "no host").
func (s *Server) servedList() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch len(s.order) {
	case 0:
		return "no host"
	case 1:
		return s.order[0] + " only"
	}
	return strings.Join(s.order[:len(s.order)-1], ", ") + " and " + s.order[len(s.order)-1] + " only"
}

// list answers a list request.
func (s *Server) list(ctx context.Context, ev Event) *Response {
	s.mu.Lock()
	served := append([]string(nil), s.order...)
	s.mu.Unlock()
	limit := s.SourceTimeout
	if limit <= 0 {
		limit = DefaultSourceTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	resp := &Response{V: Version, Agent: s.Name, Hosts: []HostAccounts{}}
	for _, h := range served {
		ha := HostAccounts{Host: h, Accounts: []Account{}}
		accts, err := s.Source.Accounts(ctx, h)
		var nl *store.NotLoggedInError
		switch {
		case errors.As(err, &nl):
		case err != nil:
			ha.Problem = "the agent could not read the accounts"
			s.log(Event{Kind: EventError, Op: OpList, Host: h, UID: ev.UID, Err: err})
		default:
			ha.Accounts = append(ha.Accounts, accts...)
		}
		resp.Hosts = append(resp.Hosts, ha)
	}
	s.count("", PurposeStatus, true)
	ev.Kind, ev.Purpose = EventServed, PurposeStatus
	s.log(ev)
	return resp
}

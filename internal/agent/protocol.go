package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/safe"
)

// Version is the protocol version this package speaks; every request and
// response carries it as "v".
const Version = 1

// MaxLine is the longest request line the agent reads, in bytes, without
// its newline. A longer line is refused (bad_request) and the connection
// closed, since the rest of it cannot be told from the next request.
const MaxLine = 8 << 10

// MaxResponse is the longest response line a Client reads, in bytes.
const MaxResponse = 256 << 10

// maxName bounds an owner or user name in a request.
const maxName = 256

// Op is what a request asks for.
type Op string

// The operations.
const (
	// OpToken asks for the token of an account on a host.
	OpToken Op = "token"
	// OpList asks for the hosts the agent serves and their accounts,
	// without tokens (for status on the remote).
	OpList Op = "list"
)

// Purpose says what the token is for. The agent counts uses per host and
// purpose for the account it gives when the session ends.
type Purpose string

// The purposes of a token request, and PurposeStatus for list requests.
const (
	PurposeGit    Purpose = "git"    // git-credential get
	PurposeToken  Purpose = "token"  // ghlogin token
	PurposeExec   Purpose = "exec"   // ghlogin exec
	PurposeStatus Purpose = "status" // ghlogin status (list requests)
)

// Code is the machine-readable reason for a refusal.
type Code string

// The refusal codes.
const (
	// CodeNotAllowed: the agent does not serve that host (Refusal.Host
	// names it), or the asking process is not the agent's user.
	CodeNotAllowed Code = "not_allowed"
	// CodeNotLoggedIn: the agent's machine has no (such) account for the host.
	CodeNotLoggedIn Code = "not_logged_in"
	// CodeNeedsLogin: the account's token expired and could not be
	// refreshed; only a new login on the agent's machine helps.
	CodeNeedsLogin Code = "needs_login"
	// CodeBadRequest: the request line is not a valid request.
	CodeBadRequest Code = "bad_request"
	// CodeInternal: the agent could not get the token (store, network).
	CodeInternal Code = "internal"
)

// Request is one request line.
type Request struct {
	V  int `json:"v"`
	Op Op  `json:"op"`
	// Host names the host as git does (lower case, no default port); token only.
	Host string `json:"host,omitempty"`
	// Owner is the repository owner, when known (token only).
	Owner string `json:"owner,omitempty"`
	// User names the account; "" means the agent chooses (token only).
	User string `json:"user,omitempty"`
	// Purpose is git, token or exec for a token request; empty or status
	// for a list request.
	Purpose Purpose `json:"purpose,omitempty"`
}

// Response is one response line: a token (Token set), a list (Op list), or
// a refusal (Error set).
type Response struct {
	V int `json:"v"`
	// Agent names the machine the agent runs on, for messages on the remote.
	Agent     string    `json:"agent,omitempty"`
	Host      string    `json:"host,omitempty"`
	Login     string    `json:"login,omitempty"`
	Token     string    `json:"token,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Hosts answers a list request: every host the agent serves.
	Hosts []HostAccounts `json:"hosts,omitempty"`
	Error *Refusal       `json:"error,omitempty"`
}

// String describes r without its token.
func (r Response) String() string {
	switch {
	case r.Error != nil:
		return fmt.Sprintf("agent.Response{agent=%q refused %s host=%q}", r.Agent, r.Error.Code, r.Error.Host)
	case r.Token != "":
		return fmt.Sprintf("agent.Response{agent=%q token for %s@%s}", r.Agent, r.Login, r.Host)
	}
	return fmt.Sprintf("agent.Response{agent=%q %d hosts}", r.Agent, len(r.Hosts))
}

// GoString hides the token from %#v too.
func (r Response) GoString() string { return r.String() }

// Refusal is why the agent did not answer a request with a token.
type Refusal struct {
	Code Code `json:"code"`
	// Host is the host the request named, when it named a valid one.
	Host string `json:"host,omitempty"`
	// Reason is a sentence for a person.
	Reason string `json:"reason"`
}

// HostAccounts is one served host in a list response.
type HostAccounts struct {
	Host     string    `json:"host"`
	Accounts []Account `json:"accounts"`
	// Problem is set when the agent could not read the host's accounts.
	Problem string `json:"problem,omitempty"`
}

// Account is an account as a list response shows it: no token.
type Account struct {
	Login string `json:"login"`
	// Active marks the host's active account on the agent's machine.
	Active bool `json:"active,omitempty"`
	// ExpiresAt is the token's expiry; zero when it does not expire.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// RequestError is a request line the agent does not accept (bad_request).
type RequestError struct {
	Reason string
}

// Error says what is wrong with the request.
func (e *RequestError) Error() string { return "bad agent request: " + e.Reason }

// errTooLong is a request line longer than MaxLine.
var errTooLong = &RequestError{Reason: fmt.Sprintf("the request is longer than %d bytes", MaxLine)}

// requestKeys are the only keys a request may hold, spelt exactly so.
var requestKeys = map[string]bool{"v": true, "op": true, "host": true, "owner": true, "user": true, "purpose": true}

// ParseRequest reads one request line (without its newline). It is strict:
// the line must be valid UTF-8 holding exactly one JSON object, with only
// the keys of Request spelt exactly (encoding/json alone would accept any
// case and take the last of two equal keys), each at most once, with values
// of the right type; the version must be Version; a token request needs a
// valid host and a purpose of git, token or exec; owner and user, when
// given, must be printable names that are not paths. The host comes back
// normalized (lower case, no default port). Errors are *RequestError.
func ParseRequest(line []byte) (*Request, error) {
	if len(line) > MaxLine {
		return nil, errTooLong
	}
	if !utf8.Valid(line) {
		return nil, &RequestError{Reason: "the request is not valid UTF-8"}
	}
	if err := checkKeys(line); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var req Request
	if err := dec.Decode(&req); err != nil {
		return nil, &RequestError{Reason: "the request is not valid JSON: " + jsonReason(err)}
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	return &req, nil
}

// checkKeys walks the top level of line: one object, known keys only, none
// twice, nothing after it.
func checkKeys(line []byte) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	tok, err := dec.Token()
	if err != nil {
		return &RequestError{Reason: "the request is not valid JSON: " + jsonReason(err)}
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return &RequestError{Reason: "the request is not a JSON object"}
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return &RequestError{Reason: "the request is not valid JSON: " + jsonReason(err)}
		}
		key, _ := tok.(string)
		if !requestKeys[key] {
			return &RequestError{Reason: fmt.Sprintf("unknown field %q", safe.Short(key, 40))}
		}
		if seen[key] {
			return &RequestError{Reason: fmt.Sprintf("the field %q appears twice", key)}
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return &RequestError{Reason: "the request is not valid JSON: " + jsonReason(err)}
		}
	}
	if _, err := dec.Token(); err != nil {
		return &RequestError{Reason: "the request is not valid JSON: " + jsonReason(err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &RequestError{Reason: "one request per line: found more after the JSON object"}
	}
	return nil
}

// jsonReason is a decoding error's text, cut short and made printable.
func jsonReason(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "it ends too early"
	}
	return safe.Short(strings.TrimPrefix(err.Error(), "json: "), 120)
}

// validate checks the fields and normalizes the host.
func (r *Request) validate() error {
	if r.V != Version {
		return &RequestError{Reason: fmt.Sprintf("protocol version %d is not supported (this agent speaks %d)", r.V, Version)}
	}
	switch r.Op {
	case OpList:
		if r.Host != "" || r.Owner != "" || r.User != "" {
			return &RequestError{Reason: "a list request takes no host, owner or user"}
		}
		if r.Purpose != "" && r.Purpose != PurposeStatus {
			return &RequestError{Reason: fmt.Sprintf("a list request's purpose is %q", PurposeStatus)}
		}
		return nil
	case OpToken:
	case "":
		return &RequestError{Reason: `the field "op" is missing`}
	default:
		return &RequestError{Reason: fmt.Sprintf("unknown op %q (want %q or %q)", safe.Short(string(r.Op), 40), OpToken, OpList)}
	}
	switch r.Purpose {
	case PurposeGit, PurposeToken, PurposeExec:
	case "":
		return &RequestError{Reason: `the field "purpose" is missing`}
	default:
		return &RequestError{Reason: fmt.Sprintf("unknown purpose %q (want git, token or exec)", safe.Short(string(r.Purpose), 40))}
	}
	if r.Host == "" {
		return &RequestError{Reason: `the field "host" is missing`}
	}
	name := hosts.Normalize(r.Host, "https")
	if name == "" {
		return &RequestError{Reason: fmt.Sprintf("%q is not a host name", safe.Short(r.Host, 80))}
	}
	r.Host = name
	if err := checkName("owner", r.Owner); err != nil {
		return err
	}
	return checkName("user", r.User)
}

// checkName accepts "" or a printable name without spaces, slashes or
// backslashes, other than "." and "..".
func checkName(field, v string) error {
	if v == "" {
		return nil
	}
	if len(v) > maxName {
		return &RequestError{Reason: fmt.Sprintf("the %s is longer than %d bytes", field, maxName)}
	}
	for _, r := range v {
		if r <= ' ' || r == 0x7f {
			return &RequestError{Reason: fmt.Sprintf("the %s contains spaces or control characters", field)}
		}
	}
	if safe.Text(v) != v {
		return &RequestError{Reason: fmt.Sprintf("the %s contains characters that cannot be printed", field)}
	}
	// A login or an owner is one name, never a path ("../../x"): no
	// server ghlogin logs in to names an account or an owner so.
	if strings.ContainsAny(v, `/\`) || v == "." || v == ".." {
		return &RequestError{Reason: fmt.Sprintf("%q is not a valid %s name", safe.Short(v, 80), field)}
	}
	return nil
}

// encodeLine is v as one JSON line.
func encodeLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

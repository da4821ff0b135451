package fast

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/ghlogin/ghlogin/internal/safe"
)

// MaxLineBytes is the longest line git's protocol allows, trailing LF included.
const MaxLineBytes = 65535

// MaxInputBytes caps everything the helper reads from git.
const MaxInputBytes = 1 << 20

// Request is one credential description read from git. Every field holds the
// bytes git sent, after url= was split into its parts.
type Request struct {
	Protocol string
	// Host includes the port when git sent one ("example.com:8443").
	Host     string
	Path     string
	Username string
	// Password is set on store and erase. It is a secret: never log it.
	Password string
	// PasswordExpiryUTC is the password_expiry_utc attribute, as sent.
	PasswordExpiryUTC string
	// OAuthRefreshToken is the oauth_refresh_token attribute, a secret.
	OAuthRefreshToken string
	// Capabilities lists capability[] values (git 2.46+: authtype, state).
	Capabilities []string
	// WWWAuth lists wwwauth[] values (the server's WWW-Authenticate headers).
	WWWAuth []string
	// State lists state[] values.
	State []string
}

// String never shows the secrets, so a stray %v cannot leak them.
func (r Request) String() string {
	return fmt.Sprintf("gitcred.Request{protocol=%q host=%q path=%q username=%q password=%t}",
		r.Protocol, r.Host, r.Path, r.Username, r.Password != "")
}

// GoString hides the secrets from %#v too.
func (r Request) GoString() string { return r.String() }

// ParseError is input that breaks the protocol. The helper answers nothing.
// It never quotes the offending value, which may be a secret.
type ParseError struct {
	// Line is the 1-based line number (0 when the whole input is at fault).
	Line   int
	Reason string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("invalid credential request from git (line %d): %s", e.Line, e.Reason)
	}
	return "invalid credential request from git: " + e.Reason
}

// errTooLong marks a line longer than MaxLineBytes.
var errTooLong = errors.New("line too long")

// Parse reads a credential description strictly, as `git help credential`
// defines it: key=value lines ending in LF, up to a blank line or the end of
// input. A line over 65,535 bytes, a line without '=', an empty key, or a
// key or value holding CR or NUL is a *ParseError. Later values of a key win,
// except for array keys (ending in "[]"), which collect their values in
// order; an empty array value clears the list. url= is split into protocol,
// host, username, password and path, resetting the others as git does.
// Parse reads at most MaxInputBytes.
func Parse(r io.Reader) (Request, error) {
	var req Request
	lr := &io.LimitedReader{R: r, N: MaxInputBytes + 1}
	br := bufio.NewReaderSize(lr, 4096)
	total := 0
	for n := 1; ; n++ {
		line, err := readLine(br)
		total += len(line)
		if total > MaxInputBytes {
			return Request{}, &ParseError{Reason: "the request is larger than 1 MiB"}
		}
		if errors.Is(err, errTooLong) {
			return Request{}, &ParseError{Line: n, Reason: "the line is longer than 65535 bytes"}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return Request{}, &ParseError{Line: n, Reason: "reading the request: " + err.Error()}
		}
		eof := errors.Is(err, io.EOF)
		body, hadLF := bytes.CutSuffix(line, []byte{'\n'})
		if len(body) == 0 && (hadLF || eof) {
			return req, nil // a blank line or the end of input
		}
		if err := req.set(n, body); err != nil {
			return Request{}, err
		}
		if eof {
			return req, nil
		}
	}
}

// readLine reads one line including its LF, refusing lines over MaxLineBytes.
// At the end of input it returns what is left with io.EOF.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > MaxLineBytes {
			return buf[:MaxLineBytes+1], errTooLong
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return buf, err
	}
}

func (r *Request) set(n int, line []byte) error {
	key, value, ok := bytes.Cut(line, []byte{'='})
	switch {
	case !ok:
		return &ParseError{Line: n, Reason: "the line has no '='"}
	case len(key) == 0:
		return &ParseError{Line: n, Reason: "the line has an empty key"}
	case bytes.ContainsAny(key, "\r\x00"):
		return &ParseError{Line: n, Reason: "the key holds a carriage return or NUL"}
	case bytes.ContainsAny(value, "\r\x00"):
		return &ParseError{Line: n, Reason: fmt.Sprintf("the value of %q holds a carriage return or NUL", safe.Short(string(key), 40))}
	}
	v := string(value)
	switch string(key) {
	case "protocol":
		r.Protocol = v
	case "host":
		r.Host = v
	case "path":
		r.Path = v
	case "username":
		r.Username = v
	case "password":
		r.Password = v
	case "password_expiry_utc":
		r.PasswordExpiryUTC = v
	case "oauth_refresh_token":
		r.OAuthRefreshToken = v
	case "url":
		u, err := splitURL(v)
		if err != nil {
			return &ParseError{Line: n, Reason: err.Error()}
		}
		*r = u
	case "capability[]":
		r.Capabilities = appendArray(r.Capabilities, v)
	case "wwwauth[]":
		r.WWWAuth = appendArray(r.WWWAuth, v)
	case "state[]":
		r.State = appendArray(r.State, v)
	}
	// Unrecognised attributes are silently discarded, as git does.
	return nil
}

func appendArray(list []string, v string) []string {
	if v == "" {
		return nil
	}
	return append(list, v)
}

// splitURL turns a url= value into its parts as git's credential_from_url
// does (the credential is cleared first; missing parts stay unset), refusing
// a URL without a scheme and any part that decodes to CR, LF or NUL.
func splitURL(raw string) (Request, error) {
	var r Request
	i := strings.Index(raw, "://")
	if i <= 0 {
		return r, errors.New("the url has no scheme")
	}
	r.Protocol = raw[:i]
	rest := raw[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	hostPart := rest[:end]
	var err error
	if at := strings.Index(hostPart, "@"); at >= 0 {
		// Like git, split at the first '@' before the path; a later '@'
		// stays in the host, which hosts.Normalize refuses.
		userinfo := hostPart[:at]
		hostPart = hostPart[at+1:]
		user, pass, hasPass := strings.Cut(userinfo, ":")
		if r.Username, err = decode(user, "username"); err != nil {
			return Request{}, err
		}
		if hasPass {
			if r.Password, err = decode(pass, "password"); err != nil {
				return Request{}, err
			}
		}
	}
	if r.Host, err = decode(hostPart, "host"); err != nil {
		return Request{}, err
	}
	path := strings.TrimLeft(rest[end:], "/")
	if path != "" {
		if r.Path, err = decode(path, "path"); err != nil {
			return Request{}, err
		}
		// Trim trailing slashes, keeping at least one character.
		for len(r.Path) > 1 && strings.HasSuffix(r.Path, "/") {
			r.Path = r.Path[:len(r.Path)-1]
		}
	}
	if strings.ContainsAny(r.Protocol, "\r\n\x00") {
		return Request{}, errors.New("the url's protocol holds a control character")
	}
	return r, nil
}

// decode percent-decodes one URL component; a malformed escape or a decoded
// CR, LF or NUL is an error.
func decode(s, what string) (string, error) {
	d, err := url.PathUnescape(s)
	if err != nil {
		return "", fmt.Errorf("the url's %s has a malformed %%-escape", what)
	}
	if strings.ContainsAny(d, "\r\n\x00") {
		return "", fmt.Errorf("the url's %s holds a newline, carriage return or NUL", what)
	}
	return d, nil
}

// Package emuhttp holds what the GitHub emulator and the workload identity
// fakes share: serving on a loopback listener, the response recorder that
// feeds their log lines, request parsing and random values. It is internal
// to the emulators.
package emuhttp

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Limits shared by the emulators.
const (
	// MaxBody caps request bodies.
	MaxBody = 64 << 10
	// ReadHeaderTimeout is every server's http.Server.ReadHeaderTimeout.
	ReadHeaderTimeout = 10 * time.Second
	// DefaultAddr is the address a server listens on when none is given.
	DefaultAddr = "127.0.0.1:0"
	// Base62 is the alphabet of GitHub's and Google's opaque tokens.
	Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// ErrNotLoopback is returned by ListenLoopback for an address that is not loopback.
var ErrNotLoopback = errors.New("the emulator listens on loopback addresses only")

// Recorder remembers a reply's status and error code for the log line.
type Recorder struct {
	http.ResponseWriter
	// Status is the reply's status code, 0 until one is written.
	Status int
	// ErrorCode is the OAuth or Google error code of the reply, if any.
	ErrorCode string
}

// WriteHeader records the first status written.
func (w *Recorder) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200.
func (w *Recorder) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming replies (git's) through.
func (w *Recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Record returns w as a *Recorder, wrapping it when it is not one already.
func Record(w http.ResponseWriter) *Recorder {
	if rec, ok := w.(*Recorder); ok {
		return rec
	}
	return &Recorder{ResponseWriter: w}
}

// Base is the URL prefix for replies: started (a started server's URL)
// when set, or else one derived from the request's scheme and Host.
func Base(started string, r *http.Request) string {
	if started != "" {
		return started
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// WriteJSON writes v as a JSON reply with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Bearer returns the token of an "Authorization: Bearer X" or "token X" header.
func Bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || (!strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token")) {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// SecretEqual compares two secrets in constant time.
func SecretEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// RandomString returns n characters drawn uniformly from alphabet.
func RandomString(alphabet string, n int) string {
	out := make([]byte, 0, n)
	limit := 256 - 256%len(alphabet)
	buf := make([]byte, n+16)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic("emulator: no randomness: " + err.Error())
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// RandomHex returns nbytes random bytes in hex.
func RandomHex(nbytes int) string {
	b := make([]byte, nbytes)
	if _, err := rand.Read(b); err != nil {
		panic("emulator: no randomness: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// nameRe is what the emulators accept as an owner, repository, plan or job name.
var nameRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$`) })

// ValidName reports whether s is a safe path segment name: letters, digits,
// '.', '-' and '_', at most 100, never "..".
func ValidName(s string) bool {
	return nameRe().MatchString(s) && !strings.Contains(s, "..")
}

// ParseParams reads the request's parameters: the query string, then a
// form-encoded or JSON body (GitHub and Google accept both), capped at MaxBody.
func ParseParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := strings.Cut(ct, ";"); strings.EqualFold(strings.TrimSpace(mt), "application/json") {
		vals := r.URL.Query()
		var m map[string]any
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("the JSON body is malformed: %w", err)
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				vals.Set(k, v)
			case json.Number:
				vals.Set(k, v.String())
			case bool:
				vals.Set(k, fmt.Sprint(v))
			}
		}
		return vals, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, fmt.Errorf("the form body is malformed: %w", err)
	}
	return r.Form, nil
}

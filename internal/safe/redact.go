package safe

import (
	"net/url"
	"sort"
	"strings"
)

// Redacted stands in for a secret that Redact removed.
const Redacted = "[redacted]"

// MinSecretLen is the length under which Redact leaves a secret alone.
const MinSecretLen = 8

// Redact is Text(s) with every occurrence of each secret replaced by
// Redacted: for text a server chose (an error description, an error page, a
// header) that is about to become part of an error, a log line or an event,
// where the server may have echoed what the request carried — a token, a
// refresh token, a code, a PKCE verifier, a client secret.
//
// Each secret is also found in the forms a server is likely to echo it in:
// percent-encoded (as a form or a query carries it), with "/" escaped as
// "\/" (as some JSON encoders write it), and in any case. The text is
// sanitised first, so that control characters slipped inside an echoed
// secret cannot split it past the search and be removed afterwards; cut the
// result (Short) only after redacting, so that a secret cut in half is
// still found whole.
//
// Secrets shorter than MinSecretLen are not searched for: a value that
// short cannot be told apart from ordinary text (hiding every "s" of a
// message would hide the message), and no server issues one.
func Redact(s string, secrets ...string) string {
	s = Text(s)
	var forms []string
	seen := map[string]bool{}
	for _, sec := range secrets {
		if len(sec) < MinSecretLen {
			continue
		}
		for _, f := range []string{sec, url.QueryEscape(sec), url.PathEscape(sec), strings.ReplaceAll(sec, "/", `\/`)} {
			if f = asciiLower(f); !seen[f] {
				seen[f] = true
				forms = append(forms, f)
			}
		}
	}
	if len(forms) == 0 {
		return s
	}
	// Longest first, so that a secret holding another is replaced whole.
	sort.SliceStable(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	// Case is ignored (a server may echo a secret lower-cased, as a media
	// type or a host name is): the search runs on an ASCII-lowered copy,
	// which has the same byte offsets, and what is written is never
	// searched again.
	low := asciiLower(s)
	var b strings.Builder
	for i := 0; i < len(s); {
		matched := false
		for _, f := range forms {
			if strings.HasPrefix(low[i:], f) {
				b.WriteString(Redacted)
				i += len(f)
				matched = true
				break
			}
		}
		if !matched {
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
}

// asciiLower lower-cases ASCII letters only, so that byte offsets do not
// change.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// HasSecret reports whether s holds any of the secrets in a form Redact
// would remove.
func HasSecret(s string, secrets ...string) bool {
	return Redact(s, secrets...) != Text(s)
}

package gitcred

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ghlogin/ghlogin/internal/hosts"
)

func addSeeds(f *testing.F) {
	for _, c := range append(hostileCases(), legitCases()...) {
		if len(c.in) < 4096 {
			f.Add([]byte(c.in))
		}
	}
}

// FuzzParse: Parse never panics, and what it accepts holds no byte that
// could break a line of the protocol.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(bytes.NewReader(data))
		if err != nil {
			if r.Host != "" || r.Protocol != "" || r.Password != "" {
				t.Fatalf("a failed parse returned fields: %v", r)
			}
			return
		}
		for _, v := range append([]string{r.Protocol, r.Host, r.Path, r.Username, r.Password, r.PasswordExpiryUTC, r.OAuthRefreshToken},
			append(append(r.Capabilities, r.WWWAuth...), r.State...)...) {
			if strings.ContainsAny(v, "\r\n\x00") {
				t.Fatalf("parsed value holds CR, LF or NUL: %q", v)
			}
		}
	})
}

// FuzzGet drives the whole get path over a real file store holding accounts
// for github.com, ghe.example.com, localhost and an http loopback host: it
// never panics, answers only well-formed lines, and gives a token only for a
// request whose host (normalized) is one of those, over https (or http for
// the host registered with http), and only that host's token.
func FuzzGet(f *testing.F) {
	addSeeds(f)
	st := newFixtureStore(f, f.TempDir())
	tokens := map[string][]string{
		"github.com":      {tokOctocat, tokHubot},
		"ghe.example.com": {tokAlice},
		"localhost":       {tokLocal},
		emuHost:           {tokEmu},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h := newHelper(st, &bytes.Buffer{})
		var out bytes.Buffer
		if err := h.Run(context.Background(), "get", bytes.NewReader(data), &out); err != nil {
			t.Fatal(err)
		}
		if out.Len() == 0 {
			return
		}
		req, err := Parse(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("answered %q to input that does not parse (%v)", out.String(), err)
		}
		if req.Protocol != "https" && !(req.Protocol == "http" && hosts.Normalize(req.Host, "http") == emuHost) {
			t.Fatalf("answered over protocol %q for host %q", req.Protocol, req.Host)
		}
		name := hosts.Normalize(req.Host, req.Protocol)
		allowed, ok := tokens[name]
		if !ok {
			t.Fatalf("answered for host %q (normalized %q)", req.Host, name)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) < 2 || !strings.HasPrefix(lines[0], "username=") || !strings.HasPrefix(lines[1], "password=") {
			t.Fatalf("malformed answer %q", out.String())
		}
		pw := strings.TrimPrefix(lines[1], "password=")
		found := false
		for _, tok := range allowed {
			found = found || tok == pw
		}
		if !found {
			t.Fatalf("answered another host's token for %q", name)
		}
		if !utf8.Valid(out.Bytes()) {
			t.Fatal("answer is not UTF-8")
		}
	})
}

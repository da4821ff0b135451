package emulator

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"html/template"
	"net/http"
	"regexp"
	"sync"
	"time"
)

// pageCSP keeps the emulator's pages self-contained: no scripts, no
// external resources, forms posting only to the emulator.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

const layout = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · GitHub emulator</title>
<style>
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;background:#f6f8fa;color:#1f2328;margin:0}
main{max-width:30rem;margin:3rem auto;background:#fff;border:1px solid #d0d7de;border-radius:12px;padding:2rem}
h1{font-size:1.4rem;font-weight:400;margin-top:0}
label{display:block;font-weight:600;margin:1rem 0 .3rem}
input[type=text],select{font-size:1.2rem;padding:.4rem;width:100%;box-sizing:border-box;border:1px solid #d0d7de;border-radius:6px}
input.code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;letter-spacing:.2em;text-transform:uppercase;text-align:center}
.buttons{display:flex;gap:.8rem;margin-top:1.5rem}
button{flex:1;font-size:1rem;padding:.6rem;border-radius:6px;border:1px solid #d0d7de;cursor:pointer}
button.approve{background:#1f883d;color:#fff;border-color:#1a7f37}
button.deny{background:#f6f8fa;color:#d1242f}
.error{background:#ffebe9;border:1px solid #ff818266;padding:.6rem;border-radius:6px}
.ok{background:#dafbe1;border:1px solid #4ac26b66;padding:.6rem;border-radius:6px}
.note{color:#59636e;font-size:.85rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
</style></head>
<body><main>
<p class="note">GitHub emulator (ghlogin) — not github.com</p>
{{template "content" .}}
</main></body></html>`

// The pages and regular expressions are built on first use: the emulator is
// linked into the ghlogin binary, which git starts for every fetch and push
// (git-credential), so package initialization must stay cheap.
var (
	devicePage = sync.OnceValue(func() *template.Template {
		return template.Must(template.Must(template.New("device").Parse(layout)).Parse(`{{define "content"}}
<h1>Device activation</h1>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
{{if .App}}<p>Authorize <strong>{{.App}}</strong>{{if .Scopes}} to access: {{range $i, $s := .Scopes}}{{if $i}}, {{end}}<code>{{$s}}</code>{{end}}{{end}}.</p>{{end}}
<form method="post" action="/login/device">
<input type="hidden" name="authenticity_token" value="{{.CSRF}}">
<label for="user_code">Enter the code displayed on your device</label>
<input class="code" type="text" id="user_code" name="user_code" value="{{.UserCode}}" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="16" placeholder="XXXX-XXXX" required>
<label for="login">Sign in as</label>
<select id="login" name="login">{{range .Users}}<option value="{{.}}"{{if eq . $.Login}} selected{{end}}>{{.}}</option>{{end}}</select>
<div class="buttons">
<button class="approve" type="submit" name="action" value="approve">Authorize</button>
<button class="deny" type="submit" name="action" value="deny">Cancel</button>
</div>
</form>{{end}}`))
	})

	authorizePage = sync.OnceValue(func() *template.Template {
		return template.Must(template.Must(template.New("authorize").Parse(layout)).Parse(`{{define "content"}}
<h1>Authorize <strong>{{.App}}</strong></h1>
<p>{{.App}} wants to access your account{{if .Scopes}}: {{range $i, $s := .Scopes}}{{if $i}}, {{end}}<code>{{$s}}</code>{{end}}{{end}}.</p>
<p class="note">You will be redirected to <code>{{.Redirect}}</code></p>
<form method="post" action="/login/oauth/authorize">
<input type="hidden" name="authenticity_token" value="{{.CSRF}}">
<input type="hidden" name="request_id" value="{{.RequestID}}">
<label for="login">Sign in as</label>
<select id="login" name="login">{{range .Users}}<option value="{{.}}"{{if eq . $.Login}} selected{{end}}>{{.}}</option>{{end}}</select>
<div class="buttons">
<button class="approve" type="submit" name="action" value="approve">Authorize</button>
<button class="deny" type="submit" name="action" value="deny">Cancel</button>
</div>
</form>{{end}}`))
	})

	messagePage = sync.OnceValue(func() *template.Template {
		return template.Must(template.Must(template.New("message").Parse(layout)).Parse(`{{define "content"}}
<h1>{{.Title}}</h1>
<p class="{{.Class}}" role="status">{{.Message}}</p>{{end}}`))
	})

	indexPage = sync.OnceValue(func() *template.Template {
		return template.Must(template.Must(template.New("index").Parse(layout)).Parse(`{{define "content"}}
<h1>GitHub emulator</h1>
<p>Enter a device code at <a href="/login/device">/login/device</a>.</p>
<p>Clients:</p>
<ul>{{range .Clients}}<li><code>{{.ID}}</code> — {{.Name}}{{if .App}} (GitHub App){{end}}{{if .DeviceFlowDisabled}} (device flow disabled){{end}}</li>{{end}}</ul>
<p>Users: {{range $i, $u := .Users}}{{if $i}}, {{end}}<code>{{$u}}</code>{{end}}</p>{{end}}`))
	})
)

type devicePageData struct {
	Title, Error, App, CSRF, UserCode, Login string
	Scopes, Users                            []string
}

type authorizePageData struct {
	Title, App, Redirect, CSRF, RequestID, Login string
	Scopes, Users                                []string
}

type messagePageData struct {
	Title, Message, Class string
}

var originRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^https?://[A-Za-z0-9.\-\[\]:]+$`) })

// renderPage writes an HTML page with headers that keep it self-contained.
// extraFormAction is an origin the page's form may redirect to.
func renderPage(w http.ResponseWriter, status int, t *template.Template, data any, extraFormAction string) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "page rendering failed", http.StatusInternalServerError)
		return
	}
	csp := pageCSP
	if extraFormAction != "" && originRe().MatchString(extraFormAction) {
		csp = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' " + extraFormAction + "; frame-ancestors 'none'; base-uri 'none'"
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func renderMessage(w http.ResponseWriter, status int, title, msg string, ok bool) {
	class := "error"
	if ok {
		class = "ok"
	}
	renderPage(w, status, messagePage(), messagePageData{Title: title, Message: msg, Class: class}, "")
}

// csrfToken returns a form token: the issue time and an HMAC over it with
// a per-server key, so forms need no server-side state.
func (s *Server) csrfToken() string {
	b := make([]byte, 8, 8+32)
	binary.BigEndian.PutUint64(b, uint64(s.clk.Now().Unix()))
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("csrf:"))
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(b))
}

// checkCSRF reports whether tok is a token this server issued within the last hour.
func (s *Server) checkCSRF(tok string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != 8+32 {
		return false
	}
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("csrf:"))
	m.Write(raw[:8])
	if !hmac.Equal(m.Sum(nil), raw[8:]) {
		return false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0)
	age := s.clk.Now().Sub(issued)
	return age >= -time.Minute && age <= csrfLifetime
}

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET")
		return
	}
	renderPage(w, http.StatusOK, indexPage(), struct {
		Title   string
		Clients []Client
		Users   []string
	}{"GitHub emulator", s.Clients(), s.users}, "")
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
}

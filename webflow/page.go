package webflow

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"net/http"
	"strconv"
	"strings"
)

// pageCSS is the only styling of the pages the loopback server shows. It is
// inlined and allowed by its hash in the Content-Security-Policy, so the page
// loads nothing from anywhere.
const pageCSS = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f6f8fa;color:#1f2328;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}` +
	`main{background:#fff;border:1px solid #d0d7de;border-radius:12px;padding:2rem 2.5rem;max-width:34rem;margin:1rem}` +
	`h1{font-size:1.4rem;margin:0 0 1rem}.ok h1{color:#1a7f37}.fail h1{color:#cf222e}.info h1{color:#0969da}` +
	`p{line-height:1.5;margin:.5rem 0}.detail{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9rem;background:#f6f8fa;padding:.5rem .75rem;border-radius:6px;overflow-wrap:anywhere}` +
	`@media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}main{background:#161b22;border-color:#30363d}.detail{background:#0d1117}}`

// contentSecurityPolicy forbids everything but the inline style above.
var contentSecurityPolicy = func() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"img-src 'none'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'"
}()

// setSecurityHeaders is applied to every response of the loopback server.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	// One request per connection: nothing lingers once the flow ends.
	h.Set("Connection", "close")
}

// Page styles.
const (
	styleOK   = "ok"
	styleFail = "fail"
	styleInfo = "info"
)

// page is one self-contained HTML page. Every field is plain text; render
// escapes it all.
type page struct {
	app    string // the program's name, in the title
	style  string
	title  string
	lines  []string
	detail string // shown in a box, e.g. an error message
	after  []string
}

func (p page) render() []byte {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">`)
	b.WriteString(`<meta name="viewport" content="width=device-width,initial-scale=1">`)
	b.WriteString(`<meta name="referrer" content="no-referrer">`)
	b.WriteString(`<title>`)
	b.WriteString(html.EscapeString(p.app))
	b.WriteString(`: `)
	b.WriteString(html.EscapeString(p.title))
	b.WriteString(`</title><style>`)
	b.WriteString(pageCSS)
	b.WriteString(`</style></head><body><main class="`)
	b.WriteString(html.EscapeString(p.style))
	b.WriteString(`"><h1>`)
	b.WriteString(html.EscapeString(p.title))
	b.WriteString(`</h1>`)
	for _, l := range p.lines {
		b.WriteString(`<p>`)
		b.WriteString(html.EscapeString(l))
		b.WriteString(`</p>`)
	}
	if p.detail != "" {
		b.WriteString(`<p class="detail">`)
		b.WriteString(html.EscapeString(p.detail))
		b.WriteString(`</p>`)
	}
	for _, l := range p.after {
		b.WriteString(`<p>`)
		b.WriteString(html.EscapeString(l))
		b.WriteString(`</p>`)
	}
	b.WriteString(`</main></body></html>`)
	return []byte(b.String())
}

// writePage sends p with status and flushes it, so the browser has the whole
// page before the flow reports its end and the server shuts down.
func writePage(w http.ResponseWriter, status int, p page) {
	body := p.render()
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	_ = http.NewResponseController(w).Flush()
}

const closeTab = "You can close this tab and go back to the terminal."

// pages are the pages the loopback server shows, naming the program app.
type pages struct {
	notFound, method, misdirected, badState, finished, ended, success page
	app                                                               string
}

func newPages(app string) *pages {
	return &pages{
		app: app,
		notFound: page{app: app, style: styleFail, title: "Not found",
			lines: []string{"This address is only used to receive the login callback from the authorization server."}},
		method: page{app: app, style: styleFail, title: "Method not allowed",
			lines: []string{"The login callback only accepts GET requests."}},
		misdirected: page{app: app, style: styleFail, title: "Wrong address",
			lines: []string{"This request was not addressed to the " + app + " callback server."}},
		badState: page{app: app, style: styleFail, title: "This link does not belong to the current login",
			lines: []string{
				"The callback's state is missing or does not match the login that " + app + " started, so it was ignored.",
				app + " is still waiting: finish the login in the tab it opened, or open the address it printed in the terminal.",
			}},
		finished: page{app: app, style: styleInfo, title: "Login already finished",
			lines: []string{"This login already finished (or is finishing in another tab); this request was not used.", closeTab}},
		ended: page{app: app, style: styleInfo, title: "Login no longer waiting",
			lines: []string{app + " stopped waiting for this login (it timed out or was cancelled); this request was not used.",
				"Start a new login from the terminal. You can close this tab."}},
		success: page{app: app, style: styleOK, title: "Logged in",
			lines: []string{app + " received your token.", closeTab}},
	}
}

// failure tells the person the login failed and why; msg is escaped.
func (ps *pages) failure(msg string) page {
	return page{app: ps.app, style: styleFail, title: "Login failed",
		lines:  []string{ps.app + " could not finish the login:"},
		detail: msg,
		after:  []string{"You can close this tab; the terminal shows what to do next."}}
}

package interop

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// browser stands in for the person's web browser: an HTTP client with a
// cookie jar that reads the provider's HTML pages and submits their forms the
// way a browser would. It refuses to leave the loopback address.
type browser struct {
	t      *testing.T
	ctx    context.Context
	client *http.Client
}

func newBrowser(ctx context.Context, t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{
		t:   t,
		ctx: ctx,
		client: &http.Client{
			Jar:     jar,
			Timeout: httpTimeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 10 {
					return errors.New("more than 10 redirects")
				}
				if req.URL.Hostname() != "127.0.0.1" {
					return fmt.Errorf("refusing to follow a redirect off the loopback address to %s", req.URL.Redacted())
				}
				return nil
			},
		},
	}
}

// page is one HTML page the browser landed on (after redirects).
type page struct {
	URL    *url.URL
	Status int
	Body   string
}

var (
	titleRE  = regexp.MustCompile(`(?is)<title>(.*?)</title>`)
	formRE   = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRE  = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	buttonRE = regexp.MustCompile(`(?is)<button\b([^>]*)>(.*?)</button>`)
	linkRE   = regexp.MustCompile(`(?is)<a\b([^>]*)>(.*?)</a>`)
	attrRE   = regexp.MustCompile(`(?s)([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>/]+)))?`)
	tagRE    = regexp.MustCompile(`(?s)<[^>]*>`)
	// hiddenRE matches elements whose content is not text a person reads.
	hiddenRE = regexp.MustCompile(`(?is)<(style|script|head)\b.*?</(style|script|head)>`)
	// deviceMessageRE is the error message oidc-provider's device page shows.
	deviceMessageRE = regexp.MustCompile(`(?is)<p class="red">(.*?)</p>`)
)

// Title is the page's <title>.
func (p *page) Title() string {
	m := titleRE.FindStringSubmatch(p.Body)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(html.UnescapeString(m[1]))
}

// Text is the page's text without tags, for failure messages and checks.
func (p *page) Text() string {
	s := tagRE.ReplaceAllString(hiddenRE.ReplaceAllString(p.Body, " "), " ")
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

// String describes the page for failure messages.
func (p *page) String() string {
	text := p.Text()
	if len(text) > 600 {
		text = text[:600] + "…"
	}
	return fmt.Sprintf("%s (HTTP %d, title %q): %s", p.URL.Redacted(), p.Status, p.Title(), text)
}

// htmlForm is a form on a page: its attributes and its named inputs.
type htmlForm struct {
	ID     string
	Action string
	Method string
	Fields url.Values
}

// htmlButton is a <button>; Form is its form attribute (the id of the form it
// submits when it stands outside it).
type htmlButton struct {
	Form  string
	Name  string
	Value string
	Text  string
}

func attrs(s string) map[string]string {
	out := map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(s, -1) {
		name := strings.ToLower(m[1])
		if _, dup := out[name]; dup {
			continue
		}
		out[name] = html.UnescapeString(m[2] + m[3] + m[4])
	}
	return out
}

// Forms returns the page's forms, with the values a browser would submit
// for their inputs (buttons excluded).
func (p *page) Forms() []htmlForm {
	var forms []htmlForm
	for _, m := range formRE.FindAllStringSubmatch(p.Body, -1) {
		a := attrs(m[1])
		f := htmlForm{ID: a["id"], Action: a["action"], Method: strings.ToUpper(a["method"]), Fields: url.Values{}}
		if f.Method == "" {
			f.Method = http.MethodGet
		}
		for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
			ia := attrs(in[1])
			if ia["name"] == "" {
				continue
			}
			switch strings.ToLower(ia["type"]) {
			case "submit", "button", "image", "reset":
				continue
			}
			f.Fields.Add(ia["name"], ia["value"])
		}
		forms = append(forms, f)
	}
	return forms
}

// Form returns the first form for which match is true.
func (p *page) Form(match func(htmlForm) bool) (htmlForm, bool) {
	for _, f := range p.Forms() {
		if match(f) {
			return f, true
		}
	}
	return htmlForm{}, false
}

// Buttons returns the page's buttons.
func (p *page) Buttons() []htmlButton {
	var out []htmlButton
	for _, m := range buttonRE.FindAllStringSubmatch(p.Body, -1) {
		a := attrs(m[1])
		out = append(out, htmlButton{Form: a["form"], Name: a["name"], Value: a["value"], Text: strings.TrimSpace(tagRE.ReplaceAllString(m[2], ""))})
	}
	return out
}

// Link returns the href of the first link whose text contains text.
func (p *page) Link(text string) (string, bool) {
	for _, m := range linkRE.FindAllStringSubmatch(p.Body, -1) {
		if strings.Contains(strings.ToLower(html.UnescapeString(tagRE.ReplaceAllString(m[2], ""))), strings.ToLower(text)) {
			return attrs(m[1])["href"], true
		}
	}
	return "", false
}

// Get loads a page.
func (b *browser) Get(rawURL string) *page {
	b.t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		b.t.Fatalf("browser: bad URL %q: %v", rawURL, err)
	}
	if u.Hostname() != "127.0.0.1" {
		b.t.Fatalf("browser: refusing to open %s: the tests talk only to 127.0.0.1", u.Redacted())
	}
	req, err := http.NewRequestWithContext(b.ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// Submit submits form f found on p, with set overriding or adding fields (as
// typing into inputs or clicking a named submit button would).
func (b *browser) Submit(p *page, f htmlForm, set url.Values) *page {
	b.t.Helper()
	action, err := p.URL.Parse(f.Action)
	if err != nil {
		b.t.Fatalf("browser: form action %q on %s: %v", f.Action, p.URL.Redacted(), err)
	}
	values := url.Values{}
	for k, v := range f.Fields {
		values[k] = append([]string(nil), v...)
	}
	for k, v := range set {
		values[k] = v
	}
	var req *http.Request
	if f.Method == http.MethodPost {
		req, err = http.NewRequestWithContext(b.ctx, http.MethodPost, action.String(), strings.NewReader(values.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		action.RawQuery = values.Encode()
		req, err = http.NewRequestWithContext(b.ctx, http.MethodGet, action.String(), nil)
	}
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Origin", p.URL.Scheme+"://"+p.URL.Host)
	req.Header.Set("Referer", p.URL.String())
	return b.do(req)
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	req.Header.Set("Accept", "text/html")
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("browser: %s %s: %v", req.Method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		b.t.Fatalf("browser: reading %s: %v", resp.Request.URL.Redacted(), err)
	}
	return &page{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(body)}
}

// Where a person stops instead of approving.
const (
	approveAll     = ""
	abortOnConfirm = "confirm" // the [ Abort ] button of the device confirmation page
	abortOnConsent = "consent" // the "Cancel" link of the consent interaction
)

// approval says how the person answers the provider's pages.
type approval struct {
	// Login is the account typed into the login form.
	Login string
	// UserCode, when set, is typed into the device page opened at
	// VerificationURI; otherwise VerificationURIComplete is opened.
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string
	// AbortAt is approveAll, abortOnConfirm or abortOnConsent.
	AbortAt string
}

// approveDevice plays the person: it opens the device page and answers each
// page oidc-provider shows until the sign-in succeeds or is aborted. It
// returns the names of the pages it went through, in order, and the last page.
func approveDevice(b *browser, p *provider, a approval) ([]string, *page) {
	b.t.Helper()
	var steps []string
	var pg *page
	if a.UserCode != "" {
		pg = b.Get(a.VerificationURI)
	} else {
		pg = b.Get(a.VerificationURIComplete)
	}
	for range 12 {
		if pg.Status >= 500 {
			b.t.Fatalf("provider failed on %s\nprovider log:\n%s", pg, p.Logs())
		}
		if f, ok := pg.Form(func(f htmlForm) bool { return f.ID == "op.deviceInputForm" }); ok {
			if m := deviceMessageRE.FindStringSubmatch(pg.Body); m != nil {
				b.t.Fatalf("the device page reports %q after %v", html.UnescapeString(m[1]), steps)
			}
			steps = append(steps, "device-input")
			if a.UserCode == "" {
				b.t.Fatalf("the device page asks for the code although it was opened with it: %s", pg)
			}
			pg = b.Submit(pg, f, url.Values{"user_code": {a.UserCode}})
			continue
		}
		if f, ok := pg.Form(func(f htmlForm) bool { return f.ID == "op.deviceConfirmForm" }); ok {
			steps = append(steps, "device-confirm")
			if a.AbortAt == abortOnConfirm {
				abort, found := findButton(pg, f.ID, "abort")
				if !found {
					b.t.Fatalf("no Abort button on the device confirmation page: %s", pg)
				}
				pg = b.Submit(pg, f, url.Values{abort.Name: {abort.Value}})
				steps = append(steps, "aborted")
				return steps, pg
			}
			pg = b.Submit(pg, f, nil)
			continue
		}
		if f, ok := pg.Form(func(f htmlForm) bool { return f.Fields.Get("prompt") == "login" }); ok {
			steps = append(steps, "login")
			pg = b.Submit(pg, f, url.Values{"login": {a.Login}, "password": {"any password"}})
			continue
		}
		if f, ok := pg.Form(func(f htmlForm) bool { return f.Fields.Get("prompt") == "consent" }); ok {
			steps = append(steps, "consent")
			if a.AbortAt == abortOnConsent {
				href, found := pg.Link("cancel")
				if !found {
					b.t.Fatalf("no Cancel link on the consent page: %s", pg)
				}
				target, err := pg.URL.Parse(href)
				if err != nil {
					b.t.Fatalf("cancel link %q: %v", href, err)
				}
				pg = b.Get(target.String())
				steps = append(steps, "aborted")
				return steps, pg
			}
			pg = b.Submit(pg, f, nil)
			continue
		}
		if f, ok := pg.Form(func(f htmlForm) bool {
			return f.Method == http.MethodPost && f.Fields.Has("xsrf") && f.Fields.Has("user_code")
		}); ok {
			// The page verification_uri_complete opens: a form a browser
			// submits by itself with script.
			steps = append(steps, "device-autosubmit")
			pg = b.Submit(pg, f, nil)
			continue
		}
		if pg.Title() == "Sign-in Success" {
			steps = append(steps, "success")
			return steps, pg
		}
		b.t.Fatalf("unexpected page after %v: %s\nprovider log:\n%s", steps, pg, p.Logs())
	}
	b.t.Fatalf("the sign-in did not finish within 12 pages: %v, last %s", steps, pg)
	return nil, nil
}

func findButton(p *page, formID, name string) (htmlButton, bool) {
	for _, btn := range p.Buttons() {
		if btn.Name == name && (btn.Form == "" || btn.Form == formID) {
			return btn, true
		}
	}
	return htmlButton{}, false
}

// approveWeb plays the person in the loopback web flow (RFC 8252): it opens
// the authorization URL ghlogin printed, answers the provider's login and
// consent pages (or cancels at consent when cancel is set), and follows the
// redirect back to ghlogin's loopback callback. It returns the pages it went
// through and the page ghlogin's callback server answered with.
func approveWeb(b *browser, p *provider, authorizeURL, login string, cancel bool) ([]string, *page) {
	b.t.Helper()
	issuer, err := url.Parse(p.Issuer)
	if err != nil {
		b.t.Fatal(err)
	}
	var steps []string
	pg := b.Get(authorizeURL)
	for range 8 {
		if pg.URL.Host != issuer.Host {
			steps = append(steps, "callback")
			return steps, pg
		}
		if pg.Status >= 500 {
			b.t.Fatalf("provider failed on %s\nprovider log:\n%s", pg, p.Logs())
		}
		if f, ok := pg.Form(func(f htmlForm) bool { return f.Fields.Get("prompt") == "login" }); ok {
			steps = append(steps, "login")
			pg = b.Submit(pg, f, url.Values{"login": {login}, "password": {"any password"}})
			continue
		}
		if f, ok := pg.Form(func(f htmlForm) bool { return f.Fields.Get("prompt") == "consent" }); ok {
			steps = append(steps, "consent")
			if cancel {
				href, found := pg.Link("cancel")
				if !found {
					b.t.Fatalf("no Cancel link on the consent page: %s", pg)
				}
				target, err := pg.URL.Parse(href)
				if err != nil {
					b.t.Fatalf("cancel link %q: %v", href, err)
				}
				steps = append(steps, "cancelled")
				pg = b.Get(target.String())
				continue
			}
			pg = b.Submit(pg, f, nil)
			continue
		}
		b.t.Fatalf("unexpected page after %v: %s\nprovider log:\n%s", steps, pg, p.Logs())
	}
	b.t.Fatalf("the browser never came back to ghlogin's callback: %v, last %s", steps, pg)
	return nil, nil
}

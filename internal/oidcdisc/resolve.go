package oidcdisc

import (
	"context"
	"strings"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/hosts"
)

// Source says where an endpoint's value came from.
type Source string

// The places an endpoint can come from, by precedence.
const (
	// SourceFlag: a flag of the command (--token-url, --issuer, ...).
	SourceFlag Source = "flag"
	// SourceSetting: the host's setting in the configuration file.
	SourceSetting Source = "setting"
	// SourceDiscovery: the issuer's discovery document.
	SourceDiscovery Source = "discovery"
	// SourceDefault: what a GitHub host's name implies.
	SourceDefault Source = "default"
)

// Endpoint is one endpoint of a host and where its value came from.
type Endpoint struct {
	// Key is the setting's name ("issuer", "device_code_url", ...), or
	// "jwks_uri", which only discovery gives.
	Key string `json:"key"`
	// URL is the value; "" when the host has none.
	URL string `json:"url"`
	// Source is "" when URL is "".
	Source Source `json:"source,omitempty"`
}

// Endpoints are a host's endpoints as a command uses them, with their
// sources.
type Endpoints struct {
	hosts.Endpoints
	// Host is the host they belong to.
	Host hosts.Host `json:"-"`
	// Kind is the kind of server the host is (after flags).
	Kind config.Kind `json:"-"`
	// Issuer is the OpenID Connect issuer ("" for other kinds).
	Issuer string `json:"issuer,omitempty"`
	// RevocationURL is the RFC 7009 revocation endpoint ("" when none;
	// GitHub hosts revoke through their API instead).
	RevocationURL string `json:"revocation_url,omitempty"`
	// JWKSURL is where the issuer's signing keys are ("" unless discovered).
	JWKSURL string `json:"jwks_uri,omitempty"`
	// Document is the discovery document they were read from (nil for
	// hosts without an issuer, or when it has not been read).
	Document *Document `json:"-"`
	// List is every endpoint in `ghlogin config list` order, with its
	// source: for status and config list.
	List []Endpoint `json:"endpoints"`
}

// Source returns where the endpoint named key came from ("" when the host
// has none).
func (e *Endpoints) Source(key string) Source {
	for _, p := range e.List {
		if p.Key == key {
			return p.Source
		}
	}
	return ""
}

// NeedsDiscovery reports whether the host is an OpenID Connect server whose
// discovery document is missing (see Fetcher.Discover).
func (e *Endpoints) NeedsDiscovery() bool { return e.Kind == config.KindOIDC && e.Document == nil }

// Merge returns settings with every non-empty endpoint field of flags (a
// command's --issuer, --token-url, ... as a config.Host) over it; either
// may be nil. The result is a new value: a command asks its Kind and passes
// it to Resolve.
func Merge(settings, flags *config.Host) *config.Host {
	m := &config.Host{}
	if settings != nil {
		*m = *settings
	}
	if flags == nil {
		return m
	}
	for _, p := range []struct{ dst, src *string }{
		{&m.Issuer, &flags.Issuer}, {&m.DeviceCodeURL, &flags.DeviceCodeURL}, {&m.AuthorizeURL, &flags.AuthorizeURL},
		{&m.TokenURL, &flags.TokenURL}, {&m.APIURL, &flags.APIURL}, {&m.UserInfoURL, &flags.UserInfoURL},
		{&m.RevocationURL, &flags.RevocationURL}, {&m.LoginField, &flags.LoginField},
	} {
		if *p.src != "" {
			*p.dst = *p.src
		}
	}
	return m
}

// Resolve gives h's endpoints: each from flags (a config.Host holding the
// command's endpoint flags; nil for none), else the host's settings (nil
// when it has none), else — for an OpenID Connect host — doc (nil when not
// read; a document of another issuer is ignored), else — for other hosts —
// what the host name implies (hosts.Host.Endpoints). An OpenID Connect
// host has no default endpoints, and its LoginField is "" unless set: its
// login comes from the ID token's claims (package identity).
func Resolve(h hosts.Host, settings, flags *config.Host, doc *Document) *Endpoints {
	if settings == nil {
		settings = &config.Host{}
	}
	if flags == nil {
		flags = &config.Host{}
	}
	merged := Merge(settings, flags)
	e := &Endpoints{Host: h, Kind: merged.Kind(), Issuer: merged.Issuer}
	if e.Kind == config.KindOIDC && doc != nil && doc.Issuer == merged.Issuer {
		e.Document = doc
	}
	disc := func(f func(*Document) string) string {
		if e.Document == nil {
			return ""
		}
		return f(e.Document)
	}
	derived := h.Endpoints(hosts.Endpoints{})
	def := func(v string) string {
		if e.Kind == config.KindOIDC {
			return ""
		}
		return v
	}
	add := func(key, flag, setting, discovered, deflt string) string {
		p := Endpoint{Key: key}
		switch {
		case flag != "":
			p.URL, p.Source = flag, SourceFlag
		case setting != "":
			p.URL, p.Source = setting, SourceSetting
		case discovered != "":
			p.URL, p.Source = discovered, SourceDiscovery
		case deflt != "":
			p.URL, p.Source = deflt, SourceDefault
		}
		e.List = append(e.List, p)
		return p.URL
	}
	if e.Kind == config.KindOIDC {
		add("issuer", flags.Issuer, settings.Issuer, "", "")
	}
	e.DeviceCodeURL = add("device_code_url", flags.DeviceCodeURL, settings.DeviceCodeURL,
		disc(func(d *Document) string { return d.DeviceAuthorizationEndpoint }), def(derived.DeviceCodeURL))
	e.AuthorizeURL = add("authorize_url", flags.AuthorizeURL, settings.AuthorizeURL,
		disc(func(d *Document) string { return d.AuthorizationEndpoint }), def(derived.AuthorizeURL))
	e.TokenURL = add("token_url", flags.TokenURL, settings.TokenURL,
		disc(func(d *Document) string { return d.TokenEndpoint }), def(derived.TokenURL))
	e.APIURL = strings.TrimRight(add("api_url", flags.APIURL, settings.APIURL, "", def(derived.APIURL)), "/")
	userDefault := ""
	if e.APIURL != "" {
		userDefault = def(e.APIURL + "/user")
	}
	e.UserInfoURL = add("userinfo_url", flags.UserInfoURL, settings.UserInfoURL,
		disc(func(d *Document) string { return d.UserinfoEndpoint }), userDefault)
	e.RevocationURL = add("revocation_url", flags.RevocationURL, settings.RevocationURL,
		disc(func(d *Document) string { return d.RevocationEndpoint }), "")
	if e.Kind == config.KindOIDC {
		e.JWKSURL = add("jwks_uri", "", "", disc(func(d *Document) string { return d.JWKSURI }), "")
	}
	e.LoginField = merged.LoginField
	if e.LoginField == "" && e.Kind != config.KindOIDC {
		e.LoginField = derived.LoginField
	}
	return e
}

// ResolveHost is Resolve that first reads the discovery document of an
// OpenID Connect host (settings and flags merged name an issuer) with
// Discover; res is nil for other hosts. Errors are Discover's.
func (f *Fetcher) ResolveHost(ctx context.Context, h hosts.Host, settings, flags *config.Host) (*Endpoints, *Result, error) {
	merged := Merge(settings, flags)
	if merged.Kind() != config.KindOIDC {
		return Resolve(h, settings, flags, nil), nil, nil
	}
	res, err := f.Discover(ctx, merged.Issuer)
	if err != nil {
		return nil, nil, err
	}
	return Resolve(h, settings, flags, res.Document), res, nil
}

// Lookup resolves the endpoints of the configured host named name (a key
// of file.Hosts, as config.File.Lookup takes it) without any request: an
// OpenID Connect host's come from the discovery cache in file.Dir(),
// however old; Endpoints.NeedsDiscovery reports a host whose document was
// never read (or whose cached copy may not be used). It suits what must
// not wait for the network (the git credential helper, refreshing a
// token). Errors are config.File.Lookup's, and *config.UntrustedError for
// a cache directory another user owns or could write.
func Lookup(file *config.File, name string) (*Endpoints, error) {
	h, hc, _, err := file.Lookup(name)
	if err != nil {
		return nil, err
	}
	var doc *Document
	if hc.Kind() == config.KindOIDC {
		f := &Fetcher{Dir: file.Dir()}
		if err := f.checkCache(); err != nil {
			return nil, err
		}
		if res, err := f.Cached(hc.Issuer); err == nil {
			doc = res.Document
		}
	}
	return Resolve(h, hc, nil, doc), nil
}

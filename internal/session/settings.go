package session

import (
	"strings"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/oidcdisc"
)

// Settings reads the configuration and resolves host (a --host value; ""
// is the default host) to its key there, for `config get` and `config list`.
func (s *Session) Settings(host string) (*config.File, string, error) {
	_, cfg, err := s.Config()
	if err != nil {
		return nil, "", err
	}
	h, _, err := s.ParseHost(host, cfg)
	if err != nil {
		return nil, "", err
	}
	return cfg, h.Name, nil
}

// Where a setting's value in force comes from (Effective.Source), besides
// the name of an environment variable.
const (
	// SourceConfig: the configuration file sets it.
	SourceConfig = "config"
	// SourceDefault: nothing sets it; the default applies.
	SourceDefault = "default"
	// SourceDiscovery: an OpenID Connect host's endpoint, read from its
	// issuer's discovery document (as cached; nothing is fetched).
	SourceDiscovery = "discovery"
	// SourceDiscoveryDefault: the default that applies as the discovery
	// document allows it (an OpenID Connect host's default scopes).
	SourceDiscoveryDefault = "discovery default"
)

// settingEnv are the environment variables that set a setting, and whether
// each overrides the configuration file (GHLOGIN_STORE does, as --store
// would) or only stands in when the file sets nothing (the OAuth client).
var settingEnv = map[string]struct {
	variable string
	wins     bool
}{
	"store":         {EnvStore, true},
	"client_id":     {EnvClientID, false},
	"client_secret": {EnvClientSecret, false},
}

// Effective is a setting as it is in force for a host: the value a command
// uses and where it comes from.
type Effective struct {
	// Key is the setting's name; Host is "" for a global setting.
	Key, Host string
	// Secret settings' values are for the caller to mask.
	Secret bool
	// Value is the value in force; "" when nothing sets it and there is
	// no default.
	Value string
	// Source is SourceConfig, SourceDefault, the environment variable that
	// sets it, or "" when nothing does.
	Source string
	// Shadowed is the configuration file's value when an environment
	// variable overrides it ("" otherwise).
	Shadowed string
}

// EffectiveSettings returns the settings of host (a --host value; "" is the
// default host) as commands use them, merging the configuration file, the
// environment (GHLOGIN_STORE, GHLOGIN_CLIENT_ID, GHLOGIN_CLIENT_SECRET) and
// the defaults in the order ResolveHost merges them, and the host's key in
// the file. Secret values are in clear: the caller masks them.
func (s *Session) EffectiveSettings(host string) (string, []Effective, error) {
	f, name, err := s.Settings(host)
	if err != nil {
		return "", nil, err
	}
	var out []Effective
	for _, row := range f.List(name) {
		k, err := config.LookupKey(row.Key)
		if err != nil {
			continue
		}
		e := Effective{Key: row.Key, Host: row.Host, Secret: k.Secret}
		inFile := ""
		if row.IsSet {
			if inFile, err = f.Get(name, row.Key); err != nil {
				return "", nil, err
			}
		}
		env, fromEnv := settingEnv[row.Key]
		envValue := ""
		if fromEnv {
			envValue = strings.TrimSpace(s.getenv(env.variable))
		}
		switch {
		case envValue != "" && (env.wins || inFile == ""):
			e.Value, e.Source = envValue, env.variable
			if inFile != envValue {
				e.Shadowed = inFile
			}
		case inFile != "":
			e.Value, e.Source = inFile, SourceConfig
		case row.Default != "":
			e.Value, e.Source = row.Default, SourceDefault
		}
		out = append(out, e)
	}
	s.discoveredSettings(name, out) // the host in force, also when inferred
	return name, out, nil
}

// discoveredSettings fills in what an OpenID Connect host's cached discovery
// document says for the settings that nothing else sets: its endpoints, and
// the default scopes it allows.
func (s *Session) discoveredSettings(host string, rows []Effective) {
	if host == "" {
		return
	}
	t, err := s.ResolveHost(Request{Host: host})
	if err != nil {
		return
	}
	found := map[string]string{}
	for _, ep := range t.Endpoints.List {
		if ep.Source == oidcdisc.SourceDiscovery {
			found[ep.Key] = ep.URL
		}
	}
	for i := range rows {
		r := &rows[i]
		if r.Source != SourceDefault && r.Source != "" {
			continue
		}
		switch {
		case found[r.Key] != "":
			r.Value, r.Source = found[r.Key], SourceDiscovery
		case r.Key == "scopes" && t.Kind() == config.KindOIDC && t.Endpoints.Document != nil:
			r.Value, r.Source = strings.Join(t.Scopes, ","), SourceDiscoveryDefault
		}
	}
}

// SetSetting changes key to value for host (a --host value) under the
// store's lock (config.File.Set). A host given as an http:// URL speaks
// http: that is recorded too, as a login there would, unless key is
// protocol itself or the host already has a protocol. A key or value the
// configuration refuses is returned as config.File.Set returns it (a
// *config.UnknownKeyError or *config.InvalidValueError).
func (s *Session) SetSetting(host, key, value string) error {
	st, cfg, err := s.Config()
	if err != nil {
		return err
	}
	h, _, err := s.ParseHost(host, cfg)
	if err != nil {
		return err
	}
	var setErr error
	err = st.UpdateConfig(func(f *config.File) error {
		if setErr = f.Set(h.Name, key, value); setErr != nil {
			return setErr
		}
		if h.Scheme == "http" && key != "protocol" {
			if hc := f.Hosts[h.Name]; hc != nil && hc.Protocol == "" {
				hc.Protocol = "http"
			}
		}
		return nil
	})
	if setErr != nil {
		return setErr
	}
	return err
}

// RecordScheme records that the host value names (a --host value; "" for
// the default host) speaks plain http, when it is given as an http:// URL
// and its protocol is not set yet: what a login there and SetSetting record
// too. The git helper answers git's protocol=http requests only for a host
// recorded so, so setup-git records it (a machine that borrows a login
// through an agent never logs in). It reports whether it wrote anything;
// an https host changes nothing.
func (s *Session) RecordScheme(value string) (bool, error) {
	st, cfg, err := s.Config()
	if err != nil {
		return false, err
	}
	h, _, err := s.ParseHost(value, cfg)
	if err != nil {
		return false, err
	}
	if h.Scheme != "http" {
		return false, nil
	}
	if hc := cfg.Host(h.Name); hc != nil && hc.Protocol != "" {
		return false, nil
	}
	changed := false
	err = st.UpdateConfig(func(f *config.File) error {
		hc, err := f.EnsureHost(h.Name)
		if err != nil {
			return err
		}
		if hc.Protocol == "" {
			hc.Protocol, changed = "http", true
		}
		return nil
	})
	return changed, err
}

// GitPathSet reports whether ghlogin setup-git set git's useHttpPath for
// the host (config.Host.GitPathSet).
func (s *Session) GitPathSet(host string) (bool, error) {
	_, cfg, err := s.Config()
	if err != nil {
		return false, err
	}
	hc := cfg.Host(host)
	return hc != nil && hc.GitPathSet, nil
}

// RecordGitPath records whether ghlogin setup-git set git's useHttpPath
// for the host (config.Host.GitPathSet), so that setup-git --unset removes
// only a setting it made.
func (s *Session) RecordGitPath(host string, set bool) error {
	st, _, err := s.Config()
	if err != nil {
		return err
	}
	return st.UpdateConfig(func(f *config.File) error {
		if !set {
			hc := f.Host(host)
			if hc == nil {
				return nil
			}
			hc.GitPathSet = false
			if hc.IsEmpty() {
				for name, h := range f.Hosts {
					if h == hc {
						delete(f.Hosts, name)
					}
				}
			}
			return nil
		}
		hc, err := f.EnsureHost(host)
		if err != nil {
			return err
		}
		hc.GitPathSet = true
		return nil
	})
}

package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/safe"
)

// Key describes one setting that `ghlogin config get|set|list` handles.
type Key struct {
	// Name is the key as `ghlogin config` and config.toml spell it.
	Name string
	// Global keys apply to every host; the others are per host.
	Global bool
	// Secret values are masked by List and never repeated in errors.
	Secret bool
	// Help says what the setting does and which values it takes.
	Help string
	// Example is a valid value, written as Get returns it.
	Example string
	// Values are the values the key takes, when they are a fixed set (in
	// their canonical spelling); nil for free text, URLs and numbers.
	Values []string
}

// Keys lists every setting, per-host keys first, then global ones.
func Keys() []Key {
	out := make([]Key, len(settings))
	for i, s := range settings {
		out[i] = s.Key
	}
	return out
}

// KeyNames returns the settings' names in Keys order.
func KeyNames() []string { return keyNames(func(Key) bool { return true }) }

// HostKeys returns the names of the per-host settings, in Keys order.
func HostKeys() []string { return keyNames(func(k Key) bool { return !k.Global }) }

// GlobalKeys returns the names of the global settings, in Keys order.
func GlobalKeys() []string { return keyNames(func(k Key) bool { return k.Global }) }

func keyNames(keep func(Key) bool) []string {
	var names []string
	for _, s := range settings {
		if keep(s.Key) {
			names = append(names, s.Name)
		}
	}
	return names
}

// LookupKey finds a setting by name; an unknown name gives *UnknownKeyError.
func LookupKey(name string) (Key, error) {
	s, err := lookup(name)
	if err != nil {
		return Key{}, err
	}
	return s.Key, nil
}

// UnknownKeyError is a setting name ghlogin does not know.
type UnknownKeyError struct {
	Key   string
	Valid []string
}

// Error says what went wrong and what to do.
func (e *UnknownKeyError) Error() string {
	return fmt.Sprintf("unknown setting %q; valid settings: %s", e.Key, strings.Join(e.Valid, ", "))
}

// InvalidValueError is a value a setting does not accept. For secret
// settings neither the value nor the cause is kept, so the value never
// reaches a message.
type InvalidValueError struct {
	Key    string
	Value  string
	Reason string
	// Err is the cause, such as a *URLError for an endpoint setting.
	Err error
}

// Error says what went wrong and what to do.
func (e *InvalidValueError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("invalid value for %s: %s", e.Key, e.Reason)
	}
	return fmt.Sprintf("invalid value %q for %s: %s", e.Value, e.Key, e.Reason)
}

// Unwrap returns the cause.
func (e *InvalidValueError) Unwrap() error { return e.Err }

// Setting is one row of List.
type Setting struct {
	// Host is "" for global settings.
	Host string `json:"host,omitempty"`
	Key  string `json:"key"`
	// Value is the stored value ("" when unset); secret values are masked.
	Value string `json:"value"`
	// IsSet reports whether the file sets the key.
	IsSet bool `json:"set"`
	// Default is what applies when the key is unset ("" when nothing does).
	Default string `json:"default,omitempty"`
}

// Mask is what List shows instead of a secret value.
const Mask = "********"

// Get returns the value the file sets for key ("" when unset). Per-host keys
// read host's settings (host "" means github.com); global keys ignore host.
// The value of a secret key is returned in clear: the caller decides whether
// to show it.
func (f *File) Get(host, key string) (string, error) {
	s, err := lookup(key)
	if err != nil {
		return "", err
	}
	if s.Global {
		return s.get(scope{file: f}), nil
	}
	hp, err := hosts.Parse(host)
	if err != nil {
		return "", err
	}
	return s.get(f.scope(hp, f.Hosts[hp.Name])), nil
}

// scope returns the scope of a per-host setting of hp, whose entry is h
// (nil when the file names no such host).
func (f *File) scope(hp hosts.Host, h *Host) scope {
	if h == nil {
		h = &Host{}
	}
	if h.Protocol != "" {
		hp.Scheme = h.Protocol
	}
	return scope{file: f, host: h, name: hp}
}

// Set validates value and stores it under key; an empty value removes the
// setting. Per-host keys change host's settings (host "" means github.com;
// the entry is created when missing); global keys ignore host. Errors are
// *UnknownKeyError, *InvalidValueError or *hosts.Error.
func (f *File) Set(host, key, value string) error {
	s, err := lookup(key)
	if err != nil {
		return err
	}
	value = strings.TrimSpace(value)
	if s.Global {
		return s.apply(scope{file: f}, value)
	}
	hp, err := hosts.Parse(host)
	if err != nil {
		return err
	}
	h := f.Hosts[hp.Name]
	if h == nil {
		h = &Host{}
	}
	if err := s.apply(scope{file: f, host: h, name: hp}, value); err != nil {
		return err
	}
	if f.Hosts == nil {
		f.Hosts = map[string]*Host{}
	}
	if !h.IsEmpty() {
		f.Hosts[hp.Name] = h
	} else {
		delete(f.Hosts, hp.Name)
	}
	return nil
}

// apply sets value ("" unsets), wrapping a refusal in *InvalidValueError.
func (s *setting) apply(sc scope, value string) error {
	if value == "" {
		s.unset(sc)
		return nil
	}
	if err := s.set(sc, value); err != nil {
		e := &InvalidValueError{Key: s.Name, Value: value, Reason: err.Error(), Err: err}
		var ue *safe.URLError
		if errors.As(err, &ue) && ue.Problem == safe.UserInfo {
			e.Value = "" // it may hold a password
		}
		if s.Secret {
			e.Value, e.Err = "", nil
		}
		return e
	}
	return nil
}

// Unset removes key's setting (the same as Set with an empty value).
func (f *File) Unset(host, key string) error { return f.Set(host, key, "") }

// HasSettings reports whether h holds any setting besides its accounts.
func (h *Host) HasSettings() bool {
	if h == nil {
		return false
	}
	for _, s := range settings {
		if !s.Global && s.get(scope{host: h}) != "" {
			return true
		}
	}
	return false
}

// List returns settings for display. With a host, it returns the global
// settings and every per-host key of that host, set or not, with defaults.
// With host "", it returns the global settings and the keys each configured
// host sets. Secret values are masked. A host name that is not valid gives
// the global settings only.
func (f *File) List(host string) []Setting {
	var out []Setting
	for _, s := range settings {
		if s.Global {
			out = append(out, s.row(scope{file: f}))
		}
	}
	if host == "" {
		for _, name := range f.HostNames() {
			hp, err := hosts.Parse(name)
			if err != nil {
				continue
			}
			sc := f.scope(hp, f.Hosts[name])
			for _, s := range settings {
				if !s.Global && s.get(sc) != "" {
					out = append(out, s.row(sc))
				}
			}
		}
		return out
	}
	hp, err := hosts.Parse(host)
	if err != nil {
		return out
	}
	sc := f.scope(hp, f.Hosts[hp.Name])
	for _, s := range settings {
		if !s.Global {
			out = append(out, s.row(sc))
		}
	}
	return out
}

// row is s's List row in sc.
func (s *setting) row(sc scope) Setting {
	v := s.get(sc)
	r := Setting{Key: s.Name, Value: v, IsSet: v != "", Default: s.def(sc)}
	if !s.Global {
		r.Host = sc.name.Name
	}
	if s.Secret && v != "" {
		r.Value = Mask
	}
	return r
}

// SortedSettings orders settings by host ("" first) then Keys order.
func SortedSettings(s []Setting) {
	order := map[string]int{}
	for i, k := range settings {
		order[k.Name] = i
	}
	sort.SliceStable(s, func(i, j int) bool {
		if s[i].Host != s[j].Host {
			return s[i].Host < s[j].Host
		}
		return order[s[i].Key] < order[s[j].Key]
	})
}

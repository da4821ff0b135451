package session

import (
	"github.com/ghlogin/ghlogin/internal/config"
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

package gitcred

import (
	"context"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
)

// RefreshStore is what StoreRefresher needs: the helper's Store plus the
// refresh package's (*store.Store satisfies both).
type RefreshStore interface {
	refresh.Store
	Config() (*config.File, error)
}

// StoreRefresher returns a RefreshFunc that refreshes a token due within
// refresh.DefaultSkew with refresh.Token, taking the token endpoint and the
// OAuth app from the host's configuration (see refresh.OptionsFor). A token
// that is not due costs no configuration read, lock or request. client and
// clk may be nil (defaults); getenv may be nil (os.Getenv is not read then).
func StoreRefresher(st RefreshStore, client *oauth.Client, clk clock.Clock, getenv func(string) string) RefreshFunc {
	if clk == nil {
		clk = clock.Real{}
	}
	return func(ctx context.Context, a store.Account, sec *store.Secret) (*store.Secret, error) {
		if !refresh.Due(sec, clk.Now(), refresh.DefaultSkew) {
			return sec, nil
		}
		file, err := st.Config()
		if err != nil {
			return nil, err
		}
		opts, err := refresh.OptionsFor(file, a.Host, getenv)
		if err != nil {
			return nil, err
		}
		opts.Client, opts.Clock, opts.Current = client, clk, sec
		return refresh.Token(ctx, st, a, opts)
	}
}

// APIChecker returns a CheckFunc that calls the host's user info endpoint
// (GitHub: GET /user on the API) with the token, as configured for the host.
// api may be nil (a default client).
func APIChecker(st interface {
	Config() (*config.File, error)
}, api *githubapi.Client) CheckFunc {
	if api == nil {
		api = &githubapi.Client{Timeout: CheckTimeout}
	}
	return func(ctx context.Context, host, token string) error {
		file, err := st.Config()
		if err != nil {
			return err
		}
		_, _, ep, err := file.Lookup(host)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, CheckTimeout+time.Second)
		defer cancel()
		_, err = api.GetUser(ctx, ep.UserInfoURL, ep.LoginField, token)
		return err
	}
}

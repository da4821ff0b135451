package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/hint"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/store"
)

// accountStatus is one account in `status` output.
type accountStatus struct {
	Login     string     `json:"login"`
	Active    bool       `json:"active"`
	Store     string     `json:"store"`
	Scopes    []string   `json:"scopes"`
	TokenType string     `json:"token_type,omitempty"`
	ExpiresAt *time.Time `json:"expires_at"`
	// State is valid, invalid, unreachable, expired, or unchecked (--offline).
	State string `json:"state"`
	Error string `json:"error,omitempty"`
}

// hostStatus is one host in `status` output.
type hostStatus struct {
	Host string `json:"host"`
	// EnvToken names the environment variable whose token is used instead of
	// the stored ones, or is null.
	EnvToken *string         `json:"env_token"`
	Accounts []accountStatus `json:"accounts"`
}

func (a *app) statusCmd() *cobra.Command {
	var hostFlag string
	var asJSON, offline bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every host and account, and whether the API still accepts each token",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.status(cmd.Context(), hostFlag, asJSON, offline)
		},
	}
	cmd.Flags().StringVar(&hostFlag, "host", "", "only this host")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	cmd.Flags().BoolVar(&offline, "offline", false, "do not check the tokens with the API")
	return cmd
}

func (a *app) status(ctx context.Context, hostFlag string, asJSON, offline bool) error {
	st, err := a.store()
	if err != nil {
		return err
	}
	cfg, err := st.Config()
	if err != nil {
		return err
	}
	filter := ""
	if hostFlag != "" {
		h, _, err := a.parseHost(hostFlag, cfg)
		if err != nil {
			return err
		}
		filter = h.Name
	}
	accts, err := st.Accounts(filter)
	if err != nil {
		return err
	}
	byHost := map[string]*hostStatus{}
	var order []string
	addHost := func(name string) *hostStatus {
		if hs, ok := byHost[name]; ok {
			return hs
		}
		hs := &hostStatus{Host: name, Accounts: []accountStatus{}}
		byHost[name] = hs
		order = append(order, name)
		return hs
	}
	for _, ac := range accts {
		addHost(ac.Host)
	}
	// Environment tokens are reported even for hosts with no stored account.
	for _, name := range []string{"github.com", filter} {
		if name == "" || (filter != "" && name != filter) {
			continue
		}
		h, _, err := a.parseHost(name, cfg)
		if err != nil {
			continue
		}
		if _, v := a.envToken(h); v != "" {
			hs := addHost(h.Name)
			vv := v
			hs.EnvToken = &vv
		}
	}
	for _, name := range order {
		if byHost[name].EnvToken != nil {
			continue
		}
		h, _, err := a.parseHost(name, cfg)
		if err == nil {
			if _, v := a.envToken(h); v != "" {
				vv := v
				byHost[name].EnvToken = &vv
			}
		}
	}
	sort.Strings(order)

	results := make([]accountStatus, len(accts))
	var wg sync.WaitGroup
	for i, ac := range accts {
		results[i] = accountStatus{Login: ac.Login, Active: ac.Active, Store: ac.Store, Scopes: ac.Scopes, TokenType: ac.TokenType, State: "unchecked"}
		if results[i].Scopes == nil {
			results[i].Scopes = []string{}
		}
		if !ac.ExpiresAt.IsZero() {
			t := ac.ExpiresAt
			results[i].ExpiresAt = &t
		}
		if offline {
			continue
		}
		wg.Add(1)
		go func(i int, ac store.Account) {
			defer wg.Done()
			state, msg := a.checkAccount(ctx, st, ac)
			results[i].State, results[i].Error = state, msg
		}(i, ac)
	}
	wg.Wait()
	invalid := false
	for i, ac := range accts {
		byHost[ac.Host].Accounts = append(byHost[ac.Host].Accounts, results[i])
		if results[i].State == "invalid" {
			invalid = true
		}
	}

	doc := struct {
		Hosts []*hostStatus `json:"hosts"`
	}{Hosts: []*hostStatus{}}
	for _, name := range order {
		doc.Hosts = append(doc.Hosts, byHost[name])
	}
	if asJSON {
		enc := json.NewEncoder(a.env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
	} else {
		a.printStatus(doc.Hosts)
	}
	switch {
	case len(doc.Hosts) == 0:
		where := "any host"
		if filter != "" {
			where = filter
		}
		if !asJSON {
			fmt.Fprintf(a.env.Stderr, "Not logged in to %s. Run: ghlogin login\n", where)
		}
		return &reportedError{code: ExitAuth, err: &store.NotLoggedInError{Host: where}}
	case invalid:
		return &reportedError{code: ExitFailure, err: fmt.Errorf("an account's token is no longer valid")}
	}
	return nil
}

// checkAccount asks the API whether an account's token still works.
func (a *app) checkAccount(ctx context.Context, st *store.Store, ac store.Account) (state, msg string) {
	sec, err := st.Secret(ctx, ac)
	var ku *store.KeyringUnavailableError
	switch {
	case errors.As(err, &ku):
		// The keyring could not be asked: nothing is known about the token.
		return "unreachable", hint.Explain(err)
	case err != nil:
		return "invalid", hint.Explain(err)
	}
	now := a.now()
	if !sec.ExpiresAt.IsZero() && now.After(sec.ExpiresAt) {
		if sec.RefreshToken != "" && (sec.RefreshTokenExpiresAt.IsZero() || now.Before(sec.RefreshTokenExpiresAt)) {
			return "expired", "the token expired; it will be refreshed when next used"
		}
		return "invalid", fmt.Sprintf("the token expired and cannot be refreshed; run: ghlogin login --host %s", ac.Host)
	}
	hs, err := a.settings(ac.Host, "", nil, "")
	if err != nil {
		return "unreachable", hint.Explain(err)
	}
	_, err = a.apiClient(10*time.Second).GetUser(ctx, hs.endpoints.UserInfoURL, hs.endpoints.LoginField, sec.Token)
	switch {
	case err == nil:
		return "valid", ""
	case githubapi.IsUnauthorized(err):
		return "invalid", fmt.Sprintf("revoked or expired (HTTP 401); run: ghlogin login --host %s", ac.Host)
	}
	return "unreachable", hint.Explain(err)
}

func (a *app) printStatus(hostsList []*hostStatus) {
	w := a.env.Stdout
	for i, h := range hostsList {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, h.Host)
		if h.EnvToken != nil {
			fmt.Fprintf(w, "  ! %s is set: it is used instead of any stored token\n", *h.EnvToken)
		}
		for _, ac := range h.Accounts {
			mark := map[string]string{"valid": "✓", "invalid": "✗", "unreachable": "?", "expired": "~", "unchecked": "-"}[ac.State]
			active := ""
			if ac.Active {
				active = " (active)"
			}
			fmt.Fprintf(w, "  %s %s%s\n", mark, ac.Login, active)
			fmt.Fprintf(w, "      store: %s\n", ac.Store)
			scopes := strings.Join(ac.Scopes, ", ")
			if scopes == "" {
				scopes = "none"
			}
			fmt.Fprintf(w, "      scopes: %s\n", scopes)
			if ac.ExpiresAt != nil {
				fmt.Fprintf(w, "      expires: %s\n", ac.ExpiresAt.Local().Format(time.RFC3339))
			}
			state := ac.State
			if ac.Error != "" {
				state += ": " + ac.Error
			}
			fmt.Fprintf(w, "      token: %s\n", state)
		}
	}
}

// currentToken returns the token to use for host and user: an environment
// token first (unless a user is named), else the stored one, refreshed when
// it expires within 5 minutes.
func (a *app) currentToken(ctx context.Context, hs *hostSettings, user string) (string, error) {
	if user == "" {
		if tok, _ := a.envToken(hs.host); tok != "" {
			return tok, nil
		}
	}
	st, _ := a.store()
	ac, err := st.Resolve(hs.host.Name, user)
	if err != nil {
		return "", err
	}
	sec, err := refresh.Token(ctx, st, ac, a.refreshOptions(hs))
	if err != nil {
		return "", err
	}
	return sec.Token, nil
}

// refreshOptions configures token refresh for a host.
func (a *app) refreshOptions(hs *hostSettings) refresh.Options {
	return refresh.Options{
		Client:      a.oauthClient(),
		TokenURL:    hs.endpoints.TokenURL,
		Credentials: hs.creds,
		Clock:       a.env.Clock,
	}
}

// accountCmd builds a command that acts on one account of one host (--host,
// --user), such as logout and switch.
func (a *app) accountCmd(use, short, userHelp string, run func(ctx context.Context, hs *hostSettings, st *store.Store, user string) error) *cobra.Command {
	var hostFlag, user string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			hs, err := a.settings(hostFlag, "", nil, "")
			if err != nil {
				return err
			}
			st, err := a.store()
			if err != nil {
				return err
			}
			return run(cmd.Context(), hs, st, user)
		},
	}
	cmd.Flags().StringVar(&hostFlag, "host", "github.com", "host name or URL")
	cmd.Flags().StringVar(&user, "user", "", userHelp)
	return cmd
}

func (a *app) tokenCmd() *cobra.Command {
	return a.accountCmd("token", "Print the token (refreshed first if it expires within 5 minutes)", "account login (default: the active account)",
		func(ctx context.Context, hs *hostSettings, st *store.Store, user string) error {
			tok, err := a.currentToken(ctx, hs, user)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.env.Stdout, tok)
			return err
		})
}

func (a *app) logoutCmd() *cobra.Command {
	return a.accountCmd("logout", "Remove an account and its secret", "account login (default: the active account)",
		func(ctx context.Context, hs *hostSettings, st *store.Store, user string) error {
			ac, err := st.Resolve(hs.host.Name, user)
			if err != nil {
				return err
			}
			next, err := st.Remove(ctx, ac.Host, ac.Login)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stderr, "Logged out of %s as %s\n", ac.Host, ac.Login)
			if next != "" {
				fmt.Fprintf(a.env.Stderr, "Active account for %s is now %s\n", ac.Host, next)
			}
			if _, name := a.envToken(hs.host); name != "" {
				fmt.Fprintf(a.env.Stderr, "note: %s is still set and is still used for %s\n", name, hs.host.Name)
			}
			return nil
		})
}

func (a *app) switchCmd() *cobra.Command {
	return a.accountCmd("switch", "Make another stored account the active one", "account login (default: the next account)",
		func(ctx context.Context, hs *hostSettings, st *store.Store, user string) error {
			ac, err := st.Switch(hs.host.Name, user)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stderr, "Switched %s to %s\n", ac.Host, ac.Login)
			return nil
		})
}

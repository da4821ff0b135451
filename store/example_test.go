package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/ghlogin/ghlogin/store"
)

// Keep a token for an account, find the active account again, and read its
// secret. The file backend keeps the secret in credentials.json (0600);
// BackendKeyring would put it in the OS keyring.
func Example() {
	dir, err := os.MkdirTemp("", "store-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	st, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	sec := &store.Secret{Token: "gho_16C7e42F292c6912E7710c838347Ae178B4a", TokenType: "bearer", Scopes: []string{"repo"}}
	if err := st.Save(ctx, "github.com", "octocat", store.BackendFile, sec); err != nil {
		fmt.Println(err)
		return
	}

	a, err := st.Resolve("github.com", "") // "" is the host's active account
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.Host, a.Login, a.Active, a.Store, a.Scopes)
	got, err := st.Secret(ctx, a)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got.Token == sec.Token)

	// An account that does not exist is a *NotLoggedInError.
	_, err = st.Resolve("ghe.example.com", "")
	var nl *store.NotLoggedInError
	fmt.Println(errors.As(err, &nl), nl.Host)
	// Output:
	// github.com octocat true file [repo]
	// true
	// true ghe.example.com
}

package store_test

import (
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/store/oskeyring"
)

// The tests that use a real Secret Service reach it through package
// oskeyring, as ghlogin does.
func init() { store.SetOSKeyring(oskeyring.Keyring{}) }

package store

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/store/storetest"
)

func replaceFixture(t *testing.T) *Store {
	t.Helper()
	s, err := Open(Options{Dir: filepath.Join(t.TempDir(), "ghlogin"), Keyring: storetest.NewMemKeyring(), KeyringTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	bg := context.Background()
	for _, a := range []struct{ login, backend string }{{"kr", BackendKeyring}, {"file", BackendFile}, {"active", BackendFile}} {
		if err := s.Save(bg, "ghe.example.com", a.login, a.backend, &Secret{Token: "old-" + a.login}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestResolveInSecretInMatch(t *testing.T) {
	s := replaceFixture(t)
	bg := context.Background()
	cfg, err := s.Config()
	if err != nil {
		t.Fatal(err)
	}
	for _, login := range []string{"", "kr", "file", "nobody"} {
		a1, err1 := s.Resolve("ghe.example.com", login)
		a2, err2 := s.ResolveIn(cfg, "ghe.example.com", login)
		if !reflect.DeepEqual(a1, a2) || !reflect.DeepEqual(err1, err2) {
			t.Fatalf("%q: %+v %v / %+v %v", login, a1, err1, a2, err2)
		}
		if err1 != nil {
			continue
		}
		s1, err1 := s.Secret(bg, a1)
		s2, err2 := s.SecretIn(bg, cfg, a2)
		if !reflect.DeepEqual(s1, s2) || err1 != nil || err2 != nil {
			t.Fatalf("%q: secrets differ", login)
		}
	}
	// A secret missing from its backend: the same *NotLoggedInError.
	kr := s.opts.Keyring
	if err := kr.Delete(Service("ghe.example.com"), "kr"); err != nil {
		t.Fatal(err)
	}
	a, _ := s.ResolveIn(cfg, "ghe.example.com", "kr")
	_, err1 := s.Secret(bg, a)
	_, err2 := s.SecretIn(bg, cfg, a)
	if !reflect.DeepEqual(err1, err2) || !errors.Is(err2, ErrNotFound) {
		t.Fatalf("%v / %v", err1, err2)
	}
	if _, err := s.ResolveIn(nil, "ghe.example.com", ""); err == nil {
		t.Fatal("nil config resolved an account")
	}
}

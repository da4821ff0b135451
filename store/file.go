package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"

	"github.com/ghlogin/ghlogin/internal/config"
)

// CredentialsFile is the file store's name inside the config directory.
const CredentialsFile = "credentials.json"

// Credentials is the content of credentials.json: host → login → secret.
type Credentials map[string]map[string]*Secret

// fileBackend is the "file" Backend: every secret in credentials.json, mode
// 0600. Writes happen only under the store lock and are atomic; reads need
// no lock.
type fileBackend struct {
	dir, path string
	// write replaces the file; tests make it fail.
	write func(path string, data []byte) error
}

func newFileBackend(dir string) *fileBackend {
	return &fileBackend{dir: dir, path: filepath.Join(dir, CredentialsFile), write: defaultWrite}
}

func defaultWrite(path string, data []byte) error { return config.WriteFileAtomic(path, data) }

// Name returns "file".
func (fb *fileBackend) Name() string { return BackendFile }

// Get returns host/login's secret from the file.
func (fb *fileBackend) Get(_ context.Context, host, login string) (*Secret, error) {
	c, err := fb.read()
	if err != nil {
		return nil, err
	}
	sec := c.get(host, login)
	switch {
	case sec == nil:
		return nil, ErrNotFound
	case sec.Token == "":
		return nil, &CorruptSecretError{Host: host, Login: login, Store: BackendFile}
	}
	return sec, nil
}

// Set writes host/login's secret into the file.
func (fb *fileBackend) Set(_ context.Context, host, login string, sec *Secret) error {
	c, err := fb.read()
	if err != nil {
		return err
	}
	c.put(host, login, sec)
	return fb.save(c)
}

// Delete removes host/login's secret from the file; ErrNotFound when it
// held none (the file is then left untouched).
func (fb *fileBackend) Delete(_ context.Context, host, login string) error {
	c, err := fb.read()
	if err != nil {
		return err
	}
	if c.get(host, login) == nil {
		return ErrNotFound
	}
	c.put(host, login, nil)
	return fb.save(c)
}

// Probe checks that the config directory exists or can be created, and that
// an existing credentials.json is readable, valid and private
// (*InsecureFileError, *CorruptFileError otherwise).
func (fb *fileBackend) Probe(context.Context) error {
	if err := config.EnsureDir(fb.dir); err != nil {
		return err
	}
	if _, err := os.Stat(fb.dir); err != nil {
		return err
	}
	_, err := fb.read()
	return err
}

// read returns the file's content; a missing file is empty.
func (fb *fileBackend) read() (Credentials, error) {
	f, err := os.Open(fb.path)
	if errors.Is(err, fs.ErrNotExist) {
		return Credentials{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", fb.path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", fb.path, err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return nil, &InsecureFileError{Path: fb.path, Mode: st.Mode()}
	}
	// Like the config file, it must be the user's: a file another user
	// owns could have been planted (*UntrustedError).
	if err := config.CheckFile(fb.path, st, true); err != nil {
		return nil, err
	}
	var c Credentials
	dec := json.NewDecoder(f)
	if err := dec.Decode(&c); err != nil {
		return nil, &CorruptFileError{Path: fb.path}
	}
	if dec.More() {
		return nil, &CorruptFileError{Path: fb.path}
	}
	if c == nil {
		c = Credentials{}
	}
	return c, nil
}

// save writes c atomically (temporary file, fsync, rename, fsync of the
// directory), mode 0600. The caller holds the store lock.
func (fb *fileBackend) save(c Credentials) error {
	for host, m := range c {
		for login, sec := range m {
			if sec == nil {
				delete(m, login)
			}
		}
		if len(m) == 0 {
			delete(c, host)
		}
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	return fb.write(fb.path, data)
}

func (c Credentials) get(host, login string) *Secret {
	if m := c[host]; m != nil {
		if sec := m[login]; sec != nil {
			cp := *sec
			return &cp
		}
	}
	return nil
}

func (c Credentials) put(host, login string, sec *Secret) {
	if sec == nil {
		if m := c[host]; m != nil {
			delete(m, login)
		}
		return
	}
	if c[host] == nil {
		c[host] = map[string]*Secret{}
	}
	cp := *sec
	c[host][login] = &cp
}

// Logins lists the accounts in c as "host/login", sorted (for tests and
// diagnostics; it holds no secret).
func (c Credentials) Logins() []string {
	var out []string
	for h, m := range c {
		for l := range m {
			out = append(out, h+"/"+l)
		}
	}
	sort.Strings(out)
	return out
}

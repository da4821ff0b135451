package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"sort"

	"github.com/ghlogin/ghlogin/internal/config"
)

// Credentials is the content of credentials.json: host → login → secret.
type Credentials map[string]map[string]*Secret

// InsecureFileError means credentials.json can be read or written by other
// users. ghlogin refuses to use it (as ssh does with private keys) until the
// user has fixed the mode, because the tokens in it may have been exposed.
type InsecureFileError struct {
	Path string
	Mode fs.FileMode
}

// Error says what went wrong and what to do.
func (e *InsecureFileError) Error() string {
	return fmt.Sprintf("%s is accessible by other users (mode %04o), so the tokens in it may have been exposed; run: chmod 600 %s (and consider revoking those tokens)", e.Path, e.Mode.Perm(), e.Path)
}

// CorruptFileError means credentials.json is not valid. ghlogin never
// overwrites it then, since that would lose the tokens it may still hold.
type CorruptFileError struct {
	Path string
}

// Error says what went wrong and what to do.
func (e *CorruptFileError) Error() string {
	return fmt.Sprintf("%s is not a valid credentials file; ghlogin will not overwrite it: move it away, then log in again", e.Path)
}

// fileBackend keeps secrets in credentials.json. Writes happen only under
// the store lock and are atomic; reads need no lock.
type fileBackend struct {
	path  string
	write func(path string, data []byte) error
}

// read returns the file's content; a missing file is empty.
func (fb fileBackend) read() (Credentials, error) {
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
func (fb fileBackend) save(c Credentials) error {
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
		return m[login]
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

func defaultWrite(path string, data []byte) error { return config.WriteFileAtomic(path, data) }

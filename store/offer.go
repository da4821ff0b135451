package store

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// StoreInfo describes a backend for people choosing one, for status lines
// and for the line that ends a login: what it protects the token against,
// and how long the token lives there.
type StoreInfo struct {
	// Name is the backend's name: "keyring", "kernel" or "file" (what
	// --store and the index take).
	Name string
	// Place names it in a sentence: "the OS keyring", "the kernel keyring",
	// or the credentials file's path.
	Place string
	// Protection says in one line what keeps the token from others, e.g.
	// "in memory only, never written to disk; only you can read it".
	Protection string
	// Lifetime says how long the token stays there, e.g. "until the
	// machine restarts, or after 3 days unused".
	Lifetime string
	// PlaintextAtRest is true when the token is written to disk
	// unencrypted (the file store): status says "plaintext at rest".
	PlaintextAtRest bool
	// Volatile is true when the backend forgets the token on its own (the
	// kernel keyring, after a restart or idle expiry).
	Volatile bool
}

// String is the one-line description: "kernel keyring: in memory only, …;
// kept until the machine restarts, or after 3 days unused".
func (i StoreInfo) String() string {
	return strings.TrimPrefix(i.Place, "the ") + ": " + i.Protection + "; kept " + i.Lifetime
}

// Offer is a backend as a login may offer it: its description, and why it
// cannot be used here (Err nil when it can).
type Offer struct {
	StoreInfo
	// Err is Probe's error: a *KeyringUnavailableError (wrapping a
	// *NoKeyringServiceError where there is no keyring service), a
	// *KernelKeyringUnavailableError, or a file store error such as
	// *InsecureFileError.
	Err error
}

// Usable reports whether the backend can take a token here.
func (o Offer) Usable() bool { return o.Err == nil }

// offerOrder is the order backends are offered in: the OS keyring where a
// Secret Service (or Keychain, Credential Manager) answers, then the kernel
// keyring (where there is no desktop, it comes first), the file last.
var offerOrder = []string{BackendKeyring, BackendKernel, BackendFile}

// Offers probes the keyring, kernel and file backends (at once, each bounded
// by ctx and, for the keyring, by its timeout; nothing is written) and
// returns them in the order to offer them: usable ones first, keyring,
// kernel, file, then the unusable ones in the same order with Err saying
// why. Backends added through Options.Backends under other names (such as
// read-only ones) are not offered.
func (s *Store) Offers(ctx context.Context) []Offer {
	out := make([]Offer, len(offerOrder))
	var wg sync.WaitGroup
	for i, name := range offerOrder {
		out[i].StoreInfo = s.Describe(name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i].Err = s.Probe(ctx, name)
		}()
	}
	wg.Wait()
	usable := make([]Offer, 0, len(out))
	var rest []Offer
	for _, o := range out {
		if o.Usable() {
			usable = append(usable, o)
		} else {
			rest = append(rest, o)
		}
	}
	return append(usable, rest...)
}

// Describe returns what people are told about the backend name: where the
// token is, what protects it and how long it stays. A name the store does
// not know gets a description that says only where.
func (s *Store) Describe(name string) StoreInfo {
	switch name {
	case BackendKeyring:
		return StoreInfo{
			Name:       name,
			Place:      "the OS keyring",
			Protection: "encrypted at rest by your desktop's keyring; other users, and programs that read your files, cannot get it",
			Lifetime:   "until you log out or the token is revoked",
		}
	case BackendKernel:
		return StoreInfo{
			Name:       name,
			Place:      "the kernel keyring",
			Protection: "in memory only, never written to disk; only you can read it",
			Lifetime:   "until the machine restarts, or " + kernelIdleText() + " unused",
			Volatile:   true,
		}
	case BackendFile:
		return StoreInfo{
			Name:            name,
			Place:           s.CredentialsPath(),
			Protection:      "plaintext at rest, in a file only you can read (mode 0600); anyone with your files or the disk can read it",
			Lifetime:        "until you log out or the token is revoked",
			PlaintextAtRest: true,
		}
	}
	return StoreInfo{Name: name, Place: "the " + place(name), Protection: "kept by " + name, Lifetime: "as long as " + name + " keeps it"}
}

// kernelExpiryFile holds the idle lifetime of persistent keyrings, in
// seconds (keyrings(7), persistent-keyring(7)).
const kernelExpiryFile = "/proc/sys/kernel/keys/persistent_keyring_expiry"

// kernelIdleText is the persistent keyring's idle lifetime for a sentence:
// "after 3 days" (the kernel's default is 259200 s), or "when the kernel's
// idle timeout passes" where it cannot be read.
func kernelIdleText() string {
	b, err := os.ReadFile(kernelExpiryFile)
	if err != nil {
		return "when the kernel's idle timeout passes"
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 {
		return "when the kernel's idle timeout passes"
	}
	return "after " + humanDuration(time.Duration(n)*time.Second)
}

// humanDuration says d in the largest whole unit that fits: "3 days",
// "12 hours", "90 minutes"; odd values are given in the next smaller unit.
func humanDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return plural(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute")
	}
	return plural(int64(d/time.Second), "second")
}

package store

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/store/storetest"
)

func offerNames(offers []Offer) []string {
	var out []string
	for _, o := range offers {
		n := o.Name
		if !o.Usable() {
			n += "(unusable)"
		}
		out = append(out, n)
	}
	return out
}

// unavailableKernel is a kernel backend that the kernel refuses, as in a
// container.
func unavailableKernel() Backend {
	kb := newKernelBackend()
	kb.sys.persistent = func() (int, error) { return 0, errors.New("blocked") }
	kb.sys.classify = func(op string, err error) error {
		return &KernelKeyringUnavailableError{Op: op, Reason: "blocked", Err: err}
	}
	return kb
}

func TestOffersOrder(t *testing.T) {
	kernelWorks := newKernelBackend().Probe(ctx) == nil
	if !kernelWorks {
		skipOrFail(t, "the kernel keyring is not usable here")
	}
	broken := storetest.NewMemKeyring()
	broken.FailWith("get", &NoKeyringServiceError{Reason: "no D-Bus session bus"})
	for _, tc := range []struct {
		name string
		kr   Keyring
		more []Backend
		want string
	}{
		{"desktop", storetest.NewMemKeyring(), nil, "keyring kernel file"},
		{"server", broken, nil, "kernel file keyring(unusable)"},
		{"container", broken, []Backend{unavailableKernel()}, "file keyring(unusable) kernel(unusable)"},
		{"desktop in a container", storetest.NewMemKeyring(), []Backend{unavailableKernel()}, "keyring file kernel(unusable)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(Options{Dir: t.TempDir(), Keyring: tc.kr, KeyringTimeout: time.Second, Backends: tc.more})
			if err != nil {
				t.Fatal(err)
			}
			offers := s.Offers(ctx)
			if got := strings.Join(offerNames(offers), " "); got != tc.want {
				t.Fatalf("offers %s, want %s", got, tc.want)
			}
			for _, o := range offers {
				if o.Name == BackendKeyring && !o.Usable() {
					var ku *KeyringUnavailableError
					var ns *NoKeyringServiceError
					if !errors.As(o.Err, &ku) || !errors.As(o.Err, &ns) {
						t.Errorf("keyring: %v", o.Err)
					}
				}
				if o.Name == BackendKernel && !o.Usable() {
					var ku *KernelKeyringUnavailableError
					if !errors.As(o.Err, &ku) {
						t.Errorf("kernel: %v", o.Err)
					}
				}
			}
		})
	}
}

func TestOffersSkipOtherBackends(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir(), Keyring: storetest.NewMemKeyring(), Backends: []Backend{readOnly{}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range s.Offers(ctx) {
		if o.Name == "agent" {
			t.Fatal("a read-only backend is offered")
		}
	}
}

func TestDescribe(t *testing.T) {
	s := newStore(t, nil)
	k := s.Describe(BackendKernel)
	if !k.Volatile || k.PlaintextAtRest || !strings.Contains(k.Protection, "never written to disk") || !strings.HasPrefix(k.Lifetime, "until the machine restarts, or ") {
		t.Errorf("kernel: %+v", k)
	}
	if b, err := os.ReadFile(kernelExpiryFile); err == nil && strings.TrimSpace(string(b)) == "259200" && k.Lifetime != "until the machine restarts, or after 3 days unused" {
		t.Errorf("kernel lifetime %q", k.Lifetime)
	}
	f := s.Describe(BackendFile)
	if !f.PlaintextAtRest || f.Place != s.CredentialsPath() || !strings.Contains(f.Protection, "plaintext at rest") || f.Lifetime != "until you log out or the token is revoked" {
		t.Errorf("file: %+v", f)
	}
	kr := s.Describe(BackendKeyring)
	if kr.PlaintextAtRest || kr.Volatile || !strings.Contains(kr.Protection, "encrypted") {
		t.Errorf("keyring: %+v", kr)
	}
	if got := k.String(); !strings.HasPrefix(got, "kernel keyring: in memory only, never written to disk; only you can read it; kept until the machine restarts") {
		t.Errorf("String() = %q", got)
	}
	if got := s.Describe("agent"); got.Name != "agent" || got.Place != "the agent store" {
		t.Errorf("unknown: %+v", got)
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		259200 * time.Second: "3 days",
		24 * time.Hour:       "1 day",
		36 * time.Hour:       "36 hours",
		90 * time.Minute:     "90 minutes",
		61 * time.Second:     "61 seconds",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

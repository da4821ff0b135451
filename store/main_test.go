package store

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/store/storetest"
)

// Tests re-execute the test binary as helper processes; the variable below
// selects the helper's mode, so real processes (not goroutines) contend for
// the files and locks, get killed, or talk to a different D-Bus.
const helperEnv = "GHLOGIN_STORE_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		if err := runHelper(mode); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helperCmd prepares the test binary in helper mode with extra environment.
func helperCmd(t *testing.T, mode string, env ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + mode}, env...)...)
	return cmd
}

func runHelper(mode string) error {
	dir := os.Getenv("H_DIR")
	switch mode {
	case "worker":
		return helperWorker(dir)
	case "writer":
		return helperWriter(dir)
	case "hold-lock":
		s, err := Open(Options{Dir: dir, Keyring: storetest.NewMemKeyring()})
		if err != nil {
			return err
		}
		return s.WithLock(context.Background(), os.Getenv("H_LOCK"), func() error {
			fmt.Println("locked")
			// Hold the lock until the parent closes our stdin.
			_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
			return nil
		})
	case "keyring-op":
		return helperKeyringOp(dir)
	case "kernel-peek":
		return helperKernelPeek()
	case "raw-keyring":
		return helperRawKeyring()
	case "login-flight":
		return helperLoginFlight(dir)
	case "login-hold":
		return helperLoginHold(dir)
	}
	return fmt.Errorf("unknown helper mode %q", mode)
}

// helperWorker is one of the concurrent processes: it adds its own account
// for good, adds and removes a temporary one, switches, and bumps a counter
// under a named lock.
func helperWorker(dir string) error {
	id, _ := strconv.Atoi(os.Getenv("H_ID"))
	host := workerHost(id)
	s, err := Open(Options{Dir: dir, Keyring: storetest.NewMemKeyring(), LockTimeout: 2 * time.Minute})
	if err != nil {
		return err
	}
	ctx := context.Background()
	login := fmt.Sprintf("user%02d", id)
	if err := s.Save(ctx, host, login, BackendFile, &Secret{Token: "tok-" + login, Scopes: []string{"repo"}}); err != nil {
		return err
	}
	tmp := fmt.Sprintf("tmp%02d", id)
	if err := s.Save(ctx, host, tmp, BackendFile, &Secret{Token: "tok-" + tmp}); err != nil {
		return err
	}
	if _, err := s.Switch(host, ""); err != nil {
		return err
	}
	if _, err := s.Remove(ctx, host, tmp); err != nil {
		return err
	}
	counter := filepath.Join(dir, "counter")
	return s.WithLock(ctx, "counter", func() error {
		b, _ := os.ReadFile(counter)
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return os.WriteFile(counter, []byte(strconv.Itoa(n+1)), 0o600)
	})
}

func workerHost(id int) string {
	return []string{"github.com", "ghe.example.com", "127.0.0.1:8787"}[id%3]
}

// helperWriter saves and removes accounts in a loop until it is killed.
func helperWriter(dir string) error {
	s, err := Open(Options{Dir: dir, Keyring: storetest.NewMemKeyring(), LockTimeout: time.Minute})
	if err != nil {
		return err
	}
	ctx := context.Background()
	for n := 0; ; n++ {
		login := fmt.Sprintf("w%d", n%4)
		if n%3 == 2 {
			if _, err := s.Remove(ctx, "github.com", login); err != nil {
				var nl *NotLoggedInError
				if !errors.As(err, &nl) {
					return err
				}
			}
		} else if err := s.Save(ctx, "github.com", login, BackendFile, &Secret{Token: fmt.Sprintf("tok-%d-%s", n, strings.Repeat("x", 2000))}); err != nil {
			return err
		}
		if n == 0 {
			fmt.Println("ready")
		}
	}
}

// keyringOpResult is what the keyring-op helper reports.
type keyringOpResult struct {
	Err       string `json:"err"`
	Type      string `json:"type"`
	Timeout   bool   `json:"timeout"`
	ElapsedMS int64  `json:"elapsed_ms"`
	Token     string `json:"token"`
	// Offers are the names Store.Offers gave, unusable ones marked.
	Offers []string `json:"offers"`
	// Why is the first unusable offer's error.
	Why string `json:"why"`
}

// helperKeyringOp runs one Store operation against the OS keyring of the
// D-Bus session named in its environment and reports the outcome as JSON.
func helperKeyringOp(dir string) error {
	timeout, _ := time.ParseDuration(os.Getenv("H_TIMEOUT"))
	s, err := Open(Options{Dir: dir, Keyring: osKeyring, KeyringTimeout: timeout})
	if err != nil {
		return err
	}
	ctx := context.Background()
	host, login := os.Getenv("H_HOST"), os.Getenv("H_LOGIN")
	start := time.Now()
	var res keyringOpResult
	switch os.Getenv("H_OP") {
	case "save":
		err = s.Save(ctx, host, login, BackendKeyring, &Secret{Token: os.Getenv("H_TOKEN")})
	case "secret":
		var sec *Secret
		sec, err = s.Secret(ctx, Account{Host: host, Login: login})
		if sec != nil {
			res.Token = sec.Token
		}
	case "remove":
		_, err = s.Remove(ctx, host, login)
	case "probe":
		err = s.Probe(ctx, BackendKeyring)
	case "offers":
		offers := s.Offers(ctx)
		res.Offers = offerNames(offers)
		for _, o := range offers {
			if o.Err != nil && res.Why == "" {
				res.Why = o.Err.Error()
			}
		}
	default:
		return fmt.Errorf("unknown op")
	}
	res.ElapsedMS = time.Since(start).Milliseconds()
	if err != nil {
		res.Err = err.Error()
		res.Type = fmt.Sprintf("%T", err)
		var ku *KeyringUnavailableError
		if errors.As(err, &ku) {
			res.Type = "KeyringUnavailableError"
			res.Timeout = ku.Timeout
		}
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// runKeyringOp runs the keyring-op helper and decodes its report.
func runKeyringOp(t *testing.T, env ...string) keyringOpResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := helperCmd(t, "keyring-op", env...)
	cmd := exec.CommandContext(ctx, base.Path)
	cmd.Env = base.Env
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("keyring helper: %v", err)
	}
	var r keyringOpResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("keyring helper output %q: %v", out, err)
	}
	return r
}

package hostile

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// bin is the ghlogin binary built once for the package.
var bin string

// testCA is a certificate authority made for this run, and a leaf it signed
// for 127.0.0.1, ::1 and localhost; ghlogin trusts it through SSL_CERT_FILE.
var testCA struct {
	pemFile string
	leaf    tls.Certificate
	pool    *x509.CertPool
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ghlogin-hostile-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "ghlogin")
	build := exec.Command("go", "build", "-o", bin, "../..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building ghlogin:", err)
		os.Exit(1)
	}
	if err := makeCA(dir); err != nil {
		fmt.Fprintln(os.Stderr, "making the test CA:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// makeCA creates the test CA and its leaf certificate, and writes the CA
// certificate to dir/ca.pem.
func makeCA(dir string) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ghlogin hostile test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	testCA.leaf = tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey}
	testCA.pool = x509.NewCertPool()
	testCA.pool.AddCert(caCert)
	testCA.pemFile = filepath.Join(dir, "ca.pem")
	return os.WriteFile(testCA.pemFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600)
}

// result is one ghlogin run's outcome.
type result struct {
	stdout, stderr string
	code           int
}

// sandbox is an isolated environment: its own config directory and file
// store, no browser, no keyring, the test CA trusted.
type sandbox struct {
	t   *testing.T
	dir string
	env []string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	dir := t.TempDir()
	return &sandbox{t: t, dir: dir, env: []string{
		"HOME=" + dir,
		"PATH=" + os.Getenv("PATH"),
		"GHLOGIN_CONFIG_DIR=" + filepath.Join(dir, "config"),
		"GHLOGIN_STORE=file",
		"GHLOGIN_BROWSER=none",
		"NO_COLOR=1",
		"TMPDIR=" + os.TempDir(),
		"SSL_CERT_FILE=" + testCA.pemFile,
		"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/ghlogin-hostile-bus",
	}}
}

// configDir is the sandbox's GHLOGIN_CONFIG_DIR.
func (s *sandbox) configDir() string { return filepath.Join(s.dir, "config") }

// with returns the sandbox's environment plus extra variables.
func (s *sandbox) with(extra ...string) []string {
	return append(append([]string(nil), s.env...), extra...)
}

// run runs ghlogin to completion (bounded by a minute) with env and stdin.
func (s *sandbox) run(env []string, stdin string, args ...string) result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("running ghlogin %v: %v", args, err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// started is a ghlogin process still running.
type started struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
}

func (s *sandbox) start(env []string, args ...string) *started {
	s.t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader("")
	p := &started{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	s.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

// waitLine returns the first stderr line (already read or still to come)
// holding substr, failing after a timeout.
func (p *started) waitLine(t *testing.T, substr string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, l := range strings.Split(p.stderr.String(), "\n") {
			if strings.Contains(l, substr) {
				return l
			}
		}
		select {
		case <-p.done:
			for _, l := range strings.Split(p.stderr.String(), "\n") {
				if strings.Contains(l, substr) {
					return l
				}
			}
			t.Fatalf("ghlogin exited without printing %q; stderr:\n%s", substr, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no %q from ghlogin; stderr:\n%s", substr, p.stderr.String())
	return ""
}

// wait waits for the process and returns its outcome.
func (p *started) wait(t *testing.T) result {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		t.Fatalf("ghlogin did not exit; stderr:\n%s", p.stderr.String())
	}
	return result{stdout: p.stdout.String(), stderr: p.stderr.String(), code: p.cmd.ProcessState.ExitCode()}
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// assertTerminalSafe fails when out holds anything a terminal would act on
// rather than show: invalid UTF-8, C0 controls other than newline (ESC,
// BEL…), DEL, C1 controls (CSI U+009B, OSC U+009D…), bidirectional
// controls, or the Unicode line and paragraph separators.
func assertTerminalSafe(t *testing.T, what, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Errorf("%s is not valid UTF-8: %q", what, out)
		return
	}
	for i, r := range out {
		bad := (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r < 0xa0) ||
			r == 0x061c || r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) ||
			r == 0x2028 || r == 0x2029
		if bad {
			lo, hi := max(0, i-40), min(len(out), i+40)
			t.Errorf("%s holds %U at byte %d: …%q…", what, r, i, out[lo:hi])
			return
		}
	}
}

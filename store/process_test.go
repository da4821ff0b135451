package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/store/storetest"
)

// Fifty processes add an account each, add and remove a temporary one,
// switch, and bump a counter under a named lock, all at once on one config
// directory. Afterwards the credentials file and the index hold exactly the
// fifty accounts, in step, and the counter reached fifty.
func TestFiftyConcurrentProcesses(t *testing.T) {
	const n = 50
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		cmd := helperCmd(t, "worker", "H_DIR="+dir, fmt.Sprintf("H_ID=%d", i))
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := cmd.Wait(); err != nil {
				errs <- fmt.Errorf("worker %d: %v\n%s", i, err, out.String())
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	s, err := Open(Options{Dir: dir, Keyring: storetest.NewMemKeyring()})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := s.files.read()
	if err != nil {
		t.Fatalf("credentials.json unreadable: %v", err)
	}
	var want []string
	for i := 0; i < n; i++ {
		want = append(want, fmt.Sprintf("%s/user%02d", workerHost(i), i))
	}
	sortStrings(want)
	if got := creds.Logins(); !reflect.DeepEqual(got, want) {
		t.Fatalf("credentials hold %d accounts:\n%v\nwant %d:\n%v", len(got), got, len(want), want)
	}
	accts, err := s.Accounts("")
	if err != nil {
		t.Fatal(err)
	}
	var index []string
	active := map[string]int{}
	for _, a := range accts {
		index = append(index, a.Host+"/"+a.Login)
		if a.Store != BackendFile {
			t.Errorf("%s/%s store %q", a.Host, a.Login, a.Store)
		}
		if a.Active {
			active[a.Host]++
		}
		if sec := creds.get(a.Host, a.Login); sec == nil || sec.Token != "tok-"+a.Login {
			t.Errorf("%s/%s: secret does not match", a.Host, a.Login)
		}
	}
	if !reflect.DeepEqual(index, want) {
		t.Fatalf("index holds %v", index)
	}
	for _, h := range []string{"github.com", "ghe.example.com", "127.0.0.1:8787"} {
		if active[h] != 1 {
			t.Errorf("%s has %d active accounts", h, active[h])
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "counter"))
	if strings.TrimSpace(string(b)) != fmt.Sprint(n) {
		t.Errorf("counter under WithLock = %q, want %d (lost updates)", b, n)
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// A process killed at random moments while it saves and removes accounts
// never leaves a credentials file or index that cannot be read, and never
// loses an account stored before it started.
func TestKilledMidWriteLeavesReadableFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Log("SIGKILL is not available on Windows; the atomic rename is tested by the other tests")
		return
	}
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, Keyring: storetest.NewMemKeyring()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "ghe.example.com", "keep", BackendFile, &Secret{Token: "tok-keep"}); err != nil {
		t.Fatal(err)
	}
	rounds := 25
	if testing.Short() {
		rounds = 8
	}
	midWrite := 0
	for round := 0; round < rounds; round++ {
		cmd := helperCmd(t, "writer", "H_DIR="+dir)
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if line != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: writer did not start: %q", round, line)
		}
		time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		var ee interface{ Sys() any }
		if err == nil || !errors.As(err, &ee) {
			t.Fatalf("round %d: writer was not killed: %v", round, err)
		}

		if ents, _ := os.ReadDir(dir); hasTemp(ents) {
			midWrite++
		}
		creds, err := s.files.read()
		if err != nil {
			t.Fatalf("round %d: credentials.json unreadable after SIGKILL: %v", round, err)
		}
		cfg, err := config.Load(dir)
		if err != nil {
			t.Fatalf("round %d: config unreadable after SIGKILL: %v", round, err)
		}
		if sec := creds.get("ghe.example.com", "keep"); sec == nil || sec.Token != "tok-keep" {
			t.Fatalf("round %d: stored account lost", round)
		}
		if cfg.Host("ghe.example.com").Account("keep") == nil {
			t.Fatalf("round %d: index lost the stored account", round)
		}
		// Every token written is whole.
		for l, sec := range creds["github.com"] {
			if !strings.HasPrefix(sec.Token, "tok-") || !strings.HasSuffix(sec.Token, strings.Repeat("x", 2000)) {
				t.Fatalf("round %d: %s's token is torn", round, l)
			}
		}
	}
	t.Logf("%d of %d kills landed while a temporary file was being written", midWrite, rounds)
	// The store carries on afterwards and cleans stale temporary files.
	if err := s.Save(ctx, "github.com", "after", BackendFile, &Secret{Token: "t"}); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); hasTemp(ents) {
		t.Errorf("stale temporary files left: %v", ents)
	}
}

func hasTemp(ents []os.DirEntry) bool {
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			return true
		}
	}
	return false
}

// The named lock excludes other processes, not only goroutines.
func TestWithLockAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	cmd := helperCmd(t, "hold-lock", "H_DIR="+dir, "H_LOCK=refresh-github.com-octocat")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "locked\n" {
		t.Fatalf("helper: %q", line)
	}
	s, err := Open(Options{Dir: dir, Keyring: storetest.NewMemKeyring()})
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	var le *LockError
	if err := s.WithLock(c, "refresh-github.com-octocat", func() error { return nil }); !errors.As(err, &le) {
		t.Fatalf("lock held by another process was taken: %v", err)
	}
	// Once the other process lets go, the lock is ours.
	stdin.Close()
	c2, cancel2 := context.WithTimeout(ctx, 10*time.Second)
	defer cancel2()
	ran := false
	if err := s.WithLock(c2, "refresh-github.com-octocat", func() error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("after release: %v", err)
	}
}

// The store lock, too: a Save waits for another process's hold and gives up
// with a *LockError when its context ends.
func TestStoreLockTimeout(t *testing.T) {
	s := newStore(t, nil)
	s.opts.LockTimeout = 150 * time.Millisecond
	unlock, err := lockFile(ctx, filepath.Join(s.Dir(), storeLockFile))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Save(ctx, "github.com", "a", BackendFile, &Secret{Token: "t"})
	unlock()
	var le *LockError
	if !errors.As(err, &le) || time.Since(start) > 3*time.Second {
		t.Fatalf("Save with the lock held: %v", err)
	}
	if err := s.Save(ctx, "github.com", "a", BackendFile, &Secret{Token: "t"}); err != nil {
		t.Fatal(err)
	}
}

package gitcred

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/store"
)

const concurrent = 20

// Twenty gets at once on an expired token: one refresh request, and every
// caller gets the new token.
func TestConcurrentGetsRefreshOnceGoroutines(t *testing.T) {
	st := newFixtureStore(t, t.TempDir())
	ts := newTokenServer(t, "ghr_first")
	ts.delay = 100 * time.Millisecond
	addExpiring(t, st, "ghe.example.com", "app-user", ts)
	var wg sync.WaitGroup
	outs := make([]string, concurrent)
	start := make(chan struct{})
	for i := range concurrent {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := newHelper(st, &bytes.Buffer{})
			h.Refresh = sessionFor(st, nil).Refresh
			<-start
			var out bytes.Buffer
			h.Run(context.Background(), "get", strings.NewReader("url=https://app-user@ghe.example.com/o/r\n\n"), &out)
			outs[i] = out.String()
		}()
	}
	close(start)
	wg.Wait()
	if n := ts.refreshes.Load(); n != 1 {
		t.Fatalf("%d refresh requests, want 1", n)
	}
	for i, out := range outs {
		if !strings.HasPrefix(out, "username=app-user\npassword=ghu_refreshed0001\n") {
			t.Fatalf("caller %d got %q", i, out)
		}
	}
}

// The same with twenty helper processes (the test binary re-executed as the
// helper), as git starts them.
func TestConcurrentGetsRefreshOnceProcesses(t *testing.T) {
	dir := t.TempDir()
	st := newFixtureStore(t, dir)
	ts := newTokenServer(t, "ghr_first")
	ts.delay = 200 * time.Millisecond
	addExpiring(t, st, "ghe.example.com", "app-user", ts)
	cmds := make([]*exec.Cmd, concurrent)
	outs := make([]*bytes.Buffer, concurrent)
	errs := make([]*bytes.Buffer, concurrent)
	for i := range concurrent {
		cmd := exec.Command(os.Args[0], "git-credential", "get")
		cmd.Env = append(os.Environ(), "GITCRED_TEST_HELPER=1", "GITCRED_TEST_DIR="+dir, "GH_ENTERPRISE_TOKEN=", "GITHUB_ENTERPRISE_TOKEN=")
		cmd.Stdin = strings.NewReader("protocol=https\nhost=ghe.example.com\nusername=app-user\npath=o/r.git\n\n")
		outs[i], errs[i] = &bytes.Buffer{}, &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = outs[i], errs[i]
		cmds[i] = cmd
	}
	for _, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, errs[i])
		}
	}
	if n := ts.refreshes.Load(); n != 1 {
		t.Fatalf("%d refresh requests, want 1", n)
	}
	for i := range concurrent {
		if !strings.HasPrefix(outs[i].String(), "username=app-user\npassword=ghu_refreshed0001\n") {
			t.Fatalf("process %d got %q (stderr %q)", i, outs[i], errs[i])
		}
	}
	sec, err := st.Secret(context.Background(), store.Account{Host: "ghe.example.com", Login: "app-user"})
	if err != nil || sec.RefreshToken != "ghr_rotated0001" {
		t.Fatalf("stored refresh token wrong (err %v)", err)
	}
}

// The get fast path (file store, token not due) makes no request, takes no
// lock and starts no process; it stays well under a millisecond or so per
// call. The bound here is loose so that -race and busy machines pass; the
// benchmark gives the real figure.
func TestGetFastPathIsFast(t *testing.T) {
	st := newFixtureStore(t, t.TempDir())
	h := newHelper(st, &bytes.Buffer{})
	h.Refresh = sessionFor(st, nil).Refresh
	in := "protocol=https\nhost=github.com\npath=o/r.git\n\n"
	var out bytes.Buffer
	const n = 200
	start := time.Now()
	for range n {
		out.Reset()
		if err := h.Run(context.Background(), "get", strings.NewReader(in), &out); err != nil || out.Len() == 0 {
			t.Fatalf("get failed: %v %q", err, out.String())
		}
	}
	per := time.Since(start) / n
	t.Logf("get fast path: %v per call", per)
	if per > 20*time.Millisecond {
		t.Fatalf("get takes %v per call", per)
	}
	if _, err := os.Stat(st.LockPath("refresh-github.com-octocat")); err == nil {
		t.Fatal("the fast path took the refresh lock")
	}
}

func BenchmarkGet(b *testing.B) {
	st := newFixtureStore(b, b.TempDir())
	h := newHelper(st, nil)
	h.Refresh = sessionFor(st, nil).Refresh
	in := "protocol=https\nhost=github.com\npath=o/r.git\n\n"
	var out bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		h.Run(context.Background(), "get", strings.NewReader(in), &out)
	}
	if out.Len() == 0 {
		b.Fatal(fmt.Sprint("no answer"))
	}
}

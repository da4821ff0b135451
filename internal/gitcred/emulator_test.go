package gitcred

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/store/storetest"
)

// The helper against the emulator in GitHub App mode: an expiring ghu_ token
// is refreshed once for twenty concurrent gets (the emulator rotates the
// pair), the new token works on the API, and a revoked one is erased.
func TestEmulatorAppTokens(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := clock.NewFake(time.Now())
	emu, err := emulator.Start(ctx, "127.0.0.1:0", emulator.Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	host := strings.TrimPrefix(emu.URL(), "http://")

	st, err := store.Open(store.Options{Dir: t.TempDir(), Keyring: storetest.NewMemKeyring()})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := emu.IssueToken(emulator.AppClientID, "octocat", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ts.AccessToken, "ghu_") || !strings.HasPrefix(ts.RefreshToken, "ghr_") || ts.ExpiresAt.IsZero() {
		t.Fatalf("the emulator did not issue an expiring App token: %v", ts)
	}
	if err := st.Save(ctx, host, "octocat", store.BackendFile, &store.Secret{
		Token: ts.AccessToken, ExpiresAt: ts.ExpiresAt, RefreshToken: ts.RefreshToken, RefreshTokenExpiresAt: ts.RefreshExpiresAt,
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateConfig(func(f *config.File) error {
		hc := f.Hosts[host]
		hc.Protocol, hc.ClientID = "http", emulator.AppClientID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sess := &session.Session{Clock: clk, Getenv: env(), OpenStore: func() (*store.Store, error) { return st, nil }}
	newH := func() *Helper {
		h := newHelper(st, &bytes.Buffer{})
		h.Clock = clk
		h.Refresh = sess.Refresh
		h.Check = sess.CheckToken
		return h
	}
	in := "url=http://" + host + "/octocat/hello.git\n\n"

	// Fresh token: served as it is.
	if out, _ := run(t, newH(), "get", in); !strings.Contains(out, "password="+ts.AccessToken+"\n") {
		t.Fatalf("fresh: %q", out)
	}
	// Four minutes before expiry it is due.
	clk.Advance(time.Until(ts.ExpiresAt) - 4*time.Minute)
	var wg sync.WaitGroup
	outs := make([]string, concurrent)
	for i := range concurrent {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			newH().Run(ctx, "get", strings.NewReader(in), &out)
			outs[i] = out.String()
		}()
	}
	wg.Wait()
	if n := emu.Stats().Refreshes; n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	sec, err := st.Secret(ctx, store.Account{Host: host, Login: "octocat"})
	if err != nil {
		t.Fatal(err)
	}
	if sec.Token == ts.AccessToken || sec.RefreshToken == ts.RefreshToken || !strings.HasPrefix(sec.Token, "ghu_") {
		t.Fatal("the pair was not rotated")
	}
	if !sec.ExpiresAt.After(clk.Now().Add(7*time.Hour)) || !sec.RefreshTokenExpiresAt.After(clk.Now().Add(150*24*time.Hour)) {
		t.Fatalf("expiries not kept: %v %v", sec.ExpiresAt, sec.RefreshTokenExpiresAt)
	}
	for i, out := range outs {
		if !strings.HasPrefix(out, "username=octocat\npassword="+sec.Token+"\npassword_expiry_utc=") {
			t.Fatalf("get %d: %q", i, out)
		}
	}
	check := sess.CheckToken
	if err := check(ctx, host, sec.Token); err != nil {
		t.Fatalf("the new token does not work: %v", err)
	}
	if err := check(ctx, host, ts.AccessToken); err == nil {
		t.Fatal("the old token still works after rotation")
	}

	// A token that works survives an erase (git erases after a 404 too).
	run(t, newH(), "erase", in[:len(in)-1]+"username=octocat\npassword="+sec.Token+"\n\n")
	if _, err := st.Resolve(host, "octocat"); err != nil {
		t.Fatal("a working token was erased")
	}
	// Revoked: erase removes it.
	emu.Revoke(sec.Token)
	_, errOut := run(t, newH(), "erase", "protocol=http\nhost="+host+"\nusername=octocat\npassword="+sec.Token+"\n\n")
	if !tokenInvalidated(t, st, host, "octocat") {
		t.Fatalf("a revoked token was kept (%s)", errOut)
	}
	if !strings.Contains(errOut, "ghlogin login --host http://"+host) {
		t.Fatalf("stderr %q", errOut)
	}
}

package webflow

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/oauth"
)

// Paste-back against the built-in GitHub emulator: the browser is on
// another device and ends on a dead 127.0.0.1 page; its address, or only
// the code, is pasted into the terminal.

func TestEmulatorPasteAddress(t *testing.T) {
	em := startEmulator(t, emulator.Config{AutoApproveWeb: true})
	cfg := emulatorConfig(em)
	cfg.ExtraParams = url.Values{"login": {"hubot"}}
	p := newPaster()
	r, auth := pasteRun(t, cfg, p)
	landed := otherDevice(t, auth.String())
	p.send(t, landed.String())
	tok, err := r.wait(t)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if got := userLogin(t, em, tok.AccessToken); got != "hubot" {
		t.Errorf("the token belongs to %q", got)
	}
	r.checkNoSecrets(t, tok.AccessToken, landed.Query().Get("code"), landed.Query().Get("state"))
}

func TestEmulatorPasteCodeOnly(t *testing.T) {
	em := startEmulator(t, emulator.Config{AutoApproveWeb: true})
	cfg := emulatorConfig(em)
	p := newPaster()
	r, auth := pasteRun(t, cfg, p)
	p.send(t, otherDevice(t, auth.String()).Query().Get("code"))
	tok, err := r.wait(t)
	if err != nil || !strings.HasPrefix(tok.AccessToken, "gho_") {
		t.Fatalf("Login = %v, %v", tok, err)
	}
	if !has(r.kinds(), KindPasteAccepted) {
		t.Errorf("events %v", r.kinds())
	}
}

// A code obtained for another login is refused, so a bare code cannot be
// injected: the paste is rejected and the login goes on. From a login on
// another port the emulator refuses the redirect URI; from an earlier login
// on the same port, the PKCE verifier.
func TestEmulatorPasteCodeOfAnotherLogin(t *testing.T) {
	em := startEmulator(t, emulator.Config{AutoApproveWeb: true})
	other := emulatorConfig(em)
	octx, stopOther := context.WithCancel(context.Background())
	defer stopOther()
	other.Paste = newPaster().paste
	ro := start(t, octx, other)
	stolen := otherDevice(t, ro.authorizeURL(t).String()).Query().Get("code")

	cfg := emulatorConfig(em)
	p := newPaster()
	r, auth := pasteRun(t, cfg, p)
	p.send(t, stolen)
	p.send(t, otherDevice(t, auth.String()).Query().Get("code"))
	if _, err := r.wait(t); err != nil {
		t.Fatalf("Login: %v", err)
	}
	var oe *oauth.Error
	if rej := r.rejections(); len(rej) != 1 || rej[0].Reason != PasteCodeRefused || !errors.As(rej[0], &oe) || oe.Code != "redirect_uri_mismatch" {
		t.Fatalf("rejections %+v", rej)
	}
	r.checkNoSecrets(t, stolen)
	stopOther()
	ro.wait(t)

	// Same port: a code from a login that was abandoned.
	port := freePort(t)
	first := emulatorConfig(em)
	first.Port = port
	ctx, cancel := context.WithCancel(context.Background())
	first.Paste = newPaster().paste
	rf := start(t, ctx, first)
	old := otherDevice(t, rf.authorizeURL(t).String()).Query().Get("code")
	cancel()
	rf.wait(t)
	second := emulatorConfig(em)
	second.Port, second.PasteAttempts = port, 1
	p2 := newPaster()
	r2, _ := pasteRun(t, second, p2)
	p2.send(t, old)
	_, err := r2.wait(t)
	var pe *PasteError
	if !errors.As(err, &pe) || pe.Reason != PasteCodeRefused || !errors.As(err, &oe) || oe.Code != "bad_verification_code" {
		t.Fatalf("Login = %v", err)
	}
	if !strings.Contains(err.Error(), "the server answered bad_verification_code") || !strings.HasSuffix(err.Error(), "(1 attempts; giving up)") {
		t.Errorf("message %q", err)
	}
}

func TestEmulatorPasteWrongStateAndError(t *testing.T) {
	em := startEmulator(t, emulator.Config{AutoApproveWeb: true})
	cfg := emulatorConfig(em)
	p := newPaster()
	r, auth := pasteRun(t, cfg, p)
	landed := otherDevice(t, auth.String())
	q := landed.Query()
	q.Set("state", "x"+q.Get("state"))
	forged := *landed
	forged.RawQuery = q.Encode()
	p.send(t, forged.String())
	p.send(t, "garbage")
	// The browser's error page: error= with this login's state.
	q = url.Values{"error": {"access_denied"}, "state": {landed.Query().Get("state")}}
	denied := *landed
	denied.RawQuery = q.Encode()
	p.send(t, denied.String())
	_, err := r.wait(t)
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Code != "access_denied" {
		t.Fatalf("Login = %v", err)
	}
	if rej := r.rejections(); len(rej) != 2 || rej[0].Reason != PasteWrongState || rej[1].Reason != PasteNotCode {
		t.Fatalf("rejections %+v", rej)
	}
}

// The browser on this machine wins the race against the paste prompt.
func TestEmulatorPasteLoopbackWins(t *testing.T) {
	em := startEmulator(t, emulator.Config{AutoApproveWeb: true})
	cfg := emulatorConfig(em)
	p := newPaster()
	r, auth := pasteRun(t, cfg, p)
	<-p.asked
	if v := browse(auth.String()); v.status != 200 {
		t.Fatalf("browser: %d %v", v.status, v.err)
	}
	if _, err := r.wait(t); err != nil {
		t.Fatalf("Login: %v", err)
	}
	if err := <-p.done; err == nil {
		t.Error("the paste prompt was not cancelled")
	}
}

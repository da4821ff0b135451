package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/emulator"
)

// waitUntil polls cond (no clock is involved: it waits for another
// goroutine) and fails after 20 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A second login for a host while one runs waits for it, says whose it
// is, and reports the same outcome: the same success event, or the same
// error event and exit status. Only one device code is requested.
func TestLoginWaitsForTheOneInFlight(t *testing.T) {
	for _, deny := range []bool{false, true} {
		name := "approved"
		if deny {
			name = "denied"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, emulator.Config{})
			h.vars["GHLOGIN_STORE"] = "file"
			h.vars["GHLOGIN_CLIENT_ID"] = emulator.DefaultClientID
			gate := make(chan struct{})
			h.clk.OnSleep = func(time.Duration) { <-gate }
			leader := make(chan result, 1)
			go func() { leader <- h.run("", "login", "--json", "--host", h.srv.URL) }()
			waitUntil(t, "the leader's code", func() bool { return len(h.emu.Stats().Codes) == 1 })

			env, _, _ := h.env("")
			out, errb := &lockedBuffer{}, &lockedBuffer{}
			env.Stdout, env.Stderr = out, errb
			env.Clock = clock.NewFake(epoch) // its waits must not move the leader's time
			waiter := make(chan int, 1)
			go func() { waiter <- Main(context.Background(), []string{"login", "--json", "--host", h.srv.URL}, env) }()
			waitUntil(t, "the waiter to wait", func() bool {
				return strings.Contains(errb.String(), "Waiting for the login to "+h.host+" that process ")
			})
			for code := range h.emu.Stats().Codes {
				var err error
				if deny {
					err = h.emu.Deny(code)
				} else {
					err = h.emu.Approve(code, "hubot")
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			close(gate)
			lr := <-leader
			var wcode int
			select {
			case wcode = <-waiter:
			case <-time.After(20 * time.Second):
				t.Fatalf("the waiter did not end\n%s", errb.String())
			}
			levs, wevs := jsonLines(t, lr.stdout), jsonLines(t, out.String())
			if len(wevs) != 1 {
				t.Fatalf("waiter events %v", wevs)
			}
			last := levs[len(levs)-1]
			if wcode != lr.code || wevs[0]["event"] != last["event"] || wevs[0]["code"] != last["code"] || wevs[0]["message"] != last["message"] || wevs[0]["login"] != last["login"] || wevs[0]["store"] != last["store"] {
				t.Errorf("leader exit %d %v; waiter exit %d %v", lr.code, last, wcode, wevs[0])
			}
			if deny && (wcode != ExitFailure || wevs[0]["code"] != "access_denied") {
				t.Errorf("denied: waiter exit %d %v", wcode, wevs[0])
			}
			if !deny && (wcode != 0 || wevs[0]["login"] != "hubot") {
				t.Errorf("approved: waiter exit %d %v", wcode, wevs[0])
			}
			if n := h.emu.Stats().Requests["POST /login/device/code"]; n != 1 {
				t.Errorf("%d device code requests, want 1", n)
			}
		})
	}
}

// --wait: a code that expires unapproved is replaced by a new one (a new
// code event) until the wait has passed; the second code's approval ends
// the login. All on the fake clock.
func TestLoginWait(t *testing.T) {
	h := newHarness(t, emulator.Config{ExpiresIn: 2 * time.Minute})
	h.vars["GHLOGIN_STORE"] = "file"
	h.vars["GHLOGIN_CLIENT_ID"] = emulator.DefaultClientID
	approved := false
	h.clk.OnSleep = func(time.Duration) {
		st := h.emu.Stats()
		if approved || len(st.Codes) < 2 {
			return
		}
		var newest string
		for code, rec := range st.Codes {
			if newest == "" || rec.Issued.After(st.Codes[newest].Issued) {
				newest = code
			}
		}
		if h.emu.Approve(newest, "octocat") == nil {
			approved = true
		}
	}
	r := h.run("", "login", "--json", "--wait", "2h", "--host", h.srv.URL)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var codes []string
	for _, ev := range jsonLines(t, r.stdout) {
		if ev["event"] == "code" {
			codes = append(codes, ev["user_code"].(string))
		}
	}
	if len(codes) != 2 || codes[0] == codes[1] {
		t.Fatalf("code events %v\n%s", codes, r.stdout)
	}
	if evs := jsonLines(t, r.stdout); evs[len(evs)-1]["event"] != "success" {
		t.Fatalf("events %v", evs)
	}

	// Nobody approves: the login ends with a timeout once the wait has passed.
	h2 := newHarness(t, emulator.Config{ExpiresIn: 2 * time.Minute})
	h2.vars["GHLOGIN_STORE"] = "file"
	h2.vars["GHLOGIN_CLIENT_ID"] = emulator.DefaultClientID
	start := h2.clk.Now()
	r = h2.run("", "login", "--json", "--wait", "10m", "--host", h2.srv.URL)
	evs := jsonLines(t, r.stdout)
	last := evs[len(evs)-1]
	if r.code != ExitFailure || last["event"] != "error" || last["code"] != "timeout" || !strings.Contains(last["message"].(string), "within 10m") {
		t.Fatalf("exit %d, last event %v", r.code, last)
	}
	n := 0
	for _, ev := range evs {
		if ev["event"] == "code" {
			n++
		}
	}
	if took := h2.clk.Now().Sub(start); n < 4 || took < 10*time.Minute || took > 13*time.Minute {
		t.Errorf("%d codes over %v", n, took)
	}
}

// --qr prints the QR code in plain mode too, on stderr.
func TestLoginQRPlain(t *testing.T) {
	h := newHarness(t, emulator.Config{AutoApproveAfter: 1})
	r := h.run("", "login", "--qr", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID, "--store", "file")
	if r.code != 0 || !strings.Contains(r.stderr, "▀") && !strings.Contains(r.stderr, "█") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q", r.stdout)
	}
}

package main

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/emulator"
)

func at(base time.Time, offsets ...time.Duration) []time.Time {
	out := make([]time.Time, len(offsets))
	for i, d := range offsets {
		out[i] = base.Add(d)
	}
	return out
}

func TestOvershootsRebuildsTheIntervalAfterAnEarlyPoll(t *testing.T) {
	t0 := time.Unix(1000, 0)
	rec := emulator.PollRecord{
		Issued: t0,
		// 1.05 s after the code; 1.10 s later (10% over); 0.5 s later (early:
		// the interval becomes 6 s); 6.06 s later (1% over the new interval).
		Polls: at(t0, 1050*time.Millisecond, 2150*time.Millisecond, 2650*time.Millisecond, 8710*time.Millisecond),
	}
	over, early := overshoots(rec, time.Second)
	if early != 1 {
		t.Fatalf("early = %d, want 1", early)
	}
	want := []float64{0.10, 0.01}
	if len(over) != len(want) {
		t.Fatalf("overshoots = %v, want %v", over, want)
	}
	for i := range want {
		if math.Abs(over[i]-want[i]) > 1e-9 {
			t.Errorf("overshoot %d = %v, want %v", i, over[i], want[i])
		}
	}
}

func TestAnalyseUsesOnlyTheGivenCodes(t *testing.T) {
	t0 := time.Unix(1000, 0)
	stats := emulator.Stats{
		EarlyPolls: 0,
		Codes: map[string]emulator.PollRecord{
			"AAAA-BBBB": {Issued: t0, Polls: at(t0, 1100*time.Millisecond, 2200*time.Millisecond)},
			"CCCC-DDDD": {Issued: t0, Polls: at(t0, time.Second, 2*time.Second, 3*time.Second)},
		},
	}
	f := analyse(stats, time.Second, []string{"AAAA-BBBB", "NOT-POLLED"})
	if f.Codes != 1 || f.Polls != 2 || len(f.Overshoots) != 1 || len(f.FirstWaits) != 1 {
		t.Fatalf("figures = %+v", f)
	}
	if math.Abs(f.Overshoots[0]-0.1) > 1e-9 || math.Abs(f.FirstWaits[0]-0.1) > 1e-9 {
		t.Errorf("overshoot %v, first wait %v; want 0.1 and 0.1", f.Overshoots[0], f.FirstWaits[0])
	}
}

func TestPercentileNearestRank(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, tc := range []struct{ p, want float64 }{{50, 5}, {90, 9}, {100, 10}, {1, 1}} {
		if got := percentile(xs, tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if !math.IsNaN(percentile(nil, 50)) {
		t.Error("percentile of nothing is not NaN")
	}
	if xs[0] != 5 {
		t.Error("percentile sorted its input")
	}
}

func TestCodeMatchers(t *testing.T) {
	if got := plainCode("! First copy your one-time code: WDJB-MJHT\n"); got != "WDJB-MJHT" {
		t.Errorf("plainCode = %q", got)
	}
	if got := plainCode("Waiting for approval…\n"); got != "" {
		t.Errorf("plainCode matched a line without a code: %q", got)
	}
	if got := jsonCode(`{"event":"code","user_code":"WDJB-MJHT","verification_uri":"x"}` + "\n"); got != "WDJB-MJHT" {
		t.Errorf("jsonCode = %q", got)
	}
	for _, l := range []string{`{"event":"pending"}`, `not json WDJB-MJHT`, `{"event":"code"`} {
		if got := jsonCode(l); got != "" {
			t.Errorf("jsonCode(%q) = %q, want nothing", l, got)
		}
	}
}

func TestEnsureHostsAddsAndRemovesOnlyItsLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts")
	orig := "127.0.0.1 localhost\n10.0.0.1 other # keep\n"
	if err := os.WriteFile(path, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	undo, added, err := ensureHosts(path)
	if err != nil || !added {
		t.Fatalf("ensureHosts: added=%v err=%v", added, err)
	}
	b, _ := os.ReadFile(path)
	if !hostsMaps(b, ghHost) || !hostsMaps(b, ghAPIHost) || !strings.HasPrefix(string(b), orig) {
		t.Fatalf("hosts after adding:\n%s", b)
	}
	// Someone else edits the file meanwhile; their line must survive.
	if err := os.WriteFile(path, append(b, "10.0.0.2 later\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := undo(); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	if string(b) != orig+"10.0.0.2 later\n" {
		t.Errorf("hosts after undo:\n%s", b)
	}
	// Already mapped (also when the names sit on separate lines): no change.
	mapped := "127.0.0.1 localhost github.localhost\n127.0.0.1 API.github.localhost\n"
	if err := os.WriteFile(path, []byte(mapped), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, added, err := ensureHosts(path); err != nil || added {
		t.Errorf("ensureHosts on a mapped file: added=%v err=%v", added, err)
	}
	// A commented-out mapping does not count.
	if hostsMaps([]byte("# 127.0.0.1 github.localhost\n"), ghHost) {
		t.Error("a comment counted as a mapping")
	}
}

// TestGHShimAnswersViewerFromTheEmulator drives the shim as gh does: a
// device login against the emulator, then GraphQL viewer { login } with the
// token it got, and with a wrong one.
func TestGHShimAnswersViewerFromTheEmulator(t *testing.T) {
	emu := emulator.New(emulator.Config{
		Clock:            clock.NewFake(time.Unix(1_700_000_000, 0)),
		AutoApproveAfter: 1,
		Clients:          []emulator.Client{{ID: ghClientID, Secret: ghClientSecret}},
	})
	srv := httptest.NewServer(ghShim(emu))
	defer srv.Close()
	post := func(path string, form url.Values) map[string]any {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	code := post("/login/device/code", url.Values{"client_id": {ghClientID}, "scope": {"repo read:org gist"}})
	dc, _ := code["device_code"].(string)
	if dc == "" {
		t.Fatalf("no device code: %v", code)
	}
	tok := post("/login/oauth/access_token", url.Values{"client_id": {ghClientID}, "device_code": {dc}, "grant_type": {emulator.DeviceGrantType}})
	access, _ := tok["access_token"].(string)
	if access == "" {
		t.Fatalf("no token: error %v", tok["error"])
	}
	graphql := func(auth string) (*http.Response, map[string]any) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/graphql", strings.NewReader(`{"query":"query UserCurrent{viewer{login}}"}`))
		req.Header.Set("Authorization", auth)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp, m
	}
	resp, m := graphql("token " + access)
	viewer, _ := m["data"].(map[string]any)["viewer"].(map[string]any)
	if resp.StatusCode != http.StatusOK || viewer["login"] != "octocat" {
		t.Errorf("viewer = %d %v, want 200 octocat", resp.StatusCode, m)
	}
	if s := resp.Header.Get("X-OAuth-Scopes"); !strings.Contains(s, "repo") {
		t.Errorf("X-OAuth-Scopes = %q", s)
	}
	if resp, _ := graphql("token gho_" + strings.Repeat("x", 36)); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("bad token: status %d, want 401", resp.StatusCode)
	}
}

func TestOptionsCheck(t *testing.T) {
	good := options{n: 1, interval: time.Second, approveAfter: 2}
	if err := good.check(); err != nil {
		t.Fatal(err)
	}
	for _, o := range []options{
		{n: 0, interval: time.Second, approveAfter: 2},
		{n: 1, interval: 1500 * time.Millisecond, approveAfter: 2},
		{n: 1, interval: time.Second, approveAfter: 1},
	} {
		if o.check() == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

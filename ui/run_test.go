package ui

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/deviceflow"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/webflow"
)

// deviceScript emits what a device-flow login emits, in order.
func deviceScript(now time.Time, complete bool) []any {
	return []any{
		Status("Requesting a code from github.com"),
		deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(now, complete)},
		deviceflow.Event{Kind: deviceflow.KindPending},
		deviceflow.Event{Kind: deviceflow.KindPending},
		&deviceflow.Event{Kind: deviceflow.KindSlowDown, Interval: 10 * time.Second},
		deviceflow.Event{Kind: deviceflow.KindPending},
		deviceflow.Event{Kind: deviceflow.KindRetry, Reason: "the server answered HTTP 502 Bad Gateway", RetryIn: 10 * time.Second},
		deviceflow.Event{Kind: deviceflow.KindPending},
		deviceflow.Event{Kind: deviceflow.KindPending},
		deviceflow.Event{Kind: deviceflow.KindSuccess},
		Status("Checking the token with the API"),
		Warning("GH_TOKEN is set and shadows the stored token"),
	}
}

func scriptTask(script []any, res *Result, err error) Task {
	return func(ctx context.Context, emit func(any)) (*Result, error) {
		for _, v := range script {
			emit(v)
		}
		return res, err
	}
}

var octocat = &Result{Host: "github.com", Login: "octocat", Store: "keyring", Scopes: []string{"repo", "read:org", "gist"}}

func TestPlainDeviceFlow(t *testing.T) {
	clock := newFakeNow()
	var out, errb bytes.Buffer
	res, err := Run(context.Background(), Options{Mode: Plain, Host: "github.com", Out: &out, Err: &errb, Clock: clock},
		scriptTask(deviceScript(clock.Now(), true), octocat, nil))
	if err != nil || res == nil || res.Login != "octocat" {
		t.Fatalf("Run = %v, %v", res, err)
	}
	want := strings.Join([]string{
		"Requesting a code from github.com",
		"First copy your one-time code: WDJB-MJHT",
		"Then open: https://github.com/login/device",
		"(or open https://github.com/login/device?user_code=WDJB-MJHT, which fills in the code)",
		"Waiting for approval (the code expires in 15 minutes)…",
		"The server asked to slow down; checking every 10 s.",
		"Waiting for approval…",
		"The server answered HTTP 502 Bad Gateway; retrying in 10 s.",
		"Waiting for approval…",
		"Approved.",
		"Checking the token with the API",
		"warning: GH_TOKEN is set and shadows the stored token",
		"Logged in to github.com as octocat (token kept in the keyring)",
		"",
	}, "\n")
	if got := errb.String(); got != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", got, want)
	}
	if out.Len() != 0 {
		t.Errorf("plain mode wrote to stdout: %q", out.String())
	}
}

func TestPlainErrors(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{&oauth.Error{Code: "access_denied"}, "error: the server answered access_denied (the request was denied in the browser; run login again to retry)\n"},
		{&oauth.TimeoutError{Message: "the code expired; run login again"}, "error: the code expired; run login again\n"},
		{context.Canceled, "error: login cancelled\n"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		_, err := Run(context.Background(), Options{Mode: Plain, Out: &out, Err: &errb}, scriptTask(nil, nil, c.err))
		if !errors.Is(err, c.err) {
			t.Errorf("Run returned %v, want %v", err, c.err)
		}
		if errb.String() != c.want || out.Len() != 0 {
			t.Errorf("stderr %q stdout %q, want stderr %q", errb.String(), out.String(), c.want)
		}
	}
	var errb bytes.Buffer
	if _, err := Run(context.Background(), Options{Mode: Plain, Err: &errb, Out: io.Discard}, scriptTask(nil, nil, nil)); !errors.Is(err, ErrNoResult) {
		t.Errorf("a task with no result and no error gave %v", err)
	}
}

func TestPlainWebFlow(t *testing.T) {
	clock := newFakeNow()
	var errb bytes.Buffer
	script := []any{
		webflow.Event{Kind: webflow.KindAuthorize, URL: "https://github.com/login/oauth/authorize?client_id=x", ExpiresAt: clock.Now().Add(5 * time.Minute)},
		webflow.Event{Kind: webflow.KindBrowser, Err: errors.New("no browser")},
		&webflow.Event{Kind: webflow.KindCallback},
		webflow.Event{Kind: webflow.KindSuccess},
	}
	res := &Result{Login: "octocat", Store: "file", StorePath: "/tmp/c/credentials.json"}
	if _, err := Run(context.Background(), Options{Mode: Plain, Host: "ghe.example.com", Flow: FlowWeb, Err: &errb, Out: io.Discard, Clock: clock}, scriptTask(script, res, nil)); err != nil {
		t.Fatal(err)
	}
	want := "Open this URL in a browser on this machine to log in: https://github.com/login/oauth/authorize?client_id=x\n" +
		"Waiting for the browser (up to 5 minutes)…\n" +
		"Could not open a browser (no browser); open the URL yourself.\n" +
		"The browser came back; finishing the login…\n" +
		"Approved.\n" +
		"Logged in to ghe.example.com as octocat (token kept in /tmp/c/credentials.json)\n"
	if errb.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errb.String(), want)
	}
}

// decodeLines parses every stdout line as one JSON object, failing on
// anything else.
func decodeLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var evs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("stdout line is not a JSON object: %q (%v)", sc.Text(), err)
		}
		evs = append(evs, m)
	}
	if out != "" && !strings.HasSuffix(out, "\n") {
		t.Fatalf("stdout does not end with a newline: %q", out)
	}
	return evs
}

func fields(m map[string]any) []string {
	var k []string
	for f := range m {
		k = append(k, f)
	}
	sort.Strings(k)
	return k
}

func TestJSONDeviceFlow(t *testing.T) {
	clock := newFakeNow()
	for _, complete := range []bool{false, true} {
		var out, errb bytes.Buffer
		res, err := Run(context.Background(), Options{Mode: JSON, Host: "github.com", Out: &out, Err: &errb, Clock: clock},
			scriptTask(deviceScript(clock.Now(), complete), octocat, nil))
		if err != nil || res.Login != "octocat" {
			t.Fatalf("Run = %v, %v", res, err)
		}
		evs := decodeLines(t, out.String())
		var kinds []string
		for _, e := range evs {
			kinds = append(kinds, e["event"].(string))
		}
		wantKinds := []string{"code", "pending", "pending", "slow_down", "pending", "retry", "pending", "pending", "success"}
		if !reflect.DeepEqual(kinds, wantKinds) {
			t.Fatalf("events %v, want %v", kinds, wantKinds)
		}
		wantFields := map[string][]string{
			"code":      {"event", "expires_at", "interval", "user_code", "verification_uri", "verification_uri_complete"},
			"pending":   {"event"},
			"slow_down": {"event", "interval"},
			"retry":     {"error", "event", "retry_in"},
			"success":   {"event", "host", "login", "store"},
		}
		for _, e := range evs {
			if got, want := fields(e), wantFields[e["event"].(string)]; !reflect.DeepEqual(got, want) {
				t.Errorf("%s event has fields %v, want %v", e["event"], got, want)
			}
		}
		code := evs[0]
		if code["user_code"] != "WDJB-MJHT" || code["verification_uri"] != "https://github.com/login/device" || code["interval"] != json.Number("5") {
			t.Errorf("code event %v", code)
		}
		if complete && code["verification_uri_complete"] != "https://github.com/login/device?user_code=WDJB-MJHT" {
			t.Errorf("verification_uri_complete = %v", code["verification_uri_complete"])
		}
		if !complete && code["verification_uri_complete"] != nil {
			t.Errorf("verification_uri_complete = %v, want null", code["verification_uri_complete"])
		}
		if !complete && !strings.Contains(out.String(), `"verification_uri_complete":null`) {
			t.Error("verification_uri_complete is not written as null")
		}
		exp, err := time.Parse(time.RFC3339, code["expires_at"].(string))
		if err != nil || !exp.Equal(clock.Now().Add(15*time.Minute)) {
			t.Errorf("expires_at %v (%v)", code["expires_at"], err)
		}
		if evs[3]["interval"] != json.Number("10") {
			t.Errorf("slow_down %v", evs[3])
		}
		if evs[5]["error"] != "the server answered HTTP 502 Bad Gateway" || evs[5]["retry_in"] != json.Number("10") {
			t.Errorf("retry %v", evs[5])
		}
		if s := evs[len(evs)-1]; s["host"] != "github.com" || s["login"] != "octocat" || s["store"] != "keyring" {
			t.Errorf("success %v", s)
		}
		// Status and Warning go to stderr, never stdout.
		if want := "Requesting a code from github.com\nChecking the token with the API\nwarning: GH_TOKEN is set and shadows the stored token\n"; errb.String() != want {
			t.Errorf("stderr %q, want %q", errb.String(), want)
		}
	}
}

func TestJSONErrorCodes(t *testing.T) {
	cases := []struct {
		err  error
		code string
	}{
		{&oauth.Error{Code: "access_denied", Description: "denied"}, "access_denied"},
		{&oauth.Error{Code: "expired_token"}, "expired_token"},
		{&oauth.Error{Code: "device_flow_disabled"}, "device_flow_disabled"},
		{&oauth.TimeoutError{Message: "the code expired; run login again"}, "timeout"},
		{&oauth.NetworkError{Endpoint: "https://github.com/login/device/code", Err: errors.New("refused")}, "network"},
		{&oauth.HTTPError{StatusCode: 503}, "network"},
		{context.Canceled, "cancelled"},
		{errors.New("something else"), "error"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		_, err := Run(context.Background(), Options{Mode: JSON, Out: &out, Err: &errb}, scriptTask(nil, nil, c.err))
		if !errors.Is(err, c.err) {
			t.Errorf("Run returned %v", err)
		}
		evs := decodeLines(t, out.String())
		if len(evs) != 1 {
			t.Fatalf("%v: %d events", c.err, len(evs))
		}
		e := evs[0]
		if !reflect.DeepEqual(fields(e), []string{"code", "event", "message"}) || e["event"] != "error" || e["code"] != c.code || e["message"] == "" {
			t.Errorf("%v: event %v, want code %q", c.err, e, c.code)
		}
		if errb.Len() != 0 {
			t.Errorf("stderr %q", errb.String())
		}
	}
}

func TestJSONWebFlow(t *testing.T) {
	clock := newFakeNow()
	var out, errb bytes.Buffer
	u := "https://github.com/login/oauth/authorize?client_id=x&state=y"
	script := []any{
		webflow.Event{Kind: webflow.KindAuthorize, URL: u, ExpiresAt: clock.Now().Add(5 * time.Minute)},
		webflow.Event{Kind: webflow.KindBrowser, Err: errors.New("no browser")},
		webflow.Event{Kind: webflow.KindCallback},
		webflow.Event{Kind: webflow.KindSuccess},
	}
	if _, err := Run(context.Background(), Options{Mode: JSON, Host: "github.com", Flow: FlowWeb, Out: &out, Err: &errb}, scriptTask(script, octocat, nil)); err != nil {
		t.Fatal(err)
	}
	evs := decodeLines(t, out.String())
	// authorize has exactly the fields SPEC lists: event and url.
	if len(evs) != 2 || evs[0]["event"] != "authorize" || evs[0]["url"] != u || len(evs[0]) != 2 || evs[1]["event"] != "success" {
		t.Errorf("events %v", evs)
	}
	if !strings.Contains(out.String(), `&state=y`) {
		t.Error("URLs are HTML-escaped in JSON")
	}
	if errb.String() != "Could not open a browser (no browser); open the URL yourself.\n" {
		t.Errorf("stderr %q", errb.String())
	}
}

func TestConfirm(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"y\n", true}, {"Yes\n", true}, {" YES \r\n", true},
		{"\n", false}, {"n\n", false}, {"no\n", false}, {"maybe\n", false}, {"", false}, {"y", true},
	}
	for _, c := range cases {
		var out bytes.Buffer
		got, err := Confirm(context.Background(), strings.NewReader(c.in), &out, "Keep the token in the file store at /x/credentials.json?")
		if err != nil || got != c.want {
			t.Errorf("Confirm(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		if !strings.HasPrefix(out.String(), "Keep the token in the file store at /x/credentials.json? [y/N] ") {
			t.Errorf("prompt %q", out.String())
		}
	}
	// Only the answer's line is read: the rest stays for whoever reads next.
	r := strings.NewReader("y\nprotocol=https\n")
	if ok, _ := Confirm(context.Background(), r, io.Discard, "Use the device flow instead?"); !ok {
		t.Fatal("not confirmed")
	}
	if rest, _ := io.ReadAll(r); string(rest) != "protocol=https\n" {
		t.Errorf("Confirm consumed more than its line; left %q", rest)
	}
	if _, err := Confirm(context.Background(), iotestErrReader{}, io.Discard, "?"); err == nil {
		t.Error("a read error was not reported")
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("input/output error") }

// A retry says what failed once: the reason is not wrapped in another
// "network error", and an HTTP failure is not called a network error.
func TestPlainRetrySaysWhatFailedOnce(t *testing.T) {
	clock := newFakeNow()
	var errb bytes.Buffer
	_, _ = Run(context.Background(), Options{Mode: Plain, Host: "github.com", Err: &errb, Out: io.Discard, Clock: clock},
		scriptTask([]any{
			deviceflow.Event{Kind: deviceflow.KindRetry, Reason: "network error: connection refused", RetryIn: 4 * time.Second},
			deviceflow.Event{Kind: deviceflow.KindRetry, Reason: "HTTP 503 Service Unavailable", RetryIn: 8 * time.Second},
		}, octocat, nil))
	out := errb.String()
	for _, want := range []string{"Network error: connection refused; retrying in 4 s.\n", "HTTP 503 Service Unavailable; retrying in 8 s.\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(strings.ToLower(out), "network error"); n != 1 {
		t.Errorf("%d network errors:\n%s", n, out)
	}
}

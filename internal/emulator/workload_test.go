package emulator

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/emulator/workload"
)

// TestWorkloadInServer serves the workload fakes on the emulator's own listener.
func TestWorkloadInServer(t *testing.T) {
	e := start(t, Config{Workload: &workload.Config{}})
	w := e.s.Workload()
	if w == nil || w.URL() != e.base || w.ActionsIssuer() != e.base+"/_services/token" || w.MetadataHost() != strings.TrimPrefix(e.base, "http://") {
		t.Fatalf("Workload() = %+v", w)
	}
	subject, err := w.SignActionsToken("https://iam.googleapis.com/"+workload.DefaultProvider, nil)
	if err != nil {
		t.Fatal(err)
	}
	fed := e.post("/v1/token", url.Values{
		"grant_type":           {workload.TokenExchangeGrantType},
		"audience":             {"//iam.googleapis.com/" + workload.DefaultProvider},
		"scope":                {workload.CloudPlatformScope},
		"requested_token_type": {workload.AccessTokenType},
		"subject_token_type":   {workload.JWTTokenType},
		"subject_token":        {subject},
	}, true)
	if fed.status != 200 || fed.f["access_token"] == "" {
		t.Fatalf("STS: HTTP %d %s", fed.status, fed.body)
	}
	req, _ := http.NewRequest(http.MethodPost, e.base+"/v1/projects/-/serviceAccounts/"+workload.DefaultServiceAccount+":generateAccessToken", strings.NewReader(`{"scope":["s"]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+fed.f["access_token"])
	if r := e.do(req); r.status != 200 || r.f["expireTime"] != "2025-01-01T13:00:00Z" {
		t.Fatalf("IAM: HTTP %d %s", r.status, r.body)
	}
	// The GitHub endpoints still answer.
	dc := e.deviceCode(DefaultClientID, "")
	if dc.f["device_code"] == "" {
		t.Fatalf("device code: %+v", dc)
	}
	if len(w.Requests()) != 2 {
		t.Errorf("recorded %d workload requests, want 2: %+v", len(w.Requests()), w.Requests())
	}
	logs := e.logs.all()
	if !strings.Contains(logs, "POST /v1/token 200") || !strings.Contains(logs, "POST /login/device/code 200") {
		t.Errorf("server logs:\n%s", logs)
	}
	if e.s.Stats().Requests["POST /v1/token"] != 1 {
		t.Errorf("stats = %v", e.s.Stats().Requests)
	}
	if s := New(Config{}); s.Workload() != nil {
		t.Error("a Server without Config.Workload has workload fakes")
	}
}

// TestWorkloadErrorInLog shows a fake's error code in the emulator's log line.
func TestWorkloadErrorInLog(t *testing.T) {
	e := start(t, Config{Workload: &workload.Config{}})
	r := e.post("/v1/token", url.Values{"grant_type": {"password"}}, true)
	if r.status != 400 || !strings.Contains(e.logs.all(), "POST /v1/token 400 error=unsupported_grant_type") {
		t.Errorf("HTTP %d; logs:\n%s", r.status, e.logs.all())
	}
}

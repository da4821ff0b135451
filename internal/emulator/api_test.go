package emulator

import (
	"net/http"
	"strings"
	"testing"
)

func TestUserEndpointAuth(t *testing.T) {
	e := start(t, Config{})
	ts, err := e.s.IssueToken(DefaultClientID, "octocat", []string{"repo"})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/user", "/api/v3/user"} {
		for _, scheme := range []string{"Bearer", "token", "bearer"} {
			r := e.get(path, "Authorization", scheme+" "+ts.AccessToken)
			if r.status != 200 || r.f["login"] != "octocat" || r.raw["id"] != float64(583231) || r.header.Get("X-OAuth-Scopes") != "repo" {
				t.Fatalf("%s with %s: %d %s", path, scheme, r.status, r.body)
			}
		}
	}
	cases := []struct {
		name, auth, msg string
	}{
		{"no credentials", "", "Requires authentication"},
		{"unknown token", "Bearer gho_" + strings.Repeat("x", 36), "Bad credentials"},
		{"basic scheme", "Basic b2N0b2NhdDpwYXNz", "Bad credentials"},
		{"empty bearer", "Bearer ", "Bad credentials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r reply
			if c.auth == "" {
				r = e.get("/user")
			} else {
				r = e.get("/user", "Authorization", c.auth)
			}
			if r.status != http.StatusUnauthorized || r.f["message"] != c.msg || !strings.HasPrefix(r.ctype, "application/json") {
				t.Fatalf("got %d %s", r.status, r.body)
			}
		})
	}
	e.s.Revoke(ts.AccessToken)
	if r := e.get("/user", "Authorization", "Bearer "+ts.AccessToken); r.status != http.StatusUnauthorized || r.f["message"] != "Bad credentials" {
		t.Fatalf("revoked token: %d %s", r.status, r.body)
	}
}

func TestDeleteApplicationToken(t *testing.T) {
	e := start(t, Config{})
	ts, _ := e.s.IssueToken(DefaultClientID, "octocat", []string{"repo"})
	del := func(path, id, secret, body string) reply {
		req, _ := http.NewRequest(http.MethodDelete, e.base+path, strings.NewReader(body))
		if id != "" {
			req.SetBasicAuth(id, secret)
		}
		req.Header.Set("Content-Type", "application/json")
		return e.do(req)
	}
	path := "/applications/" + DefaultClientID + "/token"
	body := `{"access_token":"` + ts.AccessToken + `"}`
	if r := del(path, DefaultClientID, "wrong", body); r.status != http.StatusUnauthorized {
		t.Fatalf("bad client secret: %d", r.status)
	}
	if r := del(path, "", "", body); r.status != http.StatusUnauthorized {
		t.Fatalf("no client auth: %d", r.status)
	}
	if r := del("/applications/"+AppClientID+"/token", AppClientID, AppClientSecret, body); r.status != http.StatusNotFound {
		t.Fatalf("another app's token: %d", r.status)
	}
	if r := del(path, DefaultClientID, DefaultClientSecret, `{}`); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("missing token: %d", r.status)
	}
	if e.userStatus(ts.AccessToken) != 200 {
		t.Fatal("token revoked by a refused request")
	}
	if r := del("/api/v3"+path, DefaultClientID, DefaultClientSecret, body); r.status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if e.userStatus(ts.AccessToken) != http.StatusUnauthorized {
		t.Fatal("revoked token still works")
	}
	if r := del(path, DefaultClientID, DefaultClientSecret, body); r.status != http.StatusNotFound {
		t.Fatalf("second revoke: %d", r.status)
	}
	if r := e.get(path); r.status != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", r.status)
	}
}

package agent

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Request
	}{
		{`{"v":1,"op":"token","host":"github.com","purpose":"git"}`, Request{V: 1, Op: OpToken, Host: "github.com", Purpose: PurposeGit}},
		{`{"v":1,"op":"token","host":"GitHub.COM.","owner":"octo-org","user":"octocat","purpose":"exec"}`,
			Request{V: 1, Op: OpToken, Host: "github.com", Owner: "octo-org", User: "octocat", Purpose: PurposeExec}},
		{`{"v":1,"op":"token","host":"ghe.example.com:443","purpose":"token"}`, Request{V: 1, Op: OpToken, Host: "ghe.example.com", Purpose: PurposeToken}},
		{`{"v":1,"op":"token","host":"127.0.0.1:8787","user":"me@example.com","purpose":"git"}`, Request{V: 1, Op: OpToken, Host: "127.0.0.1:8787", User: "me@example.com", Purpose: PurposeGit}},
		{`  {"purpose":"git","host":"github.com","op":"token","v":1}  `, Request{V: 1, Op: OpToken, Host: "github.com", Purpose: PurposeGit}},
		{`{"v":1,"op":"list"}`, Request{V: 1, Op: OpList}},
		{`{"v":1,"op":"list","purpose":"status"}`, Request{V: 1, Op: OpList, Purpose: PurposeStatus}},
	} {
		got, err := ParseRequest([]byte(tc.line))
		if err != nil {
			t.Errorf("%s: %v", tc.line, err)
			continue
		}
		if *got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.line, *got, tc.want)
		}
	}
}

func TestParseRequestRefuses(t *testing.T) {
	long := `{"v":1,"op":"token","host":"github.com","purpose":"git","user":"` + strings.Repeat("a", MaxLine) + `"}`
	for _, tc := range []struct {
		line, reason string
	}{
		{``, "not valid JSON: it ends too early"},
		{`{`, "ends too early"},
		{`{"v":1,"op":"token","host":"github.com","purpose":"git"`, "ends too early"},
		{`not json`, "not valid JSON"},
		{`[1,2]`, "not a JSON object"},
		{`"token"`, "not a JSON object"},
		{`null`, "not a JSON object"},
		{`{"v":1,"op":"token","host":"github.com","purpose":"git"} {"v":1}`, "one request per line"},
		{`{"v":1,"op":"list"}x`, "one request per line"},
		{`{"v":1,"op":"list","extra":true}`, `unknown field "extra"`},
		{`{"v":1,"op":"token","Host":"github.com","purpose":"git"}`, `unknown field "Host"`},
		{`{"v":1,"op":"token","host":"evil.com","host":"github.com","purpose":"git"}`, `"host" appears twice`},
		{`{"v":"1","op":"list"}`, "not valid JSON"},
		{`{"v":1.5,"op":"list"}`, "not valid JSON"},
		{`{"v":1,"op":"token","host":["github.com"],"purpose":"git"}`, "not valid JSON"},
		{`{"op":"list"}`, "protocol version 0 is not supported"},
		{`{"v":2,"op":"list"}`, "protocol version 2 is not supported (this agent speaks 1)"},
		{`{"v":1}`, `"op" is missing`},
		{`{"v":1,"op":"delete"}`, `unknown op "delete"`},
		{`{"v":1,"op":"list","host":"github.com"}`, "a list request takes no host"},
		{`{"v":1,"op":"list","purpose":"git"}`, `purpose is "status"`},
		{`{"v":1,"op":"token","host":"github.com"}`, `"purpose" is missing`},
		{`{"v":1,"op":"token","host":"github.com","purpose":"status"}`, "unknown purpose"},
		{`{"v":1,"op":"token","purpose":"git"}`, `"host" is missing`},
		{`{"v":1,"op":"token","host":"evil.com/x","purpose":"git"}`, "is not a host name"},
		{`{"v":1,"op":"token","host":"a b","purpose":"git"}`, "is not a host name"},
		{`{"v":1,"op":"token","host":"github.com","user":"a b","purpose":"git"}`, "the user contains spaces or control characters"},
		{`{"v":1,"op":"token","host":"github.com","owner":"a\u001b[31m","purpose":"git"}`, "the owner contains spaces or control characters"},
		{`{"v":1,"op":"token","host":"github.com","owner":"a\u202eb","purpose":"git"}`, "cannot be printed"},
		{`{"v":1,"op":"token","host":"github.com","user":"../../x","purpose":"git"}`, `"../../x" is not a valid user name`},
		{`{"v":1,"op":"token","host":"github.com","user":"..","purpose":"git"}`, "not a valid user name"},
		{`{"v":1,"op":"token","host":"github.com","owner":"octo-org/x","purpose":"git"}`, "not a valid owner name"},
		{`{"v":1,"op":"token","host":"github.com","user":"DOMAIN\\mona","purpose":"git"}`, "not a valid user name"},
		{`{"v":1,"op":"token","host":"github.com","user":"` + strings.Repeat("u", 300) + `","purpose":"git"}`, "longer than 256 bytes"},
		{"{\"v\":1,\"op\":\"list\",\"purpose\":\"\xff\"}", "not valid UTF-8"},
		{long, "longer than 8192 bytes"},
	} {
		_, err := ParseRequest([]byte(tc.line))
		var re *RequestError
		if !errors.As(err, &re) {
			t.Errorf("%.80s: got %v, want a *RequestError", tc.line, err)
			continue
		}
		if !strings.Contains(re.Reason, tc.reason) {
			t.Errorf("%.80s: reason %q, want %q in it", tc.line, re.Reason, tc.reason)
		}
		if re.Reason != strings.ToValidUTF8(re.Reason, "?") || strings.ContainsAny(re.Reason, "\x1b\n\u202e") {
			t.Errorf("%.80s: reason %q is not printable", tc.line, re.Reason)
		}
	}
}

// A request of exactly MaxLine bytes is read; one more byte is not.
func TestParseRequestSizeLimit(t *testing.T) {
	base := `{"v":1,"op":"list"}`
	exact := base[:len(base)-1] + strings.Repeat(" ", MaxLine-len(base)) + "}"
	if len(exact) != MaxLine {
		t.Fatal(len(exact))
	}
	if _, err := ParseRequest([]byte(exact)); err != nil {
		t.Fatalf("%d bytes: %v", len(exact), err)
	}
	if _, err := ParseRequest([]byte(exact + " ")); err == nil {
		t.Fatalf("%d bytes accepted", len(exact)+1)
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(`{"v":1,"op":"token","host":"github.com","purpose":"git"}`))
	f.Add([]byte(`{"v":1,"op":"list"}`))
	f.Add([]byte(`{"v":1,"op":"token","host":"x","host":"y","purpose":"git"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		req, err := ParseRequest(line)
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("%T", err)
			}
			return
		}
		// What is accepted survives a round trip unchanged.
		b, err := encodeLine(req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseRequest(b[:len(b)-1])
		if err != nil || *again != *req {
			t.Fatalf("%q → %+v → %q → %+v, %v", line, req, b, again, err)
		}
	})
}

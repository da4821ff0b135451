// Package agent lends this machine's logins to another machine over SSH
// without writing a token there, the way ssh-agent lends SSH keys.
//
// The agent (Server) listens on a Unix-domain socket in a directory only its
// user can enter (Listen, RuntimeDir), answers only peers of its own user
// (SO_PEERCRED on Linux, LOCAL_PEERCRED on macOS and FreeBSD), and hands out
// tokens only for the hosts it was allowed to serve. `ssh -R` forwards the
// socket to the remote machine (BuildSSH builds that ssh command line), where
// ghlogin finds it through GHLOGIN_AGENT_SOCK or a well-known per-user path
// (FromEnv) and asks it with a Client.
//
// The protocol is JSON lines: one request per line, one response line per
// request, both carrying a version field "v" (Version). docs/agent.md
// describes it in full, with a git helper for a machine without ghlogin.
//
//	→ {"v":1,"op":"token","host":"github.com","purpose":"git"}
//	← {"v":1,"agent":"laptop","host":"github.com","login":"octocat","token":"ghu_…","expires_at":"2026-03-01T20:00:00Z"}
//	→ {"v":1,"op":"token","host":"ghe.example.com","purpose":"git"}
//	← {"v":1,"agent":"laptop","error":{"code":"not_allowed","host":"ghe.example.com","reason":"this agent serves github.com only"}}
//
// A token never appears in an Event, an error or the String of any value
// here.
package agent

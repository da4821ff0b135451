package agent

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const nonce = "0123456789abcdef0123456789abcdef"

var planPrefix = []string{"ssh",
	"-o", "ExitOnForwardFailure=yes", "-o", "ClearAllForwardings=no", "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "RemoteCommand=none",
	"-R", "/tmp/ghlogin-agent-" + nonce + ".sock:/run/user/1000/ghlogin/agent-1.sock"}

func TestBuildSSH(t *testing.T) {
	remote := "/tmp/ghlogin-agent-" + nonce + ".sock"
	for _, tc := range []struct {
		args     []string
		terminal bool
		tty      bool     // -t added
		options  []string // the user's options, in order
		dest     string
		name     string
		command  string
	}{
		{[]string{"build-1"}, true, true, nil, "build-1", "build-1", ""},
		{[]string{"build-1"}, false, false, nil, "build-1", "build-1", ""},
		{[]string{"-p", "2222", "-i", "/k/id", "-l", "me", "build-1"}, true, true, []string{"-p", "2222", "-i", "/k/id", "-l", "me"}, "build-1", "build-1", ""},
		// Options right after the destination are ssh's; then the command.
		{[]string{"me@build-1", "-p", "2222", "ls", "-la", "/x"}, true, false, []string{"-p", "2222"}, "me@build-1", "build-1", "ls -la /x"},
		// Attached values, grouped flags, -o both ways.
		{[]string{"-p2222", "-vvt", "-oStrictHostKeyChecking=no", "-o", "User me", "build-1"}, true, false,
			[]string{"-p", "2222", "-v", "-v", "-t", "-o", "StrictHostKeyChecking=no", "-o", "User me"}, "build-1", "build-1", ""},
		{[]string{"-vp", "22", "build-1"}, true, true, []string{"-v", "-p", "22"}, "build-1", "build-1", ""},
		// "--" ends the options: what follows the destination is the command.
		{[]string{"--", "build-1", "-p", "22"}, true, false, nil, "build-1", "build-1", "-p 22"},
		{[]string{"build-1", "--", "-v"}, true, false, nil, "build-1", "build-1", "-v"},
		{[]string{"-J", "jump", "-F", "/c/cfg", "ssh://me@build-1:2222"}, true, true, []string{"-J", "jump", "-F", "/c/cfg"}, "ssh://me@build-1:2222", "build-1", ""},
		{[]string{"me@[::1]"}, true, true, nil, "me@[::1]", "::1", ""},
		{[]string{"ssh://[::1]:22/"}, true, true, nil, "ssh://[::1]:22/", "::1", ""},
		// The user chose about the TTY.
		{[]string{"-T", "build-1"}, true, false, []string{"-T"}, "build-1", "build-1", ""},
		{[]string{"-o", "RequestTTY=force", "build-1"}, true, false, []string{"-o", "RequestTTY=force"}, "build-1", "build-1", ""},
		// Forwards of the user's own are kept.
		{[]string{"-L", "8080:localhost:80", "-R", "9000:localhost:9000", "-A", "build-1", "make"}, true, false,
			[]string{"-L", "8080:localhost:80", "-R", "9000:localhost:9000", "-A"}, "build-1", "build-1", "make"},
		// ssh joins the command's words with spaces; the remote shell reads them.
		{[]string{"build-1", "echo", "it's", "a  b"}, true, false, nil, "build-1", "build-1", "echo it's a  b"},
		{[]string{"build-1", ""}, true, true, nil, "build-1", "build-1", ""},
	} {
		p, err := BuildSSH(SSHRequest{Args: tc.args, LocalSocket: "/run/user/1000/ghlogin/agent-1.sock", Nonce: nonce, Terminal: tc.terminal})
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		want := append([]string(nil), planPrefix...)
		if tc.tty {
			want = append(want, "-t")
		}
		want = append(want, tc.options...)
		want = append(want, "--", tc.dest, RemoteCommand(remote, tc.command))
		if !reflect.DeepEqual(p.Argv, want) {
			t.Errorf("%q:\n got %q\nwant %q", tc.args, p.Argv, want)
		}
		if p.RemoteSocket != remote || p.Destination != tc.dest || p.RemoteName != tc.name || p.Command != tc.command {
			t.Errorf("%q: got %+v", tc.args, p)
		}
	}
}

func TestBuildSSHProgram(t *testing.T) {
	p, err := BuildSSH(SSHRequest{Args: []string{"h"}, LocalSocket: "/s.sock", Nonce: nonce, Program: "/usr/bin/ssh"})
	if err != nil || p.Argv[0] != "/usr/bin/ssh" {
		t.Fatal(p, err)
	}
}

func TestBuildSSHRefuses(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		arg    string
		reason string
	}{
		{[]string{"-N", "h"}, "-N", "runs no remote command"},
		{[]string{"-fN", "h"}, "-f", "background"},
		{[]string{"-W", "x:22", "h"}, "-W", "stdin and stdout"},
		{[]string{"h", "-s", "sftp"}, "-s", "subsystem"},
		{[]string{"-M", "h"}, "-M", "shares the connection"},
		{[]string{"-S", "/c/ctl", "h"}, "-S", "shares the connection"},
		{[]string{"-O", "exit", "h"}, "-O", "shared connection"},
		{[]string{"-G", "h"}, "-G", "connects nowhere"},
		{[]string{"-o", "ControlMaster=auto", "h"}, "-o ControlMaster=auto", "connection of its own"},
		{[]string{"-oControlPersist=yes", "h"}, "-o ControlPersist=yes", "connection of its own"},
		{[]string{"-o", "RemoteCommand ls", "h"}, "-o RemoteCommand ls", "give the command after the destination"},
		{[]string{"-o", "remotecommand=ls", "h"}, "-o remotecommand=ls", "give the command"},
		{[]string{"-o", "SessionType=none", "h"}, "-o SessionType=none", "shell or command"},
		{[]string{"-o", "ForkAfterAuthentication=yes", "h"}, "-o ForkAfterAuthentication=yes", "background"},
		{[]string{"-o", "ClearAllForwardings=yes", "h"}, "-o ClearAllForwardings=yes", "forwarded"},
		{[]string{"-Z", "h"}, "-Z", "is not an ssh option"},
		{[]string{"h", "-p"}, "-p", "needs a value"},
		{[]string{"-p", "22"}, "", "no destination"},
		{nil, "", "no destination"},
		{[]string{"--", "-h"}, "-h", "is not a destination"},
	} {
		_, err := BuildSSH(SSHRequest{Args: tc.args, LocalSocket: "/s.sock", Nonce: nonce})
		var ae *SSHArgsError
		if !errors.As(err, &ae) || ae.Arg != tc.arg || !strings.Contains(ae.Reason, tc.reason) {
			t.Errorf("%q: got %#v", tc.args, err)
		}
	}
	for _, r := range []SSHRequest{
		{Args: []string{"h"}, LocalSocket: "/s.sock", Nonce: "short"},
		{Args: []string{"h"}, LocalSocket: "/s.sock", Nonce: strings.ToUpper(nonce)},
		{Args: []string{"h"}, LocalSocket: "/s.sock", Nonce: "../../etc/passwd0000"},
		{Args: []string{"h"}, LocalSocket: "relative.sock", Nonce: nonce},
		{Args: []string{"h"}, LocalSocket: "/a:b.sock", Nonce: nonce},
		{Args: []string{"h"}, LocalSocket: "/" + strings.Repeat("x", 120), Nonce: nonce},
	} {
		if _, err := BuildSSH(r); err == nil {
			t.Errorf("%+v: accepted", r)
		}
	}
}

// The remote command passes the user's command to the remote shell intact,
// holds no single quote of its own, and never names a token.
func TestRemoteCommand(t *testing.T) {
	if strings.ContainsAny(remoteScript, "'\\!\n") {
		t.Fatal("the remote script holds a character that some login shell would read differently")
	}
	got := RemoteCommand("/tmp/s.sock", `echo "it's" $HOME`)
	want := `/bin/sh -c '` + remoteScript + `' ghlogin-ssh /tmp/s.sock 'echo "it'\''s" $HOME'`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := RemoteCommand("/tmp/s.sock", ""); got != `/bin/sh -c '`+remoteScript+`' ghlogin-ssh /tmp/s.sock` {
		t.Fatal(got)
	}
}

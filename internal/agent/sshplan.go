package agent

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ghlogin/ghlogin/internal/safe"
)

// SSHRequest is what BuildSSH needs to build an ssh command line.
type SSHRequest struct {
	// Args are the user's ssh arguments as ssh takes them: options, the
	// destination, then optionally a remote command.
	Args []string
	// LocalSocket is the agent's socket on this machine (Socket.Path).
	LocalSocket string
	// Nonce names the remote socket (NewNonce): 16 to 64 lower-case hex
	// digits, so nobody on the remote can guess or squat the name.
	Nonce string
	// Terminal says this side's stdin is a terminal: a login shell then
	// gets a TTY (-t), as plain ssh would give it one.
	Terminal bool
	// Program is the ssh program; "" means "ssh".
	Program string
}

// SSHPlan is the ssh command line and what it sets up.
type SSHPlan struct {
	// Argv is the command to run: Argv[0] is the ssh program.
	Argv []string
	// RemoteSocket is the forwarded socket's path on the remote.
	RemoteSocket string
	// Destination is the destination as the user gave it.
	Destination string
	// RemoteName is the destination's host, printable, for messages
	// ("build-1 used your github.com token …").
	RemoteName string
	// Command is the remote command as ssh sends it (the words joined with
	// spaces); "" runs the login shell.
	Command string
}

// SSHArgsError is an ssh argument that `ghlogin ssh` cannot honour.
type SSHArgsError struct {
	// Arg is the argument ("-N", "-o ControlMaster=auto"); "" when one is
	// missing.
	Arg    string
	Reason string
}

// Error names the argument and why.
func (e *SSHArgsError) Error() string {
	if e.Arg == "" {
		return "ssh arguments: " + e.Reason
	}
	return fmt.Sprintf("ssh argument %s: %s", safe.Short(e.Arg, 80), e.Reason)
}

// OpenSSH's option letters (ssh.c's getopt string, OpenSSH 9.x): those that
// take an argument and those that do not.
const (
	sshArgOptions  = "bceilmopBDEFIJLOPQRSwW"
	sshFlagOptions = "1246afgknqstvxyACGKMNTVXY"
)

// refusedFlags are ssh options that would leave the remote without the
// agent or the agent without a session to live in.
var refusedFlags = map[byte]string{
	'N': "runs no remote command, so the remote shell could not learn where the agent is",
	'W': "forwards stdin and stdout instead of running a shell with the agent",
	's': "runs a subsystem instead of a shell with the agent",
	'f': "sends ssh to the background, so the agent would stop at once",
	'G': "prints the configuration and connects nowhere",
	'V': "prints the version and connects nowhere",
	'Q': "queries ssh and connects nowhere",
	'O': "controls a shared connection; the agent needs a connection of its own",
	'M': "shares the connection; the forward would outlive the session and belong to the master",
	'S': "shares the connection; the forward would outlive the session and belong to the master",
}

// refusedConfig are ssh_config keywords (lower case) refused in -o for the
// same reasons, and because the plan sets them itself.
var refusedConfig = map[string]string{
	"remotecommand":           "the remote command is set by ghlogin ssh; give the command after the destination",
	"sessiontype":             "the session must run a shell or command with the agent",
	"forkafterauthentication": "sends ssh to the background, so the agent would stop at once",
	"controlmaster":           "the agent needs a connection of its own",
	"controlpath":             "the agent needs a connection of its own",
	"controlpersist":          "the agent needs a connection of its own",
	"clearallforwardings":     "the agent's socket is forwarded",
}

// BuildSSH returns the ssh command line for a session that lends the agent
// at r.LocalSocket to the remote, from the user's ssh arguments. It parses
// them as OpenSSH does (options before the destination, more options right
// after it, then the command; "--" ends options), keeps them all, and adds:
//
//   - -R REMOTE:LOCAL, a remote Unix-socket forward to a fresh path
//     /tmp/ghlogin-agent-NONCE.sock: sshd binds it as the user with its
//     StreamLocalBindMask (0177 by default, so mode 0600). ssh cannot create
//     a remote directory, so the socket sits in /tmp itself under a name
//     nobody can guess; a fresh name also never meets a stale socket, which
//     sshd would otherwise refuse to replace unless its StreamLocalBindUnlink
//     is on (the client's option of that name applies to local forwards only).
//   - -o ExitOnForwardFailure=yes, so a refused forward ends ssh instead of
//     opening a session without the agent; ClearAllForwardings=no,
//     ControlMaster=no and ControlPath=none, so the forward belongs to this
//     connection and ends with it (on the command line the first value
//     wins, so these come first); RemoteCommand=none, so a RemoteCommand in
//     ssh_config does not clash with the plan's command.
//   - a remote command, run by /bin/sh whatever the login shell, that makes
//     the socket 0600 (in case sshd's StreamLocalBindMask is looser than its
//     default), exports GHLOGIN_AGENT_SOCK, links the socket at
//     the well-known path (WellKnownPath), runs the user's command with
//     "$SHELL" -c (as sshd would) or the login shell with "$SHELL" -l (with
//     -t when r.Terminal and the user gave no -t, -T or RequestTTY), then
//     removes the socket and the link and exits with the command's status.
//
// Setting the variable in the command needs nothing from the server: SendEnv
// and SetEnv would need a matching AcceptEnv in its sshd_config.
// BuildSSH refuses options that would defeat the agent (-N, -f, -W, -s, -M,
// -S, -O, and -o RemoteCommand, SessionType, ForkAfterAuthentication,
// Control*, ClearAllForwardings) with an *SSHArgsError.
func BuildSSH(r SSHRequest) (*SSHPlan, error) {
	if err := checkNonce(r.Nonce); err != nil {
		return nil, err
	}
	if err := checkLocalSocket(r.LocalSocket); err != nil {
		return nil, err
	}
	p, err := parseSSHArgs(r.Args)
	if err != nil {
		return nil, err
	}
	remote := "/tmp/ghlogin-agent-" + r.Nonce + ".sock"
	program := r.Program
	if program == "" {
		program = "ssh"
	}
	argv := []string{program,
		"-o", "ExitOnForwardFailure=yes",
		"-o", "ClearAllForwardings=no",
		"-o", "ControlMaster=no",
		"-o", "ControlPath=none",
		"-o", "RemoteCommand=none",
		"-R", remote + ":" + r.LocalSocket,
	}
	if r.Terminal && p.command == "" && !p.ttyChosen {
		argv = append(argv, "-t")
	}
	argv = append(argv, p.options...)
	argv = append(argv, "--", p.destination, RemoteCommand(remote, p.command))
	return &SSHPlan{
		Argv:         argv,
		RemoteSocket: remote,
		Destination:  p.destination,
		RemoteName:   remoteName(p.destination),
		Command:      p.command,
	}, nil
}

// CheckSSHArgs checks the user's ssh arguments as BuildSSH does, before
// there is a socket to forward: an *SSHArgsError for an option that would
// defeat the agent or a missing destination.
func CheckSSHArgs(args []string) error {
	_, err := parseSSHArgs(args)
	return err
}

// remoteScript runs on the remote under /bin/sh with $1 the forwarded
// socket and $2, when present, the user's command. It makes the socket 0600
// first, in case the server's StreamLocalBindMask is looser than its
// default. It holds no single
// quote, backslash or "!", so that the user's login shell, whatever it is
// (sh, bash, zsh, fish, csh), passes it to sh unchanged inside single quotes.
const remoteScript = `s=$1; chmod 600 "$s" 2>/dev/null; export GHLOGIN_AGENT_SOCK="$s"; ` +
	`d=${XDG_RUNTIME_DIR:+$XDG_RUNTIME_DIR/ghlogin}; d=${d:-/tmp/ghlogin-$(id -u)}; ` +
	`(umask 077; mkdir -p "$d") 2>/dev/null && ln -sfn "$s" "$d/agent.sock" 2>/dev/null; ` +
	`c() { rm -f "$s"; if [ "$(readlink "$d/agent.sock" 2>/dev/null)" = "$s" ]; then rm -f "$d/agent.sock"; fi; }; ` +
	`trap c EXIT; trap "exit 129" HUP; trap "exit 130" INT; trap "exit 143" TERM; ` +
	`if [ $# -ge 2 ]; then "${SHELL:-/bin/sh}" -c "$2"; else "${SHELL:-/bin/sh}" -l; fi`

// RemoteCommand is the command line the remote's login shell runs: /bin/sh
// with remoteScript, the socket, and the user's command (quoted for a
// POSIX shell, which fish and csh read the same way) when there is one.
func RemoteCommand(socket, command string) string {
	cmd := "/bin/sh -c '" + remoteScript + "' ghlogin-ssh " + socket
	if command != "" {
		cmd += " " + shellQuote(command)
	}
	return cmd
}

// shellQuote quotes s as one word for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// sshArgs is the user's ssh command line, taken apart.
type sshArgs struct {
	options     []string
	destination string
	command     string
	ttyChosen   bool
}

// parseSSHArgs reads args as OpenSSH's ssh does.
func parseSSHArgs(args []string) (*sshArgs, error) {
	p := &sshArgs{}
	terminated := false
	i := 0
	// parseOptions reads options from args[i:] until a non-option or "--".
	parseOptions := func() error {
		for i < len(args) {
			a := args[i]
			if a == "--" {
				terminated = true
				i++
				return nil
			}
			if len(a) < 2 || a[0] != '-' {
				return nil
			}
			if strings.HasPrefix(a, "--") {
				// ssh has no long options.
				return &SSHArgsError{Arg: a, Reason: "is not an ssh option"}
			}
			i++
			for j := 1; j < len(a); j++ {
				c := a[j]
				switch {
				case strings.IndexByte(sshArgOptions, c) >= 0:
					val := a[j+1:]
					if val == "" {
						if i >= len(args) {
							return &SSHArgsError{Arg: "-" + string(c), Reason: "needs a value"}
						}
						val = args[i]
						i++
					}
					if why, ok := refusedFlags[c]; ok {
						return &SSHArgsError{Arg: "-" + string(c), Reason: why}
					}
					if c == 'o' {
						if err := p.checkConfig(val); err != nil {
							return err
						}
					}
					p.options = append(p.options, "-"+string(c), val)
					j = len(a)
				case strings.IndexByte(sshFlagOptions, c) >= 0:
					if why, ok := refusedFlags[c]; ok {
						return &SSHArgsError{Arg: "-" + string(c), Reason: why}
					}
					if c == 't' || c == 'T' {
						p.ttyChosen = true
					}
					p.options = append(p.options, "-"+string(c))
				default:
					return &SSHArgsError{Arg: "-" + string(c), Reason: "is not an ssh option"}
				}
			}
		}
		return nil
	}
	if err := parseOptions(); err != nil {
		return nil, err
	}
	if i >= len(args) {
		return nil, &SSHArgsError{Reason: "no destination (give [user@]host or ssh://[user@]host[:port])"}
	}
	p.destination = args[i]
	i++
	if p.destination == "" || strings.HasPrefix(p.destination, "-") {
		return nil, &SSHArgsError{Arg: p.destination, Reason: "is not a destination"}
	}
	if !terminated {
		if err := parseOptions(); err != nil {
			return nil, err
		}
	}
	p.command = strings.Join(args[i:], " ")
	return p, nil
}

// checkConfig refuses -o keywords that would defeat the agent, and notes a
// RequestTTY choice.
func (p *sshArgs) checkConfig(val string) error {
	key := val
	if k, _, ok := strings.Cut(strings.TrimSpace(val), "="); ok {
		key = k
	} else if k, _, ok := strings.Cut(strings.TrimSpace(val), " "); ok {
		key = k
	}
	key = strings.ToLower(strings.TrimSpace(key))
	if why, ok := refusedConfig[key]; ok {
		return &SSHArgsError{Arg: "-o " + val, Reason: why}
	}
	if key == "requesttty" {
		p.ttyChosen = true
	}
	return nil
}

// remoteName is the host part of an ssh destination.
func remoteName(dest string) string {
	h := dest
	if rest, ok := strings.CutPrefix(h, "ssh://"); ok {
		h = rest
		if k := strings.IndexByte(h, '/'); k >= 0 {
			h = h[:k]
		}
		if k := strings.LastIndexByte(h, '@'); k >= 0 {
			h = h[k+1:]
		}
		if strings.HasPrefix(h, "[") {
			if k := strings.IndexByte(h, ']'); k >= 0 {
				h = h[1:k]
			}
		} else if k := strings.LastIndexByte(h, ':'); k >= 0 {
			h = h[:k]
		}
		return safe.Short(h, maxAgentName)
	}
	if k := strings.LastIndexByte(h, '@'); k >= 0 {
		h = h[k+1:]
	}
	return safe.Short(strings.Trim(h, "[]"), maxAgentName)
}

// checkNonce accepts 16 to 64 lower-case hex digits.
func checkNonce(n string) error {
	if len(n) < 16 || len(n) > 64 {
		return &SSHArgsError{Arg: "nonce", Reason: "must be 16 to 64 hex digits (use NewNonce)"}
	}
	for _, c := range n {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return &SSHArgsError{Arg: "nonce", Reason: "must be lower-case hex digits (use NewNonce)"}
		}
	}
	return nil
}

// checkLocalSocket accepts an absolute path that ssh's forward syntax can
// carry (no ":") and that fits in a socket address.
func checkLocalSocket(path string) error {
	switch {
	case !filepath.IsAbs(path):
		return &SSHArgsError{Arg: path, Reason: "the agent's socket path must be absolute"}
	case strings.ContainsAny(path, ":\n\r"):
		return &SSHArgsError{Arg: path, Reason: `the agent's socket path cannot hold ":" or a line break in an ssh forward`}
	case len(path) > maxSocketPath:
		return &SocketPathError{Path: path}
	}
	return nil
}

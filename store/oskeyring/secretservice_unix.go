//go:build linux || freebsd || openbsd || netbsd || dragonfly

package oskeyring

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/ghlogin/ghlogin/store"
	"github.com/godbus/dbus/v5"
)

// busEnv is what the Secret Service check reads of the process: the
// environment and the user ID. Tests give it their own.
type busEnv struct {
	getenv func(string) string
	setenv func(key, value string) error
	uid    int
}

func osBusEnv() busEnv { return busEnv{getenv: os.Getenv, setenv: os.Setenv, uid: os.Getuid()} }

// sessionBusEnv is the variable that names the session bus.
const sessionBusEnv = "DBUS_SESSION_BUS_ADDRESS"

// checkSecretService is CheckSecretService with env. It is written here
// rather than left to godbus because godbus, finding no bus, runs
// dbus-launch (conn_other.go, getSessionBusPlatformAddress), which leaves a
// dbus-daemon behind, and the Secret Service it then activates leaves a
// gnome-keyring-daemon: on a server each keyring attempt would leave two
// processes (and a keyring that cannot be unlocked without a desktop).
func checkSecretService(ctx context.Context, env busEnv) error {
	addr := env.getenv(sessionBusEnv)
	discovered := false
	// "autolaunch:" asks for dbus-launch, which is what must never happen.
	if addr == "" || addr == "autolaunch:" {
		path, tried := env.busSocket()
		if path == "" {
			return &store.NoKeyringServiceError{Reason: fmt.Sprintf("no D-Bus session bus (%s is not set and there is no socket at %s)",
				sessionBusEnv, strings.Join(tried, " or "))}
		}
		addr, discovered = "unix:path="+dbus.EscapeBusAddressValue(path), true
	}
	usable, why := reachable(addr)
	if usable == "" {
		return &store.NoKeyringServiceError{Reason: why}
	}
	if err := askBus(ctx, usable, env.getenv); err != nil {
		return err
	}
	if discovered {
		// godbus would find the same socket only at /run/user/UID/bus, and
		// otherwise launch a bus: name it, for this process and its children.
		_ = env.setenv(sessionBusEnv, addr)
	}
	return nil
}

// busSocket finds a session bus socket where systemd and dbus-broker put
// one: $XDG_RUNTIME_DIR/bus, then /run/user/UID/bus (godbus's guess). It
// returns "" and the places it looked when there is none.
func (env busEnv) busSocket() (string, []string) {
	var tried []string
	if d := env.getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		tried = append(tried, filepath.Join(d, "bus"))
	}
	if p := filepath.Join("/run/user", strconv.Itoa(env.uid), "bus"); !slices.Contains(tried, p) {
		tried = append(tried, p)
	}
	for _, p := range tried {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Type() == fs.ModeSocket {
			return p, tried
		}
	}
	return "", tried
}

// reachable keeps the entries of a D-Bus address (semicolon-separated, as
// the D-Bus specification's "Server Addresses" has them) that a client can
// connect to without starting anything: unix sockets that exist, abstract
// sockets, and tcp. It returns "" and why when none is left.
func reachable(addr string) (string, string) {
	var keep []string
	why := fmt.Sprintf("%s (%q) names no bus that can be reached without starting one", sessionBusEnv, addr)
	for _, entry := range strings.Split(addr, ";") {
		transport, params, ok := strings.Cut(entry, ":")
		if !ok {
			continue
		}
		switch transport {
		case "unix":
			if path := addressKey(params, "path"); path != "" {
				if fi, err := os.Stat(path); err != nil || fi.Mode().Type() != fs.ModeSocket {
					why = fmt.Sprintf("the D-Bus session bus is gone (there is no socket at %s, which %s names)", path, sessionBusEnv)
					continue
				}
				keep = append(keep, entry)
			} else if addressKey(params, "abstract") != "" {
				keep = append(keep, entry)
			}
			// runtime=, tmpdir= and dir= are for servers to listen on.
		case "tcp", "nonce-tcp":
			keep = append(keep, entry)
		}
		// autolaunch:, launchd:, systemd:, unixexec: would start a
		// program or are not for this system.
	}
	if len(keep) == 0 {
		return "", why
	}
	return strings.Join(keep, ";"), ""
}

// addressKey returns the unescaped value of key in a D-Bus address entry's
// parameters ("path=/run/user/1000/bus,guid=…"), or "".
func addressKey(params, key string) string {
	for _, kv := range strings.Split(params, ",") {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			val, err := dbus.UnescapeBusAddressValue(v)
			if err != nil {
				return ""
			}
			return val
		}
	}
	return ""
}

// askBus connects to the bus at addr (a private connection, closed before
// it returns) and checks that the Secret Service is there. A service that
// is only activatable (installed, not running) counts where there is a
// desktop session (DISPLAY or WAYLAND_DISPLAY), whose bus starts it as the
// desktop expects; elsewhere it does not, since starting it would leave a
// keyring daemon that cannot be unlocked. Neither question starts anything:
// NameHasOwner and ListActivatableNames only read the bus's tables.
func askBus(ctx context.Context, addr string, getenv func(string) string) error {
	type answer struct{ err error }
	done := make(chan answer, 1)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		done <- answer{askBusNow(cctx, addr, getenv)}
	}()
	select {
	case a := <-done:
		return a.err
	case <-ctx.Done():
		return &store.NoKeyringServiceError{Reason: "the D-Bus session bus did not answer in time", Err: ctx.Err()}
	}
}

func askBusNow(ctx context.Context, addr string, getenv func(string) string) error {
	conn, err := dbus.Connect(addr, dbus.WithContext(ctx))
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return &store.NoKeyringServiceError{Reason: "the D-Bus session bus is gone (its socket refuses connections)", Err: err}
		}
		return &store.NoKeyringServiceError{Reason: "cannot connect to the D-Bus session bus: " + err.Error(), Err: err}
	}
	defer conn.Close()
	bus := conn.BusObject()
	var owned bool
	if err := bus.CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, SecretServiceName).Store(&owned); err != nil {
		return &store.NoKeyringServiceError{Reason: "the D-Bus session bus does not answer: " + err.Error(), Err: err}
	}
	if owned {
		return nil
	}
	var names []string
	_ = bus.CallWithContext(ctx, "org.freedesktop.DBus.ListActivatableNames", 0).Store(&names)
	if !slices.Contains(names, SecretServiceName) {
		return &store.NoKeyringServiceError{Reason: "nothing on the D-Bus session bus provides the Secret Service (" + SecretServiceName + ")"}
	}
	if getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != "" {
		return nil
	}
	return &store.NoKeyringServiceError{Reason: "the Secret Service (" + SecretServiceName + ") is installed but not running, and without a desktop session it could not be unlocked"}
}

package oskeyring

import (
	"context"
	"time"
)

// SecretServiceName is the D-Bus name of the Secret Service, the OS keyring
// of Linux and BSD desktops (gnome-keyring, KeePassXC, KWallet).
const SecretServiceName = "org.freedesktop.secrets"

// secretServiceTimeout bounds the check of the session bus when the caller
// gives no deadline.
const secretServiceTimeout = 5 * time.Second

// CheckSecretService reports whether the OS keyring can answer here, without
// side effects. On Linux and the BSDs it finds the D-Bus session bus the way
// libdbus and godbus do (DBUS_SESSION_BUS_ADDRESS, else the socket
// $XDG_RUNTIME_DIR/bus or /run/user/UID/bus), connects to it and asks
// whether org.freedesktop.secrets has an owner; it never runs dbus-launch or
// any other program, and never asks the bus to start a service. It returns
// nil, or a *store.NoKeyringServiceError that says what is missing. On
// macOS and Windows, whose keyrings are always there, it returns nil.
//
// When it finds a bus socket that DBUS_SESSION_BUS_ADDRESS does not name,
// it sets DBUS_SESSION_BUS_ADDRESS to it (as godbus itself does), so the
// keyring library uses that very bus and never falls back to launching one.
func CheckSecretService(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, secretServiceTimeout)
		defer cancel()
	}
	return checkSecretService(ctx, osBusEnv())
}

package store

import (
	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/config"
)

// The store's API speaks of the config file and the time; these names let
// programs outside this module name those types (the packages that define
// them are internal to ghlogin).

// Clock is what the store dates accounts and paces lock checks with: Now,
// and a Sleep that ends early when its context does. nil fields mean the
// real clock.
type Clock = clock.Clock

// ConfigFile is config.toml as read: settings per host and the account
// index. Config returns it; UpdateConfig changes it under the store lock.
type ConfigFile = config.File

// HostConfig is one host's section of config.toml: its settings and
// accounts. SaveWith's update function receives it.
type HostConfig = config.Host

// AccountConfig is one account's entry in the index (no secret).
type AccountConfig = config.Account

// UntrustedError is a config directory or a file in it that another user
// owns or could write, or a secret file others could read. It names the
// path and the chmod or chown that fixes it; ghlogin refuses to use such a
// file, as ssh's StrictModes does.
type UntrustedError = config.UntrustedError

// TrustProblem says why an UntrustedError's path is not trusted.
type TrustProblem = config.TrustProblem

// The trust rules, as UntrustedError.Problem reports them.
const (
	OtherOwner     = config.OtherOwner     // belongs to another user
	OthersCanWrite = config.OthersCanWrite // the group or others can write it
	OthersCanRead  = config.OthersCanRead  // holds secrets the group or others can read
)

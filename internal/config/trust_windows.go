//go:build windows

package config

import "io/fs"

// checkTrust checks nothing on Windows. File modes there do not describe
// who may read or write a file (Go reports 0666 or 0444 from the read-only
// attribute alone), and the config directory lives under the user's profile
// (%AppData%), whose inherited ACL grants access only to the user, SYSTEM
// and Administrators. ghlogin relies on that ACL there and makes no check of
// its own (the equivalent would read the owner SID and the DACL with
// GetNamedSecurityInfo).
func checkTrust(path string, fi fs.FileInfo, dir, private bool) error { return nil }

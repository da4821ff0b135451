//go:build !unix

package agent

// CheckDir cannot tell here whether only the user can enter dir, so it
// refuses every directory.
func CheckDir(dir string) error {
	return &UnsupportedError{Feature: "a socket directory that only its user can enter"}
}

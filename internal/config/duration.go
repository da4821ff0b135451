package config

import (
	"fmt"
	"time"
)

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String returns d as Go writes durations ("3s", "1m30s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes d as "3s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a duration such as "3s", "500ms" or "1m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration; write it like \"3s\" or \"500ms\"", string(b))
	}
	if v < 0 {
		return fmt.Errorf("%q is negative; write a positive duration like \"3s\"", string(b))
	}
	*d = Duration(v)
	return nil
}

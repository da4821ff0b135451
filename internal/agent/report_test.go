package agent

import "testing"

func TestReport(t *testing.T) {
	for _, tc := range []struct {
		remote string
		counts []Count
		want   string
	}{
		{"build-1", nil, "build-1 did not ask for a token"},
		{"", nil, "the remote did not ask for a token"},
		{"build-1", []Count{{Host: "github.com", Purpose: PurposeGit, Served: 14}}, "build-1 used your github.com token 14 times for git"},
		{"build-1", []Count{{Host: "github.com", Purpose: PurposeGit, Served: 1}, {Host: "github.com", Purpose: PurposeExec, Served: 2}},
			"build-1 used your github.com token once for git and twice for exec"},
		{"dev", []Count{
			{Host: "ghe.example.com", Purpose: PurposeToken, Served: 3},
			{Host: "github.com", Purpose: PurposeGit, Served: 5, Refused: 1},
			{Host: "github.com", Purpose: PurposeToken, Served: 1},
			{Host: "other.example.com", Purpose: PurposeGit, Refused: 2},
			{Purpose: PurposeStatus, Served: 1},
			{Refused: 3},
		}, "dev used your ghe.example.com token 3 times for token, your github.com token 5 times for git and once for token and listed your accounts once; " +
			"1 request for github.com was refused; 2 requests for other.example.com were refused; 3 requests were refused as malformed"},
		{"vm\x1b[2J", []Count{{Host: "x.example.com", Purpose: PurposeGit, Refused: 1}}, "vm got no token; 1 request for x.example.com was refused"},
	} {
		if got := Report(tc.remote, tc.counts); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}

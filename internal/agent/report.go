package agent

import (
	"fmt"
	"strings"

	"github.com/ghlogin/ghlogin/internal/safe"
)

// Report is the one-line account of a session that the agent's side prints
// when it ends, from Server.Counts: "build-1 used your github.com token 14
// times for git". remote names the other machine ("" says "the remote").
func Report(remote string, counts []Count) string {
	remote = safe.Short(remote, maxAgentName)
	if remote == "" {
		remote = "the remote"
	}
	type hostUse struct {
		host string
		uses []string
	}
	var used []hostUse
	refused := map[string]int{}
	var refusedHosts []string
	lists, malformed := 0, 0
	for _, c := range counts {
		switch {
		case c.Purpose == PurposeStatus:
			lists += c.Served
			continue
		case c.Host == "":
			malformed += c.Refused
			continue
		}
		if c.Refused > 0 {
			if refused[c.Host] == 0 {
				refusedHosts = append(refusedHosts, c.Host)
			}
			refused[c.Host] += c.Refused
		}
		if c.Served == 0 {
			continue
		}
		if len(used) == 0 || used[len(used)-1].host != c.Host {
			used = append(used, hostUse{host: c.Host})
		}
		u := &used[len(used)-1]
		u.uses = append(u.uses, times(c.Served)+" for "+string(c.Purpose))
	}
	var parts []string
	for i, u := range used {
		s := "your " + u.host + " token " + and(u.uses)
		if i == 0 {
			s = "used " + s
		}
		parts = append(parts, s)
	}
	if lists > 0 {
		parts = append(parts, "listed your accounts "+times(lists))
	}
	var b strings.Builder
	b.WriteString(remote)
	switch {
	case len(parts) == 0 && len(refusedHosts) == 0 && malformed == 0:
		b.WriteString(" did not ask for a token")
	case len(parts) == 0:
		b.WriteString(" got no token")
	default:
		b.WriteString(" " + and(parts))
	}
	for _, h := range refusedHosts {
		n := refused[h]
		fmt.Fprintf(&b, "; %s for %s %s refused", plural(n, "request"), h, wasWere(n))
	}
	if malformed > 0 {
		fmt.Fprintf(&b, "; %s %s refused as malformed", plural(malformed, "request"), wasWere(malformed))
	}
	return b.String()
}

// times says how often: "once", "twice", "14 times".
func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// and joins phrases: "a", "a and b", "a, b and c".
func and(p []string) string {
	if len(p) <= 1 {
		return strings.Join(p, "")
	}
	return strings.Join(p[:len(p)-1], ", ") + " and " + p[len(p)-1]
}

package emulator

import (
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestRegisterFlags(t *testing.T) {
	var cfg Config
	fs := pflag.NewFlagSet("emulator", pflag.ContinueOnError)
	RegisterFlags(fs, &cfg)
	err := fs.Parse([]string{
		"--interval", "2s", "--expires-in", "1m", "--auto-approve", "3", "--auto-approve-web",
		"--users", "alice,bob", "--client-id", "Iv1.custom", "--client-secret", "s3cret", "--app",
		"--device-flow-disabled-client", "Ov23li.off", "--callback-url", "http://127.0.0.1/cb",
		"--token-lifetime", "1m", "--refresh-lifetime", "1h", "--git-repos", "/srv/repos",
		"--private-repos", "--org", "my-org=hubot,alice", "--org", "acme=bob",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Interval != 2*time.Second || cfg.ExpiresIn != time.Minute || cfg.AutoApproveAfter != 3 || !cfg.AutoApproveWeb ||
		len(cfg.Users) != 2 || cfg.Users[1] != "bob" || cfg.GitRepos != "/srv/repos" || !cfg.PrivateRepos ||
		len(cfg.Orgs) != 2 || len(cfg.Orgs["my-org"]) != 2 || cfg.Orgs["my-org"][1] != "alice" || cfg.Orgs["acme"][0] != "bob" {
		t.Fatalf("cfg %+v", cfg)
	}
	if got := fs.Lookup("org").Value.String(); got != "acme=bob my-org=hubot,alice" {
		t.Errorf("--org shows %q", got)
	}
	if err := fs.Parse([]string{"--org", "no-members-sign"}); err == nil {
		t.Error("--org without = accepted")
	}
	main := cfg.Clients[0]
	if main.ID != "Iv1.custom" || main.Secret != "s3cret" || !main.App || main.TokenLifetime != time.Minute ||
		main.RefreshLifetime != time.Hour || main.CallbackURL != "http://127.0.0.1/cb" {
		t.Fatalf("main client %+v", main)
	}
	var off *Client
	for i := range cfg.Clients {
		if cfg.Clients[i].DeviceFlowDisabled {
			off = &cfg.Clients[i]
		}
	}
	if off == nil || off.ID != "Ov23li.off" {
		t.Fatalf("disabled client %+v", off)
	}
	s := New(cfg)
	if got := s.Clients()[0]; got.ID != "Iv1.custom" || !got.App {
		t.Fatalf("server clients %+v", s.Clients())
	}
}

func TestRegisterFlagsDefaults(t *testing.T) {
	var cfg Config
	fs := pflag.NewFlagSet("emulator", pflag.ContinueOnError)
	RegisterFlags(fs, &cfg)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if cfg.Interval != DefaultInterval || cfg.ExpiresIn != DefaultExpiresIn || len(cfg.Users) != 2 || cfg.AutoApproveAfter != 0 {
		t.Fatalf("defaults %+v", cfg)
	}
	if got := New(cfg).Clients(); len(got) != 3 || got[0].ID != DefaultClientID || got[1].ID != AppClientID || got[2].ID != DisabledClientID {
		t.Fatalf("default clients %+v", got)
	}
	if err := fs.Parse([]string{"--token-lifetime", "-1s"}); err == nil {
		t.Fatal("negative lifetime accepted")
	}
	if f := fs.Lookup("client-id"); f.DefValue != DefaultClientID {
		t.Fatalf("client-id default shown as %q", f.DefValue)
	}
}

// Package fast is the git credential helper's hot path, shared by
// `ghlogin git-credential` and the lean git-credential-ghlogin binary: a
// strict reader of the protocol git speaks to helpers (`git help
// credential`), the rule for which hosts get an answer, and Get, which
// answers a get from the environment or the token store when that needs no
// network, no lock and no terminal. Whatever Get cannot answer by itself (a
// token due for refresh, no token, a binding to a missing account, an error
// to explain) it hands to the caller with what it found, and the full
// helper (package gitcred) goes on from there.
//
// The helper hands a token only to a host that has an account, only over
// https (or http to a loopback host registered with an http URL, such as the
// emulator), never for a request missing its protocol or host
// (CVE-2020-11008), and never prints a value holding CR, LF or NUL. Malformed
// input gets no answer at all.
//
// It links no HTTP client, no UI and no D-Bus client: a test lists the lean
// binary's packages and fails if one creeps in.
package fast

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/gitrepo"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/refresh/when"
	"github.com/ghlogin/ghlogin/internal/session/pick"
	"github.com/ghlogin/ghlogin/store"
)

// Reader is the part of *store.Store that Get reads. The configuration is
// read once per request (Config) and handed to ResolveIn and SecretIn.
type Reader interface {
	Config() (*config.File, error)
	pick.AccountIndex
	SecretIn(ctx context.Context, cfg *config.File, a store.Account) (*store.Secret, error)
}

// Env is what Get depends on besides the request.
type Env struct {
	// Store holds the accounts; required.
	Store Reader
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Getwd returns the working directory, for directory bindings; nil
	// means os.Getwd.
	Getwd func() (string, error)
	// Now tells the time; nil means time.Now.
	Now func() time.Time
}

// Target is a request that passed the protocol and host checks.
type Target struct {
	// Name is the normalized host.
	Name string
	// URL is the host as --host takes it (an http:// prefix for http).
	URL string
	// Host is the host's configuration; nil when the file does not name it.
	Host *config.Host
}

// Scheme is "http" for a plain-http (loopback) host, else "https".
func (t Target) Scheme() string {
	if strings.HasPrefix(t.URL, "http://") {
		return "http"
	}
	return "https"
}

// CheckTarget validates a request's protocol and host and reads the
// configuration. It returns ok=false (answer nothing, say nothing) for
// anything ghlogin must not answer: no protocol or host (never a wildcard,
// CVE-2020-11008), a protocol other than https and http, a host name that
// is not valid, or http to a host that is not a loopback host registered
// with protocol http. err is a configuration that cannot be read.
func CheckTarget(st Reader, req Request) (t Target, file *config.File, ok bool, err error) {
	if req.Protocol == "" || req.Host == "" {
		return t, nil, false, nil
	}
	proto := req.Protocol
	if proto != "https" && proto != "http" {
		return t, nil, false, nil
	}
	name := hosts.Normalize(req.Host, proto)
	if name == "" {
		return t, nil, false, nil
	}
	file, err = st.Config()
	if err != nil {
		return t, nil, false, fmt.Errorf("reading the configuration: %w", err)
	}
	t = Target{Name: name, URL: name}
	if file != nil {
		t.Host = file.Hosts[name]
	}
	if proto == "http" {
		if t.Host == nil || !hosts.IsLoopback(name) || !strings.EqualFold(t.Host.Protocol, "http") {
			return t, file, false, nil
		}
		t.URL = "http://" + name
	}
	return t, file, true, nil
}

// QueryFor is what a request tells the resolver: the username git sends
// (x-access-token names nobody), the owner in the path (present when
// credential.useHttpPath is set, or with url=), and the working directory
// (read only for a host with directory bindings).
func QueryFor(req Request, t Target, getwd func() (string, error)) pick.Query {
	q := pick.Query{Owner: gitrepo.OwnerOfPath(req.Path)}
	if req.Username != "" && req.Username != pick.EnvTokenUser {
		q.User, q.UserFrom = req.Username, pick.UserFromGit
	}
	if t.Host != nil && len(t.Host.DirBindings) > 0 {
		if getwd == nil {
			getwd = os.Getwd
		}
		if d, err := getwd(); err == nil {
			q.Dir = d
		}
	}
	return q
}

// Credential is what get answers.
type Credential struct {
	Username string
	// Password is the token. Never log it.
	Password string
	// Expiry is when the token expires; zero when it does not.
	Expiry time.Time
	// Source is "store", "login" (a login run by the helper just now),
	// "agent" (SourceAgent: a forwarded agent lent it) or the name of the
	// environment variable the token came from.
	Source string
}

// String never shows the token.
func (c *Credential) String() string {
	if c == nil {
		return "<nil credential>"
	}
	return fmt.Sprintf("gitcred.Credential{username=%q source=%s expiry=%s}", c.Username, c.Source, c.Expiry.Format(time.RFC3339))
}

// GoString hides the token from %#v too.
func (c *Credential) GoString() string { return c.String() }

// Outcome is what Get did with a request.
type Outcome int

const (
	// Answered: Result.Credential is the answer.
	Answered Outcome = iota
	// Nothing: ghlogin says nothing for this request (not its host, not
	// its protocol); git asks the next helper.
	Nothing
	// Failed: Result.Err is the answer, to be explained on stderr: a
	// forwarded agent failed, or it refused the host and this machine has
	// nothing for it either (pick.Find's rule). No later step can change
	// it, and asking the agent again would only repeat it.
	Failed
	// HandOff: the answer needs more than a read (a refresh, a login, an
	// explanation); Result says how far Get got.
	HandOff
)

// SourceAgent is Credential.Source for a token a forwarded agent lent.
const SourceAgent = "agent"

// Stage is how far Get got before it handed off.
type Stage int

const (
	// StageTarget: reading the configuration failed (Result.Err).
	StageTarget Stage = iota + 1
	// StageResolve: no account could be chosen (Result.Err is
	// pick.Resolve's error).
	StageResolve
	// StageSecret: the chosen account's secret could not be read, or there
	// is none (Result.Err).
	StageSecret
	// StageDue: the secret (Result.Secret) is due for refresh.
	StageDue
)

// Result is Get's answer.
type Result struct {
	Outcome Outcome
	// Credential is set when Outcome is Answered.
	Credential *Credential
	// Stage says where Get handed off (Outcome HandOff).
	Stage Stage
	// Err is why it handed off, when an error was the reason, or the
	// answer (Outcome Failed).
	Err error
	// Refused is the forwarded agent's refusal of the host, when it was
	// asked and does not lend it (pick.Ask): whatever goes on from a
	// hand-off starts no login, and answers with Refused when it has no
	// token either (pick.Settle).
	Refused error
	// Target and Config are the request's host and the configuration read
	// (set once CheckTarget passed).
	Target Target
	Config *config.File
	// Query and Choice are what account resolution was asked and chose
	// (Choice from StageSecret on).
	Query  pick.Query
	Choice pick.Choice
	// Secret is the secret read (StageDue).
	Secret *store.Secret
}

// Get answers a get request as far as reading allows, by pick.Find's rule.
// In order:
//
//  1. the protocol and host checks (CheckTarget): nothing for a request
//     ghlogin must not answer;
//  2. a forwarded agent, when this process has one (pick.Ask, purpose
//     git): its token, or its failure (Failed); a refusal of the host lets
//     the next steps answer;
//  3. when git names no account (or names x-access-token), the token the
//     environment holds for the host (pick.FromEnv, origin git);
//  4. nothing for a host ghlogin has never seen (not in the configuration
//     and not github.com);
//  5. the account pick.Resolve chooses, and its secret from the store,
//     served as it is when it is not due for refresh (when.Due).
//
// After a refusal in step 2, having no account or no token here means the
// refusal is the answer (Failed, pick.Settle). Anything else is handed
// off, with what was found.
func Get(ctx context.Context, env Env, req Request) Result {
	t, file, ok, err := CheckTarget(env.Store, req)
	if err != nil {
		return Result{Outcome: HandOff, Stage: StageTarget, Err: err}
	}
	if !ok {
		return Result{Outcome: Nothing}
	}
	getenv := env.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	r := Result{Target: t, Config: file, Query: QueryFor(req, t, env.Getwd)}
	user := r.Query.User
	l := pick.Lookup{Host: hosts.Host{Name: t.Name, Scheme: t.Scheme()}, Origin: pick.OriginGit, Known: t.Host != nil,
		Owner: r.Query.Owner, User: user, Purpose: agent.PurposeGit}
	tok, refused, err := pick.Ask(ctx, getenv, l)
	switch {
	case err != nil:
		r.Outcome, r.Err = Failed, err
		return r
	case tok != nil:
		r.Outcome = Answered
		r.Credential = &Credential{Username: tok.Account.Login, Password: tok.Secret.Token, Expiry: tok.Secret.ExpiresAt, Source: SourceAgent}
		return r
	}
	r.Refused = refused
	if tok := pick.FromEnv(getenv, l); tok != nil {
		r.Outcome, r.Credential = Answered, &Credential{Username: pick.EnvTokenUser, Password: tok.Secret.Token, Source: tok.Env}
		return r
	}
	if t.Host == nil && t.Name != hosts.GitHub {
		return r.settle(Nothing, nil)
	}
	r.Outcome = HandOff
	r.Choice, r.Err = pick.Resolve(env.Store, file, t.Name, r.Query)
	if r.Err != nil {
		r.Stage = StageResolve
		return r.settle(HandOff, r.Err)
	}
	r.Stage = StageSecret
	sec, err := env.Store.SecretIn(ctx, file, r.Choice.Account)
	switch {
	case err != nil:
		return r.settle(HandOff, err)
	case sec == nil || sec.Token == "":
		return r.settle(HandOff, store.ErrNotFound)
	}
	now := time.Now
	if env.Now != nil {
		now = env.Now
	}
	if when.Due(sec, now(), when.DefaultSkew) {
		r.Stage, r.Secret = StageDue, sec
		return r
	}
	r.Outcome = Answered
	r.Credential = &Credential{Username: r.Choice.Login, Password: sec.Token, Expiry: sec.ExpiresAt, Source: "store"}
	return r
}

// settle ends Get where the store had nothing to serve (err, nil for an
// unknown host): with the agent's refusal when pick.Settle says it is the
// answer, else with outcome and err.
func (r Result) settle(outcome Outcome, err error) Result {
	if r.Refused != nil {
		if _, serr := pick.Settle(nil, err, r.Refused); serr == r.Refused {
			r.Outcome, r.Err = Failed, r.Refused
			return r
		}
	}
	r.Outcome, r.Err = outcome, err
	return r
}

// Capability is the answer to git's capability action: ghlogin supports
// none of the optional capabilities (authtype, state), and announcing the
// protocol version tells git so.
const Capability = "version 0\n"

// WriteCredential prints c as git expects, refusing any value that could
// inject another attribute (then nothing is written).
func WriteCredential(out io.Writer, c *Credential) error {
	if !safeValue(c.Username) || !safeValue(c.Password) {
		return nil
	}
	w := bufio.NewWriter(out)
	w.WriteString("username=" + c.Username + "\n")
	w.WriteString("password=" + c.Password + "\n")
	if !c.Expiry.IsZero() {
		w.WriteString("password_expiry_utc=" + strconv.FormatInt(c.Expiry.Unix(), 10) + "\n")
	}
	return w.Flush()
}

// safeValue reports whether v can be written as one attribute value.
func safeValue(v string) bool {
	return v != "" && len(v) < MaxLineBytes-64 && !strings.ContainsAny(v, "\r\n\x00")
}

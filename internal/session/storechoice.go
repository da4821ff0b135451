package session

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/ghlogin/ghlogin/store"
)

// StoreQuestion is what a person is asked when the store in force for a
// login cannot take a token here: which store to use instead.
type StoreQuestion struct {
	// Host is the host the login is for.
	Host string
	// Unavailable describes the store that cannot be used, and Err says
	// why (store.Probe's error).
	Unavailable store.StoreInfo
	Err         error
	// Offers are the stores that can be used here, in the order to offer
	// them (store.Offers): the kernel keyring first where it works, the
	// file store, which is plaintext at rest, last.
	Offers []store.Offer
	// NotOffered are the other stores that cannot be used here either,
	// each with why (Offer.Err): a kernel keyring that the kernel refuses
	// (a container's seccomp profile) is said, not silently left out.
	NotOffered []store.Offer
}

// Chooser asks the person a StoreQuestion (on a terminal) and returns the
// index in q.Offers of the store chosen, or -1 when the person cancelled.
type Chooser func(q StoreQuestion) (int, error)

// StoreUnavailableError is a login whose store cannot take a token here,
// with nobody to ask for another (no terminal, or --json): ghlogin never
// falls back to another store silently. Offers lists the stores that can
// be used instead (none when nothing can).
type StoreUnavailableError struct {
	Host        string
	Unavailable store.StoreInfo
	Offers      []store.Offer
	// NotOffered are the other stores that cannot be used here either,
	// each with why (as StoreQuestion.NotOffered).
	NotOffered []store.Offer
	// Err is why the store cannot be used.
	Err error
}

// Error names the store and says why it cannot be used.
func (e *StoreUnavailableError) Error() string {
	return fmt.Sprintf("cannot keep the token for %s in %s: %v", e.Host, e.Unavailable.Place, e.Err)
}

// Unwrap returns why the store cannot be used.
func (e *StoreUnavailableError) Unwrap() error { return e.Err }

// ErrStoreNotChosen is returned (wrapped with context.Canceled, so commands
// exit as cancelled) when the person was asked for a store and cancelled.
var ErrStoreNotChosen = errors.New("no store was chosen for the token")

// CheckStore makes sure t.Store can take a token before the person spends
// time approving a login: it is the one place that decides where a login
// keeps its token when the store in force (--store, GHLOGIN_STORE, the
// host's store setting, or the OS keyring by default) is unavailable here,
// such as the keyring on a server with no desktop session.
//
// When the store can be used, it returns nil. Otherwise, with choose set (a
// terminal), it asks which of the stores usable here to use instead
// (store.Offers order, and cancel; the others with why they cannot be
// used, StoreQuestion.NotOffered) and sets t.Store to the answer, which
// the login then remembers as the host's store setting in the same write
// as the account (Remember); a cancel is ErrStoreNotChosen wrapped with
// context.Canceled. Without choose (no terminal, --json), or when no other
// store can be used, it returns a *StoreUnavailableError. It never falls
// back silently.
func (s *Session) CheckStore(ctx context.Context, t *Target, choose Chooser) error {
	st, err := s.Store()
	if err != nil {
		return err
	}
	perr := st.Probe(ctx, t.Store)
	if perr == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var offers, notOffered []store.Offer
	for _, o := range st.Offers(ctx) {
		switch {
		case o.Name == t.Store:
		case o.Usable():
			offers = append(offers, o)
		case o.Name == store.BackendKernel && runtime.GOOS != "linux":
			// Kernel keyrings exist only on Linux: nothing to explain.
		default:
			notOffered = append(notOffered, o)
		}
	}
	unavailable := &StoreUnavailableError{Host: t.Host.Name, Unavailable: st.Describe(t.Store), Offers: offers, NotOffered: notOffered, Err: perr}
	if choose == nil || len(offers) == 0 {
		return unavailable
	}
	i, err := choose(StoreQuestion{Host: t.Host.Name, Unavailable: unavailable.Unavailable, Err: perr, Offers: offers, NotOffered: notOffered})
	switch {
	case err != nil:
		return fmt.Errorf("asking where to keep the token: %w", err)
	case i < 0 || i >= len(offers):
		return fmt.Errorf("%w: %w", ErrStoreNotChosen, context.Canceled)
	}
	t.Store, t.storeChosen = offers[i].Name, true
	return nil
}

package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator/internal/emuhttp"
)

// deviceCodeErrorStatus is the HTTP status of error replies from
// POST /login/device/code. GitHub answers this endpoint's errors (for
// example device_flow_disabled) with 400, while the token endpoint answers
// its errors with 200; clients must read the error field in both cases.
const deviceCodeErrorStatus = http.StatusBadRequest

// handleDeviceCode serves POST /login/device/code.
func (s *Server) handleDeviceCode(w *emuhttp.Recorder, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, http.MethodPost)
		return
	}
	p, err := emuhttp.ParseParams(w, r)
	if err != nil {
		oauthError(w, r, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	c := s.clients[p.Get("client_id")]
	if c == nil {
		oauthError(w, r, deviceCodeErrorStatus, "incorrect_client_credentials", "The client_id is not valid.")
		return
	}
	if c.DeviceFlowDisabled {
		oauthError(w, r, deviceCodeErrorStatus, "device_flow_disabled", "")
		return
	}
	scopes := normalizeScopes(p.Get("scope"))
	if c.App {
		scopes = nil // GitHub Apps use permissions, not scopes
	}
	now := s.clk.Now()
	s.mu.Lock()
	s.pruneLocked(now)
	dc := &deviceCode{
		device:   emuhttp.RandomHex(20),
		clientID: c.ID,
		scopes:   scopes,
		issued:   now,
		expires:  now.Add(s.cfg.ExpiresIn),
		interval: s.cfg.Interval,
	}
	for {
		dc.user = newUserCode()
		if _, taken := s.byUser[normalizeUserCode(dc.user)]; !taken {
			break
		}
	}
	dc.log = &PollRecord{ClientID: c.ID, Issued: now, Interval: dc.interval}
	s.devices[dc.device] = dc
	s.byUser[normalizeUserCode(dc.user)] = dc
	s.pollLog[dc.user] = dc.log
	s.stats.DeviceCodes++
	s.mu.Unlock()

	writeOAuth(w, r, http.StatusOK, []field{
		{"device_code", dc.device},
		{"user_code", dc.user},
		{"verification_uri", s.base(r) + "/login/device"},
		{"expires_in", ceilSeconds(s.cfg.ExpiresIn)},
		{"interval", ceilSeconds(s.cfg.Interval)},
	})
}

// pruneLocked forgets device codes an hour after they expired (until then
// polls get expired_token), and expired web flow codes and page requests.
// s.mu is held.
func (s *Server) pruneLocked(now time.Time) {
	for k, dc := range s.devices {
		if now.After(dc.expires.Add(time.Hour)) {
			delete(s.devices, k)
			delete(s.byUser, normalizeUserCode(dc.user))
		}
	}
	for k, ac := range s.codes {
		if !now.Before(ac.expires) {
			delete(s.codes, k)
		}
	}
	for k, ar := range s.pending {
		if !now.Before(ar.expires) {
			delete(s.pending, k)
		}
	}
}

// deviceGrant serves the device_code grant of POST /login/oauth/access_token.
func (s *Server) deviceGrant(w *emuhttp.Recorder, r *http.Request, c *Client, deviceCodeParam string) {
	if c.DeviceFlowDisabled {
		oauthError(w, r, http.StatusOK, "device_flow_disabled", "")
		return
	}
	now := s.clk.Now()
	s.mu.Lock()
	dc, ok := s.devices[deviceCodeParam]
	if !ok || dc.clientID != c.ID {
		s.mu.Unlock()
		oauthError(w, r, http.StatusOK, "incorrect_device_code", "")
		return
	}
	s.stats.Polls++
	dc.log.Polls = append(dc.log.Polls, now)
	if !now.Before(dc.expires) {
		s.mu.Unlock()
		oauthError(w, r, http.StatusOK, "expired_token", "")
		return
	}
	early := !dc.lastPoll.IsZero() && now.Sub(dc.lastPoll) < dc.interval
	forced := false
	for _, n := range s.cfg.SlowDownPolls {
		forced = forced || n == len(dc.log.Polls)
	}
	if forced && !early {
		dc.interval += SlowDownStep
		dc.lastPoll = now
		dc.log.Interval = dc.interval
		interval := ceilSeconds(dc.interval)
		s.mu.Unlock()
		oauthError(w, r, http.StatusOK, "slow_down", "", field{"interval", interval})
		return
	}
	if early {
		// Polled before the interval passed: GitHub adds 5 seconds to the
		// interval, which applies from now on.
		dc.interval += SlowDownStep
		dc.lastPoll = now
		dc.log.Early++
		dc.log.Interval = dc.interval
		s.stats.EarlyPolls++
		interval := ceilSeconds(dc.interval)
		s.mu.Unlock()
		oauthError(w, r, http.StatusOK, "slow_down", "", field{"interval", interval})
		return
	}
	dc.lastPoll = now
	if dc.state == statePending {
		dc.polls++
		if s.cfg.AutoApproveAfter > 0 && dc.polls >= s.cfg.AutoApproveAfter {
			dc.state, dc.login = stateApproved, s.users[0]
		}
	}
	switch dc.state {
	case stateDenied:
		s.mu.Unlock()
		oauthError(w, r, http.StatusOK, "access_denied", "")
	case stateApproved:
		// A device code is used once.
		delete(s.devices, dc.device)
		delete(s.byUser, normalizeUserCode(dc.user))
		fields := s.issue(c, dc.login, dc.scopes, true)
		s.mu.Unlock()
		writeOAuth(w, r, http.StatusOK, fields)
	default:
		s.mu.Unlock()
		oauthError(w, r, http.StatusOK, "authorization_pending", "")
	}
}

// Approve approves the device code with this user code as login, as the
// person would on the /login/device page.
func (s *Server) Approve(userCode, login string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.decideLocked(userCode, login, true)
	return err
}

// Deny denies the device code with this user code: its poller gets access_denied.
func (s *Server) Deny(userCode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.decideLocked(userCode, "", false)
	return err
}

// decideLocked approves or denies a device code. s.mu is held.
func (s *Server) decideLocked(userCode, login string, approve bool) (*deviceCode, error) {
	dc, ok := s.byUser[normalizeUserCode(userCode)]
	if !ok || len(normalizeUserCode(userCode)) != 8 {
		return nil, fmt.Errorf("user code %q: %w; check the code shown on the device", userCode, ErrUnknownUserCode)
	}
	if !s.clk.Now().Before(dc.expires) {
		return nil, fmt.Errorf("user code %s: %w; start the login again on the device", dc.user, ErrCodeExpired)
	}
	if dc.state != statePending {
		return nil, fmt.Errorf("user code %s: %w", dc.user, ErrCodeDecided)
	}
	if approve {
		if !s.knownUser(login) {
			return nil, fmt.Errorf("approve as %q: %w", login, ErrUnknownUser)
		}
		dc.state, dc.login = stateApproved, login
	} else {
		dc.state = stateDenied
	}
	return dc, nil
}

// handleDevicePage serves GET and POST /login/device.
func (s *Server) handleDevicePage(w *emuhttp.Recorder, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		data := devicePageData{Title: "Device activation", UserCode: r.URL.Query().Get("user_code")}
		if data.UserCode != "" {
			s.mu.Lock()
			if dc, ok := s.byUser[normalizeUserCode(data.UserCode)]; ok {
				data.App = s.clients[dc.clientID].Name
				data.Scopes = slices.Clone(dc.scopes)
			}
			s.mu.Unlock()
		}
		s.renderDevicePage(w, http.StatusOK, data)
	case http.MethodPost:
		s.postDevicePage(w, r)
	default:
		methodNotAllowed(w, "GET, POST")
	}
}

func (s *Server) renderDevicePage(w http.ResponseWriter, status int, data devicePageData) {
	data.CSRF = s.csrfToken()
	data.Users = s.users
	if data.Login == "" {
		data.Login = s.users[0]
	}
	if len(data.UserCode) > 16 {
		data.UserCode = data.UserCode[:16]
	}
	renderPage(w, status, devicePage(), data, "")
}

func (s *Server) postDevicePage(w *emuhttp.Recorder, r *http.Request) {
	p, err := emuhttp.ParseParams(w, r)
	if err != nil {
		renderMessage(w, http.StatusBadRequest, "Bad request", "The form could not be read. Go back and try again.", false)
		return
	}
	if !s.checkCSRF(p.Get("authenticity_token")) {
		renderMessage(w, http.StatusForbidden, "Form expired", "This form is invalid or has expired. Reload the page and enter the code again.", false)
		return
	}
	userCode, login, action := p.Get("user_code"), p.Get("login"), p.Get("action")
	data := devicePageData{Title: "Device activation", UserCode: userCode, Login: login}
	if action != "approve" && action != "deny" {
		data.Error = "Choose Authorize or Cancel."
		s.renderDevicePage(w, http.StatusBadRequest, data)
		return
	}
	s.mu.Lock()
	dc, err := s.decideLocked(userCode, login, action == "approve")
	var app string
	if dc != nil {
		app = s.clients[dc.clientID].Name
	}
	s.mu.Unlock()
	switch {
	case err == nil && action == "approve":
		renderMessage(w, http.StatusOK, "Congratulations, you're all set!",
			fmt.Sprintf("%s is now authorized as %s. You can close this window and return to your device.", app, login), true)
	case err == nil:
		renderMessage(w, http.StatusOK, "Access denied",
			fmt.Sprintf("You denied %s access. You can close this window.", app), false)
	default:
		data.Error = pageMessage(err)
		s.renderDevicePage(w, http.StatusBadRequest, data)
	}
}

// pageMessage turns a decision error into words for the device page.
func pageMessage(err error) string {
	switch {
	case errors.Is(err, ErrUnknownUserCode):
		return "That code was not recognized. Check the code shown on your device and try again."
	case errors.Is(err, ErrCodeExpired):
		return "That code has expired. Start the login again on your device to get a new code."
	case errors.Is(err, ErrCodeDecided):
		return "That code has already been used."
	case errors.Is(err, ErrUnknownUser):
		return "Choose one of the listed users."
	}
	return "Something went wrong; try again."
}

// ceilSeconds is d in whole seconds, rounded up: the protocol carries whole
// seconds, and a client waiting the advertised time must never be early.
func ceilSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

// An OAuth 2.0 / OpenID Connect authorization server that ghlogin did not
// write: the npm package oidc-provider, configured for ghlogin's
// interoperability tests (device authorization grant, RFC 8628; authorization
// code with PKCE for loopback clients, RFC 8252; refresh tokens; userinfo).
//
// Usage: node server.mjs [PORT] [--exit-on-stdin-eof]
//
// It listens on 127.0.0.1 only (PORT 0 or none picks a free port), then prints
// one line "READY <issuer>" to stdout. With --exit-on-stdin-eof it exits when
// its standard input closes, so a test that dies never leaves it running.
//
// Approvals happen through oidc-provider's own HTML pages: the device page
// (/device, with its xsrf field), then the devInteractions login and consent
// forms (/interaction/UID). Accounts: the account IDs in ACCOUNTS below
// ("alice", and "248289761001" for bob), with any password.

import http from 'node:http';
import process from 'node:process';
import querystring from 'node:querystring';

import Provider from 'oidc-provider';

const args = process.argv.slice(2);
const exitOnStdinEOF = args.includes('--exit-on-stdin-eof');
const portArg = args.find((a) => !a.startsWith('--')) ?? process.env.PORT ?? '0';
const port = Number.parseInt(portArg, 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid port ${JSON.stringify(portArg)}: give a number from 0 to 65535`);
  process.exit(2);
}

// Test accounts, keyed by account ID (the OpenID Connect sub claim), which is
// what the devInteractions login form asks for. bob's sub differs from his
// preferred_username on purpose, so a client that reads the wrong claim
// shows the wrong login.
const ACCOUNTS = {
  alice: { preferred_username: 'alice', name: 'Alice Example', email: 'alice@example.test' },
  '248289761001': { preferred_username: 'bob', name: 'Bob Example', email: 'bob@example.test' },
};

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

// Clients. Public ones authenticate with "none" (a CLI cannot keep a secret);
// the confidential ones exercise client_secret_basic and client_secret_post.
const loopbackRedirects = ['http://127.0.0.1/callback', 'http://[::1]/callback', 'http://localhost/callback'];
const common = {
  application_type: 'native',
  grant_types: [DEVICE_GRANT, 'refresh_token', 'authorization_code'],
  response_types: ['code'],
  redirect_uris: loopbackRedirects,
};
const clients = [
  { ...common, client_id: 'ghlogin-public', client_name: 'ghlogin interop (public)', token_endpoint_auth_method: 'none' },
  // Access tokens that live 2 minutes, so `ghlogin token` must refresh them.
  { ...common, client_id: 'ghlogin-shortlived', client_name: 'ghlogin interop (short-lived tokens)', token_endpoint_auth_method: 'none' },
  {
    ...common, client_id: 'ghlogin-basic', client_name: 'ghlogin interop (client_secret_basic)', client_secret: 'interop-basic-secret', token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    ...common, client_id: 'ghlogin-post', client_name: 'ghlogin interop (client_secret_post)', client_secret: 'interop-post-secret', token_endpoint_auth_method: 'client_secret_post',
  },
];

const SHORT_LIVED_SECONDS = 120;

const configuration = {
  clients,
  async findAccount(_ctx, id) {
    if (!Object.hasOwn(ACCOUNTS, id)) {
      return undefined;
    }
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...ACCOUNTS[id] };
      },
    };
  },
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name'],
    email: ['email'],
  },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    userinfo: { enabled: true },
    revocation: { enabled: true },
  },
  pkce: {
    required: () => true,
  },
  ttl: {
    AccessToken(_ctx, _token, client) {
      return client && client.clientId === 'ghlogin-shortlived' ? SHORT_LIVED_SECONDS : 3600;
    },
    DeviceCode: 600,
    Grant: 3600,
    IdToken: 3600,
    Interaction: 600,
    RefreshToken: 86400,
    Session: 3600,
    AuthorizationCode: 60,
  },
  cookies: {
    keys: ['ghlogin-interop-cookie-key-not-a-secret'],
  },
  // Errors shown to the person in the browser, with the OAuth error as JSON
  // in <pre id="error"> so tests can read it.
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><html><head><title>oops! something went wrong</title></head><body><h1>oops! something went wrong</h1><pre id="error">${escapeHTML(JSON.stringify(out))}</pre></body></html>`;
  },
};

function escapeHTML(s) {
  return s.replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  }[c]));
}

// oidc-provider accepts a client secret either way (HTTP Basic or the form
// body) whichever method the client registered. Stricter servers accept only
// the registered one, and so does this harness, so the tests prove that
// ghlogin's client_auth setting chooses the method.
const CLIENT_AUTH_ENDPOINTS = new Set(['/token', '/device/auth', '/token/revocation', '/token/introspection']);
const registeredAuth = new Map(clients.map((c) => [c.client_id, c.token_endpoint_auth_method]));
const BODY_LIMIT = 56 * 1024;

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > BODY_LIMIT) {
      throw new Error('request body too large');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function decodeBasicUser(header) {
  const [scheme, value] = header.split(' ');
  if (!/^basic$/i.test(scheme || '') || !value) {
    return undefined;
  }
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) {
    return undefined;
  }
  try {
    return decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

// enforceClientAuth answers the request itself (and returns true) when a
// confidential client sent its secret by a method it did not register.
async function enforceClientAuth(req, res) {
  const { pathname } = new URL(req.url, 'http://127.0.0.1');
  const type = req.headers['content-type'] || '';
  if (req.method !== 'POST' || !CLIENT_AUTH_ENDPOINTS.has(pathname) || !type.startsWith('application/x-www-form-urlencoded')) {
    return false;
  }
  const params = querystring.parse(await readBody(req));
  req.body = params; // oidc-provider reads an already parsed body from here
  let used;
  let clientId;
  if (req.headers.authorization) {
    used = 'client_secret_basic';
    clientId = decodeBasicUser(req.headers.authorization);
  } else if (params.client_secret) {
    used = 'client_secret_post';
    clientId = params.client_id;
  } else {
    return false;
  }
  const registered = registeredAuth.get(clientId);
  if (!['client_secret_basic', 'client_secret_post'].includes(registered) || registered === used) {
    return false;
  }
  const body = JSON.stringify({
    error: 'invalid_client',
    error_description: `client authentication failed: client ${clientId} must authenticate with ${registered}, not ${used}`,
  });
  const headers = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' };
  if (used === 'client_secret_basic') {
    headers['WWW-Authenticate'] = 'Basic realm="ghlogin-interop"';
  }
  res.writeHead(401, headers);
  res.end(body);
  console.error(`client_auth: refused ${used} for ${clientId} (registered ${registered})`);
  return true;
}

const server = http.createServer();

server.listen(port, '127.0.0.1', () => {
  const { port: bound } = server.address();
  const issuer = `http://127.0.0.1:${bound}`;
  const provider = new Provider(issuer, configuration);
  provider.on('server_error', (_ctx, err) => {
    console.error('server_error:', err);
  });
  // What went wrong and why (error_detail is not sent to clients).
  for (const event of ['grant.error', 'device_authorization.error', 'userinfo.error', 'revocation.error', 'authorization.error', 'code_verification.error']) {
    provider.on(event, (_ctx, err) => {
      console.error(`${event}: ${err.error || err.name}: ${err.error_description || err.message}${err.error_detail ? ` (${err.error_detail})` : ''}`);
    });
  }
  const callback = provider.callback();
  server.on('request', (req, res) => {
    enforceClientAuth(req, res).then((handled) => {
      if (!handled) {
        callback(req, res);
      }
    }, (err) => {
      res.writeHead(400, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: 'invalid_request', error_description: err.message }));
    });
  });
  process.stdout.write(`READY ${issuer}\n`);
});

server.on('error', (err) => {
  console.error(`cannot listen on 127.0.0.1:${port}: ${err.message}`);
  process.exit(1);
});

function shutdown() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

if (exitOnStdinEOF) {
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}

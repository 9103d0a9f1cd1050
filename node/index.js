// localidp test kit: starts a private, in-memory localidp for a test run and hands the
// test its URLs, tokens, users and request journal. No runtime dependencies.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { accessSync, constants as fsConstants, rmSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The confidential client the kit adds to the seed for its own Graph calls. */
export const KIT_CLIENT_ID = 'localidp-testkit';
const KIT_GRAPH_PERMISSIONS = ['User.ReadWrite.All', 'Application.ReadWrite.All'];
const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const EXE = process.platform === 'win32' ? 'localidp.exe' : 'localidp';
// What the banner prints once the server listens (src/cli/serve.rs).
const DISCOVERY_LINE = /discovery:\s+(\S+)\/([0-9a-fA-F-]{36})\/v2\.0\/\.well-known\/openid-configuration/;
const STDERR_KEPT = 64 * 1024;

// Servers not stopped yet: killed when this process exits, whoever forgot stop().
const live = new Set();
let exitHookInstalled = false;
function keepUntilExit(kill) {
  if (!exitHookInstalled) {
    process.on('exit', () => live.forEach((k) => k()));
    exitHookInstalled = true;
  }
  live.add(kill);
}

/** A refusal from the server (or a server that would not start), with its answer. */
export class LocalIdpError extends Error {
  constructor(message, { status, body } = {}) {
    super(message);
    this.name = 'LocalIdpError';
    this.status = status;
    this.body = body;
  }
}

function isExecutable(file) {
  try {
    accessSync(file, fsConstants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The binary: `bin`, else LOCALIDP_BIN, else the package's own copy, else PATH. */
export function findBinary(bin) {
  const [given, from] = bin ? [bin, 'the bin option'] : [process.env.LOCALIDP_BIN, 'LOCALIDP_BIN'];
  if (given) {
    if (!isExecutable(given)) throw new LocalIdpError(`${given} (${from}) is not an executable localidp binary`);
    return given;
  }
  const own = fileURLToPath(new URL(`./bin/${EXE}`, import.meta.url));
  if (isExecutable(own)) return own;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, EXE))) return path.join(dir, EXE);
  }
  throw new LocalIdpError(
    `no localidp binary: set LOCALIDP_BIN to one, install a localidp package that carries one (${own}), or put localidp on PATH`,
  );
}

function kitClient(secret) {
  return {
    client_id: KIT_CLIENT_ID,
    name: 'localidp test kit',
    secret,
    grant_types: ['client_credentials'],
    graph_permissions: KIT_GRAPH_PERMISSIONS,
  };
}

/** Writes the seed, with the kit's client added, into `dir`; returns its path and the
 * seed as an object when it is one (for b2cAuthority's default user flow). */
async function writeSeed(seed, dir, secret) {
  if (typeof seed === 'string' && !seed.toLowerCase().endsWith('.json')) {
    // TOML: a `[[clients]]` table appended at the end joins the file's clients.
    const toml = await readFile(seed, 'utf8');
    const client = kitClient(secret);
    const lines = Object.entries(client).map(([k, v]) => `${k} = ${JSON.stringify(v)}`);
    const file = path.join(dir, 'seed.toml');
    await writeFile(file, `${toml}\n\n[[clients]]\n${lines.join('\n')}\n`);
    return { file, object: undefined };
  }
  const object = typeof seed === 'string' ? JSON.parse(await readFile(seed, 'utf8')) : structuredClone(seed ?? {});
  object.clients = [...(object.clients ?? []), kitClient(secret)];
  const file = path.join(dir, 'seed.json');
  await writeFile(file, JSON.stringify(object));
  return { file, object };
}

function snakeCase(fields) {
  return Object.fromEntries(
    Object.entries(fields ?? {})
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
  );
}

/**
 * Starts `localidp serve --ephemeral --port 0 --seed ...` and resolves once it answers
 * /healthz. Options: `seed` (object, or a .toml/.json path), `tls` (HTTPS with a fresh
 * development CA), `args` (more `serve` flags), `bin`, `env`, `logs` (server output to
 * this process's stderr), `startTimeout` (ms).
 */
export async function startLocalIdp(options = {}) {
  const { seed, tls = false, args = [], env, logs = false, startTimeout = 30_000 } = options;
  const bin = findBinary(options.bin);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'localidp-'));
  const secret = randomBytes(32).toString('base64url');
  let written;
  try {
    written = await writeSeed(seed, dir, secret);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const caFile = tls ? path.join(dir, 'ca.pem') : undefined;
  const argv = ['serve', '--ephemeral', '--port', '0', '--seed', written.file];
  if (tls) argv.push('--tls', '--tls-ca-out', caFile);
  argv.push(...args);

  const child = spawn(bin, argv, {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    if (logs) process.stderr.write(chunk);
    stderr = (stderr + chunk).slice(-STDERR_KEPT);
  });
  const onExit = () => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  keepUntilExit(onExit);

  let banner;
  try {
    banner = await readBanner(child, startTimeout, () => stderr, logs);
  } catch (e) {
    child.kill('SIGKILL');
    live.delete(onExit);
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  // A forgotten stop() must not keep the test process alive.
  child.unref();
  child.stdout.unref?.();
  child.stderr.unref?.();

  const ca = tls ? await readFile(caFile, 'utf8') : undefined;
  const idp = new LocalIdp({ child, dir, ca, caFile, secret, onExit, seed: written.object, ...banner });
  try {
    await idp.ready(startTimeout);
  } catch (e) {
    await idp.stop();
    throw e;
  }
  return idp;
}

/** Reads stdout until the banner names the base URL and the default tenant. */
function readBanner(child, timeout, stderr, logs) {
  return new Promise((resolve, reject) => {
    let out = '';
    const fail = (why) => {
      cleanup();
      reject(new LocalIdpError(`localidp did not start: ${why}\n${stderr().trim()}`));
    };
    const onData = (chunk) => {
      out += chunk;
      if (logs) process.stderr.write(chunk);
      const m = DISCOVERY_LINE.exec(out);
      if (m) {
        cleanup();
        resolve({ baseUrl: m[1], tenantId: m[2] });
      }
    };
    const onExit = (code, signal) => fail(`it exited (${signal ?? `status ${code}`}) before listening`);
    const onError = (e) => fail(e.message);
    const timer = setTimeout(() => fail(`no banner within ${timeout} ms`), timeout);
    function cleanup() {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      // Keep draining stdout so the server never blocks on a full pipe.
      child.stdout.resume();
    }
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.on('exit', onExit);
    child.on('error', onError);
  });
}

class LocalIdp {
  #child;
  #dir;
  #secret;
  #onExit;
  #seed;
  #stopped;
  #graphToken;
  /** Correlation ids of the kit's own requests, left out of requests(). */
  #ownRequests = new Set();

  constructor({ child, dir, ca, caFile, secret, onExit, seed, baseUrl, tenantId }) {
    this.#child = child;
    this.#dir = dir;
    this.#secret = secret;
    this.#onExit = onExit;
    this.#seed = seed;
    this.baseUrl = baseUrl;
    this.tenantId = tenantId;
    this.authority = `${baseUrl}/${tenantId}`;
    this.issuer = `${this.authority}/v2.0`;
    this.jwksUri = `${this.authority}/discovery/v2.0/keys`;
    this.tokenEndpoint = `${this.authority}/oauth2/v2.0/token`;
    this.ca = ca;
    this.caFile = caFile;
    this.pid = child.pid;
    this.fetch = this.fetch.bind(this);
    // msal-node's INetworkModule, trusting the development CA (msal-node uses the global
    // fetch, which cannot be given a CA).
    const send = async (url, method, opts) => {
      const res = await this.fetch(url, { method, headers: opts?.headers, body: opts?.body });
      const headers = Object.fromEntries(res.headers);
      return { headers, body: await res.json(), status: res.status };
    };
    this.networkClient = {
      sendGetRequestAsync: (url, opts) => send(url, 'GET', opts),
      sendPostRequestAsync: (url, opts) => send(url, 'POST', opts),
    };
  }

  /** Waits for /healthz and checks the discovery document agrees with the banner. */
  async ready(timeout) {
    const until = Date.now() + timeout;
    for (;;) {
      let why;
      try {
        const id = randomUUID();
        this.#ownRequests.add(id);
        const res = await this.fetch('/healthz', { headers: { 'client-request-id': id } });
        if (res.ok) break;
        why = `status ${res.status}`;
      } catch (e) {
        why = e.message;
      }
      if (Date.now() > until) throw new LocalIdpError(`localidp never answered /healthz: ${why}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const meta = await this.#call('GET', `/${this.tenantId}/v2.0/.well-known/openid-configuration`);
    this.issuer = meta.issuer;
    this.jwksUri = meta.jwks_uri;
    this.tokenEndpoint = meta.token_endpoint;
  }

  /** The B2C authority of a user flow (default: the seed's first tenant's first policy). */
  b2cAuthority(policy) {
    const flow = policy ?? this.#seed?.tenants?.[0]?.policies?.[0];
    if (!flow) throw new LocalIdpError('b2cAuthority needs a user flow: the seed names none');
    return `${this.authority}/${flow}`;
  }

  /**
   * fetch() that trusts the server's development CA (with `tls`) and takes paths relative
   * to baseUrl; for jose's `[customFetch]` and the like.
   */
  fetch(url, init = {}) {
    const target = new URL(url, this.baseUrl);
    const lib = target.protocol === 'https:' ? https : http;
    const headers = Object.fromEntries(new Headers(init.headers ?? {}));
    return new Promise((resolve, reject) => {
      const req = lib.request(
        target,
        { method: init.method ?? 'GET', headers, ca: this.ca, signal: init.signal },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const body = [101, 204, 205, 304].includes(res.statusCode) ? null : Buffer.concat(chunks);
            const h = new Headers();
            for (let i = 0; i < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
            resolve(new Response(body, { status: res.statusCode, statusText: res.statusMessage, headers: h }));
          });
        },
      );
      req.on('error', reject);
      req.end(init.body ?? undefined);
    });
  }

  /** One request of the kit's own: JSON back, or a LocalIdpError with the server's body. */
  async #call(method, pathname, { json, form, token } = {}) {
    const id = randomUUID();
    this.#ownRequests.add(id);
    const headers = { 'client-request-id': id, accept: 'application/json' };
    let body;
    if (json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await this.fetch(pathname, { method, headers, body });
    const text = await res.text();
    let parsed;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (!res.ok) {
      throw new LocalIdpError(`${method} ${pathname}: ${res.status} ${text}`, { status: res.status, body: parsed });
    }
    return parsed;
  }

  /** POST /_dev/token with these fields (camelCase or the endpoint's snake_case). */
  mint(fields = {}) {
    return this.#call('POST', '/_dev/token', { json: snakeCase(fields) });
  }

  /** An access token for a user (email or user name), as the password grant would issue it. */
  async tokenFor(user, { scopes, clientId, claims, ...more } = {}) {
    const scope = Array.isArray(scopes) ? scopes.join(' ') : scopes;
    const answer = await this.mint({ ...more, user, scope, clientId, claims, kind: 'access' });
    return answer.access_token;
  }

  /** A Graph token of the kit's client (client credentials), kept until near its expiry. */
  async #graph() {
    if (!this.#graphToken || this.#graphToken.until < Date.now()) {
      const t = await this.#call('POST', `/${this.tenantId}/oauth2/v2.0/token`, {
        form: { grant_type: 'client_credentials', client_id: KIT_CLIENT_ID, client_secret: this.#secret, scope: GRAPH_SCOPE },
      });
      this.#graphToken = { value: t.access_token, until: Date.now() + (t.expires_in - 60) * 1000 };
    }
    return this.#graphToken.value;
  }

  /**
   * A user in the default tenant through Graph (POST /v1.0/users): `email`, `username`,
   * `password`, `forceChangePassword`, and any Graph user property (`displayName`, ...).
   */
  async addUser({ email, username, password, forceChangePassword, ...graph } = {}) {
    const body = { accountEnabled: true, displayName: email ?? username, mailNickname: (email ?? username ?? '').split('@')[0], ...graph };
    if (email !== undefined) body.mail = email;
    if (username !== undefined) body.userPrincipalName = username;
    if (password !== undefined) body.passwordProfile = { password, forceChangePasswordNextSignIn: !!forceChangePassword };
    return this.#call('POST', '/v1.0/users', { json: body, token: await this.#graph() });
  }

  /**
   * An application through Graph (POST /v1.0/applications) and, unless `secret: false`
   * or it is public, a client secret (addPassword). `appRoles` may be plain names.
   * Resolves to the application with `clientId` and `clientSecret`.
   */
  async addClient({ name, secret, appRoles, ...graph } = {}) {
    const body = { displayName: name ?? 'test client', ...graph };
    if (appRoles) {
      body.appRoles = appRoles.map((r) =>
        typeof r === 'string'
          ? { id: randomUUID(), value: r, displayName: r, description: r, allowedMemberTypes: ['User', 'Application'], isEnabled: true }
          : r,
      );
    }
    const token = await this.#graph();
    const app = await this.#call('POST', '/v1.0/applications', { json: body, token });
    const wantsSecret = secret ?? !(graph.isFallbackPublicClient || graph.publicClient);
    let clientSecret;
    if (wantsSecret) {
      const credential = await this.#call('POST', `/v1.0/applications/${app.id}/addPassword`, {
        json: { passwordCredential: { displayName: 'localidp test kit' } },
        token,
      });
      clientSecret = credential.secretText;
    }
    return { ...app, clientId: app.appId, clientSecret };
  }

  /** The request journal, oldest first, without the kit's own requests (`all: true`: with). */
  async requests({ limit, all = false } = {}) {
    const { requests } = await this.#call('GET', '/_dev/requests');
    const kept = all ? requests : requests.filter((r) => !this.#ownRequests.has(r.correlation_id));
    return limit === undefined ? kept : kept.slice(-limit);
  }

  /** Empties the request journal. */
  async clearRequests() {
    await this.#call('DELETE', '/_dev/requests');
    this.#ownRequests.clear();
  }

  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its files. */
  async stop() {
    this.#stopped ??= (async () => {
      live.delete(this.#onExit);
      const child = this.#child;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(this.#dir, { recursive: true, force: true });
    })();
    return this.#stopped;
  }

  [Symbol.asyncDispose]() {
    return this.stop();
  }
}

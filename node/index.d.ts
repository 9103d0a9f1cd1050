/** The confidential client the kit adds to the seed for its own Graph calls. */
export const KIT_CLIENT_ID: 'localidp-testkit';

/** A refusal from the server (or a server that would not start), with its answer. */
export class LocalIdpError extends Error {
  /** The HTTP status, when the server answered. */
  status?: number;
  /** The server's body (parsed JSON when it is JSON). */
  body?: unknown;
}

/** The seed file's fields (README "Seed file (test fixtures)"), as an object. */
export interface Seed {
  tenants?: Record<string, unknown>[];
  groups?: Record<string, unknown>[];
  users?: Record<string, unknown>[];
  clients?: Record<string, unknown>[];
}

export interface StartOptions {
  /** The seed: an object (written as JSON), or a path to a .toml or .json seed file. */
  seed?: Seed | string;
  /** Serve HTTPS with a fresh development CA (MSAL needs https); see `ca`, `caFile`. */
  tls?: boolean;
  /** More `localidp serve` flags, e.g. `['--clock-skew', '0']`. */
  args?: string[];
  /** The binary; default LOCALIDP_BIN, else the package's own copy, else `localidp` on PATH. */
  bin?: string;
  /** Environment of the server, over this process's. */
  env?: Record<string, string>;
  /** Copy the server's output to this process's stderr. */
  logs?: boolean;
  /** Milliseconds to wait for the server (default 30000). */
  startTimeout?: number;
}

/** The answer of POST /_dev/token. */
export interface Minted {
  access_token?: string;
  id_token?: string;
  token_type: 'Bearer';
  expires_in: number;
}

/** POST /_dev/token's body (README "Tokens for tests"); camelCase or snake_case keys. */
export interface MintFields {
  user?: string;
  oid?: string;
  tenant?: string;
  clientId?: string;
  flavour?: 'entra' | 'b2c' | 'short';
  policy?: string;
  scope?: string;
  kind?: 'access' | 'id' | 'both';
  lifetime?: number;
  nbfOffset?: number;
  audience?: string;
  issuer?: string;
  claims?: Record<string, unknown>;
  variant?: 'valid' | 'expired' | 'not_yet_valid' | 'wrong_audience' | 'wrong_issuer' | 'foreign_key' | 'alg_none';
  [field: string]: unknown;
}

export interface TokenForOptions extends Omit<MintFields, 'user' | 'scope' | 'kind'> {
  /** Scopes, e.g. `['api://my-api/.default']`; decide `aud` and `scp`. */
  scopes?: string[] | string;
}

/** A user for POST /v1.0/users; other Graph user properties pass through. */
export interface NewUser {
  email?: string;
  username?: string;
  password?: string;
  forceChangePassword?: boolean;
  displayName?: string;
  givenName?: string;
  surname?: string;
  accountEnabled?: boolean;
  [graphProperty: string]: unknown;
}

/** An application for POST /v1.0/applications; other Graph properties pass through. */
export interface NewClient {
  /** displayName (default "test client"). */
  name?: string;
  /** Add a client secret (default: yes, unless public). */
  secret?: boolean;
  /** App roles: plain names (enabled, for users and applications) or Graph appRole objects. */
  appRoles?: (string | Record<string, unknown>)[];
  web?: { redirectUris?: string[] };
  spa?: { redirectUris?: string[] };
  publicClient?: { redirectUris?: string[] };
  isFallbackPublicClient?: boolean;
  [graphProperty: string]: unknown;
}

/** One entry of GET /_dev/requests. */
export interface JournalEntry {
  time: number;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  form: Record<string, string | string[]> | null;
  status: number;
  correlation_id: string;
}

/** msal-node's INetworkModule (`system.networkClient`). */
export interface NetworkClient {
  sendGetRequestAsync(url: string, options?: { headers?: Record<string, string>; body?: string }): Promise<{ headers: Record<string, string>; body: any; status: number }>;
  sendPostRequestAsync(url: string, options?: { headers?: Record<string, string>; body?: string }): Promise<{ headers: Record<string, string>; body: any; status: number }>;
}

export interface LocalIdp extends AsyncDisposable {
  /** `http://localhost:PORT` (`https://` with `tls`). */
  readonly baseUrl: string;
  /** The default tenant's GUID. */
  readonly tenantId: string;
  /** Entra authority: `{baseUrl}/{tenantId}`. */
  readonly authority: string;
  /** `iss` of the default tenant's Entra tokens. */
  readonly issuer: string;
  readonly jwksUri: string;
  readonly tokenEndpoint: string;
  /** The development CA (PEM) with `tls`. */
  readonly ca?: string;
  /** A file holding `ca`, with `tls` (removed by stop()). */
  readonly caFile?: string;
  /** The server's process id. */
  readonly pid: number;
  /** msal-node's network client, trusting `ca`. */
  readonly networkClient: NetworkClient;
  /** B2C authority of a user flow (default: the seed's first tenant's first policy). */
  b2cAuthority(policy?: string): string;
  /** fetch() trusting `ca`; paths are relative to baseUrl. For jose's `[customFetch]`. */
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
  /** An access token for a user (email or user name). */
  tokenFor(user: string, options?: TokenForOptions): Promise<string>;
  /** Any token, hostile variants included. */
  mint(fields?: MintFields): Promise<Minted>;
  /** A user in the default tenant, through Graph; resolves to the Graph user (`id` = oid). */
  addUser(fields: NewUser): Promise<Record<string, any> & { id: string; userPrincipalName: string }>;
  /** An application through Graph, with a secret unless public. */
  addClient(fields?: NewClient): Promise<Record<string, any> & { id: string; appId: string; clientId: string; clientSecret?: string }>;
  /** The request journal, oldest first, without the kit's own requests unless `all`. */
  requests(options?: { limit?: number; all?: boolean }): Promise<JournalEntry[]>;
  clearRequests(): Promise<void>;
  /** Stops the server and removes its files; also done when this process exits. */
  stop(): Promise<void>;
}

/** Starts a private localidp (`serve --ephemeral --port 0 --seed ...`). */
export function startLocalIdp(options?: StartOptions): Promise<LocalIdp>;

/** The binary the kit would run (throws a LocalIdpError naming what to set when none). */
export function findBinary(bin?: string): string;

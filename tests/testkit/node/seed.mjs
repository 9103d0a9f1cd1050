// The fixtures the suites share: one tenant, an API, a daemon, a web app and a user.
export const API = 'tasks-api';
export const DAEMON = 'daemon';
export const DAEMON_SECRET = 'daemon-secret-0123456789';
export const WEB = 'web';
export const ALICE = 'alice@contoso.com';

export const seed = {
  tenants: [{ name: 'contoso.onmicrosoft.com', policies: ['B2C_1_ROPC'], default_client: WEB }],
  clients: [
    { client_id: API, secret: 'tasks-api-secret-0123456789' },
    { client_id: DAEMON, secret: DAEMON_SECRET, app_roles: ['Tasks.Read.All'], grant_types: ['client_credentials'] },
    { client_id: WEB, public: true },
  ],
  users: [{ email: ALICE, password: 'alice-password', roles: ['Reader'] }],
};

export const claims = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

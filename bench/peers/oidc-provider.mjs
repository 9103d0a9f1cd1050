// oidc-provider (OpenID Certified) as a benchmark peer for bench/run.sh.
//
//   node oidc-provider.mjs PORT [KEY.json]
//
// One confidential client, bench-client / $BENCH_CLIENT_SECRET, with the
// client_credentials grant and client_secret_post. In oidc-provider 9 the
// client_credentials grant is features.clientCredentials; its access token is a
// JWT only when the request resolves to a resource server whose
// accessTokenFormat is 'jwt' (features.resourceIndicators), so every token
// request defaults to one resource, urn:localidp-bench:api, signed RS256.
// The JWKS is served at /jwks (routes.jwks). KEY.json holds an RSA-2048 private
// JWK: read when the file exists, generated and written when it does not, and
// generated without being kept when no file is given (the "ephemeral" start).
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const keyFile = process.argv[3];
const secret = process.env.BENCH_CLIENT_SECRET ?? 'bench-secret-0123456789abcdefghijklmnopqrstuv';
const resource = 'urn:localidp-bench:api';

function signingKey() {
  if (keyFile && existsSync(keyFile)) {
    return JSON.parse(readFileSync(keyFile, 'utf8'));
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', alg: 'RS256', use: 'sig' };
  if (keyFile) writeFileSync(keyFile, JSON.stringify(jwk), { mode: 0o600 });
  return jwk;
}

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'bench-client',
    client_secret: secret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  jwks: { keys: [signingKey()] },
  ttl: { ClientCredentials: 3600 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => resource,
      getResourceServerInfo: async () => ({
        scope: 'api',
        audience: resource,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on http://127.0.0.1:${port}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => server.close(() => process.exit(0)));
}

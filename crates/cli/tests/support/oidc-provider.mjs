// A real OpenID provider for isx's single sign-on tests: panva's
// oidc-provider (the certified Node.js implementation, from npm) over
// HTTPS, with its development sign-in pages (any password) and one
// confidential client, isx. Accounts and their claims come from the
// ISX_IDP_ACCOUNTS JSON ({"login": {"groups": [...], ...}}).
//
// For the attacks, the test can switch what the token endpoint hands out
// (POST /__mode/<mode>): `honest`; `tamper` (claims changed after
// signing); `audience` (signed, for another client); `expired` (signed,
// long expired); `foreign-key` (signed by a key the provider does not
// publish). The provider itself is unchanged: isx must refuse each.
//
// Usage: node oidc-provider.mjs  (env: OIDC_PROVIDER_LIB, JOSE_LIB,
//   ISX_IDP_PORT, ISX_IDP_KEY, ISX_IDP_CERT, ISX_IDP_REDIRECT,
//   ISX_IDP_CLIENT_ID, ISX_IDP_CLIENT_SECRET, ISX_IDP_ACCOUNTS)
// Prints "ready <issuer>" once it listens.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { pathToFileURL } from 'node:url';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};

const { default: Provider } = await import(pathToFileURL(`${env('OIDC_PROVIDER_LIB')}/lib/index.js`));
const jose = await import(pathToFileURL(`${env('JOSE_LIB')}/dist/webapi/index.js`));

const port = Number(env('ISX_IDP_PORT'));
const issuer = `https://localhost:${port}`;
const clientId = env('ISX_IDP_CLIENT_ID');
const accounts = JSON.parse(env('ISX_IDP_ACCOUNTS'));

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signing = { ...(await jose.exportJWK(privateKey)), kid: 'isx-test-rs256', alg: 'RS256', use: 'sig' };
const foreign = await jose.generateKeyPair('RS256');

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: env('ISX_IDP_CLIENT_SECRET'),
    redirect_uris: [env('ISX_IDP_REDIRECT')],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signing] },
  cookies: { keys: ['isx-test-cookie-key'] },
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  scopes: ['openid', 'profile', 'email', 'groups'],
  // The claims of the granted scopes go into the ID token itself (isx
  // reads only the ID token).
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const a = accounts[id];
    if (!a) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: `sub-${id}`, preferred_username: id, name: id, email: `${id}@idp.test`, email_verified: true, ...a };
      },
    };
  },
});

let mode = 'honest';

async function resign(token, change, key = privateKey, kid = signing.kid) {
  const claims = jose.decodeJwt(token);
  change(claims);
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(key);
}

provider.use(async (ctx, next) => {
  const m = ctx.path.match(/^\/__mode\/([a-z-]+)$/);
  if (m && ctx.method === 'POST') {
    mode = m[1];
    ctx.body = { mode };
    return;
  }
  await next();
  if (ctx.path !== '/token' || !ctx.body || typeof ctx.body.id_token !== 'string' || mode === 'honest') return;
  const t = ctx.body.id_token;
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'tamper') {
    const [h, p, s] = t.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url'));
    claims.groups = ['cert-admins'];
    ctx.body.id_token = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
  } else if (mode === 'audience') {
    ctx.body.id_token = await resign(t, (c) => { c.aud = 'another-client'; c.azp = 'another-client'; });
  } else if (mode === 'expired') {
    ctx.body.id_token = await resign(t, (c) => { c.iat = now - 7200; c.exp = now - 3600; });
  } else if (mode === 'foreign-key') {
    ctx.body.id_token = await resign(t, () => {}, foreign.privateKey);
  }
});

const server = createServer({ key: readFileSync(env('ISX_IDP_KEY')), cert: readFileSync(env('ISX_IDP_CERT')) }, provider.callback());
server.listen(port, () => {
  console.log(`ready ${issuer}`);
});

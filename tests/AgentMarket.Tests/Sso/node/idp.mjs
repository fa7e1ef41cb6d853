// A real OpenID Connect provider (oidc-provider) on 127.0.0.1 for the SSO tests.
// stdin: {"redirect_uri": "...", "clients": [{"client_id", "client_secret", "tamper"}], "accounts": {"login": {email, email_verified, name}}}
// stdout: one line {"issuer": "http://127.0.0.1:PORT"} once listening; the process runs until stdin closes.
//
// "tamper" makes this IdP misbehave for one client, after oidc-provider issued a genuine id_token:
//   "signature": a claim is changed and the original signature kept (the signature no longer matches);
//   "issuer":    the token is re-signed with the IdP's real key but names another issuer;
//   "nonce":     the token is re-signed with the IdP's real key but carries another nonce.
import { createServer } from 'node:http';
import * as jose from 'jose';
import Provider from 'oidc-provider';

const config = await new Promise((resolve) => {
  let input = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    input += chunk;
    if (input.includes('\n')) resolve(JSON.parse(input.slice(0, input.indexOf('\n'))));
  });
});
// The test keeps stdin open while it needs the IdP; when the test process goes away, so does the IdP.
process.stdin.on('end', () => process.exit(0));

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: 'idp-key-1', alg: 'RS256', use: 'sig' };

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const tampering = Object.fromEntries(config.clients.map((c) => [c.client_id, c.tamper ?? 'none']));

const provider = new Provider(issuer, {
  clients: config.clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: [config.redirect_uri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['sso-tests-cookie-key'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // Every client must use PKCE, so a login only succeeds when the relying party sent a code challenge.
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const account = config.accounts[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
  // Skip the consent screen: the test account has already granted the client its scopes.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});

provider.use(async (ctx, next) => {
  await next();
  const mode = ctx.path === '/token' && ctx.oidc?.client ? tampering[ctx.oidc.client.clientId] : 'none';
  if (!mode || mode === 'none' || typeof ctx.body?.id_token !== 'string') return;
  const [header, payload, signature] = ctx.body.id_token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  if (mode === 'signature') {
    ctx.body.id_token = [header, encode({ ...claims, email: 'someone-else@corp.test' }), signature].join('.');
  } else {
    const changed = mode === 'issuer' ? { ...claims, iss: `${issuer}/not-this-issuer` } : { ...claims, nonce: 'a-nonce-the-relying-party-never-sent' };
    const protectedHeader = JSON.parse(Buffer.from(header, 'base64url').toString());
    ctx.body.id_token = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(changed)))
      .setProtectedHeader(protectedHeader).sign(privateKey);
  }
});

server.on('request', provider.callback());
process.stdout.write(JSON.stringify({ issuer }) + '\n');

// A real OpenID Connect provider for blockline's browser tests: npm's certified `oidc-provider`, on 127.0.0.1.
// node provider.mjs PORT REDIRECT_URI; the accounts come as JSON in OIDC_ACCOUNTS: {name: {roles, counties,
// token_seconds}} (an ID token lives token_seconds, default an hour). Its development sign-in page takes any
// name with any password.
import Provider from 'oidc-provider';

const [port, redirectUri] = process.argv.slice(2);
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');
const seconds = (id) => (accounts[id] && accounts[id].token_seconds) || 3600;
const claimsOf = (id) => {
  const { token_seconds: _, ...claims } = accounts[id] || {};
  return { sub: id, preferred_username: id, ...claims };
};

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'blockline',
    client_secret: 'blockline-test-secret',
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  claims: { openid: ['sub'], profile: ['preferred_username', 'roles', 'counties'] },
  conformIdTokenClaims: false, // the claims in the ID token itself, which is what Streamlit reads
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => claimsOf(id),
  }),
  ttl: {
    IdToken: (ctx, token) => seconds(token.available && token.available.sub),
    AccessToken: 3600, Session: 3600, Grant: 3600, Interaction: 600,
  },
  cookies: { keys: ['blockline-test-only'] },
  features: { devInteractions: { enabled: true } },
});
provider.listen(Number(port), '127.0.0.1', () => console.log(`listening on ${port}`));

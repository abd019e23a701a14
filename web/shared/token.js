// How a page gets its token: the token-provider hook.
//
// A page embedding the widget or the console passes `tokenProvider`: a function returning (a promise of) a JWT
// for the signed-in user, from the page's OWN backend, e.g.
//
//     tokenProvider: async () => (await fetch("/api/chat-token", { credentials: "include" })).json().then(r => r.token)
//
// The SDK calls it before every connect and reconnect, so a token is never reused past its life. Only when no
// provider is given does a page fall back to the edge's development endpoint (`POST /dev/token`), which is off
// unless the edge was started with SWITCHBOARD_DEV_TOKEN_ENDPOINT=true (`switchboard up` does): production
// pages must pass a provider.

const REFRESH_MARGIN_MS = 60_000;

/**
 * A provider minting development tokens at `endpoint` (this page's edge) for `userId` and `role`. A token is
 * reused until a minute before it expires, so a page whose edge went away can still reconnect to another one
 * with the token it holds.
 */
export function devTokenProvider(userId, role, endpoint = new URL("/dev/token", location.href).href) {
  let cached = null;
  const mint = async () => {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user_id: userId, role }),
    });
    const reply = await response.json().catch(() => ({}));
    if (!response.ok || !reply.success) {
      throw new Error(reply.error?.message ?? `development token endpoint answered ${response.status}`);
    }
    return { token: reply.token, expiresAt: Date.now() + reply.expires_in * 1000 };
  };
  return async () => {
    if (cached && cached.expiresAt - Date.now() > REFRESH_MARGIN_MS) return cached.token;
    try {
      cached = await mint();
    } catch (error) {
      if (cached && cached.expiresAt > Date.now()) return cached.token; // the endpoint's edge is down: go on
      throw error;
    }
    return cached.token;
  };
}

/** The page's provider: the one it was given, else the development endpoint's. */
export function resolveTokenProvider(options, role) {
  if (typeof options.tokenProvider === "function") return options.tokenProvider;
  return devTokenProvider(options.userId, role);
}

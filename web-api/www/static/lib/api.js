// The API client of both web UIs: JSON to and from /api/v1 on this origin, the bearer token kept in
// localStorage (one key per UI), errors as ApiError carrying the API's one error shape.
const BASE = '/api/v1';

export class ApiError extends Error {
  // `error` is the whole error object of the reply: some refusals say more than code and message
  // (POST /admin/devices/assign lists each refused device under `refused`).
  constructor(status, code, message, retryAfter, error) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || 'internal';
    this.retryAfter = retryAfter;
    this.error = error || {};
  }
}

function queryString(query) {
  if (!query) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function createApi({ tokenKey, onUnauthorized }) {
  const token = () => localStorage.getItem(tokenKey);
  const setToken = (t) => (t ? localStorage.setItem(tokenKey, t) : localStorage.removeItem(tokenKey));

  async function raw(method, path, { query, body, headers } = {}) {
    const h = { ...(headers || {}) };
    const tk = token();
    if (tk) h.Authorization = `Bearer ${tk}`;
    let payload;
    if (body !== undefined || method === 'POST' || method === 'PUT') {
      h['Content-Type'] = 'application/json';
      payload = JSON.stringify(body ?? {});
    }
    const res = await fetch(BASE + path + queryString(query), { method, headers: h, body: payload });
    if (res.ok) return res;
    let code;
    let message;
    let error;
    try {
      const j = await res.json();
      error = j?.error;
      code = error?.code;
      message = error?.message;
    } catch {
      /* not the error shape: keep the status */
    }
    if (res.status === 401 && tk && onUnauthorized) onUnauthorized();
    throw new ApiError(res.status, code, message, res.headers.get('Retry-After'), error);
  }

  async function request(method, path, opts) {
    const res = await raw(method, path, opts);
    const type = res.headers.get('Content-Type') || '';
    return type.includes('application/json') ? res.json() : res.text();
  }

  return {
    token,
    setToken,
    request,
    get: (path, query) => request('GET', path, { query }),
    post: (path, body, headers) => request('POST', path, { body, headers }),
    put: (path, body) => request('PUT', path, { body }),
    del: (path) => request('DELETE', path),
    // Downloads a file route (exports, QR sheets) with the token, saved under `filename`.
    async download(path, query, filename) {
      const res = await raw('GET', path, { query });
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = filename;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    },
    // A binary route (a QR image) as an object URL for <img src>.
    async objectUrl(path, query) {
      const res = await raw('GET', path, { query });
      return URL.createObjectURL(await res.blob());
    },
  };
}

// A random key for the money routes' Idempotency-Key header (one per intended operation).
export function idempotencyKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// The sign-in state of one UI: its API client, the token (and an optional profile, e.g. the
// operator with its permissions) in localStorage, sign-out through `logoutPath` (the token is
// dropped whatever the API answers), and listeners told of every change. A 401 on a request made
// with a token signs out.
export function createSession({ tokenKey, profileKey, logoutPath }) {
  const listeners = new Set();
  const changed = () => {
    for (const f of listeners) f();
  };
  const session = {
    api: null,
    profile() {
      if (!profileKey) return null;
      try {
        return JSON.parse(localStorage.getItem(profileKey));
      } catch {
        return null;
      }
    },
    signedIn: () => !!session.api.token() && (!profileKey || !!session.profile()),
    signIn(token, profile) {
      session.api.setToken(token);
      if (profileKey) localStorage.setItem(profileKey, JSON.stringify(profile));
      changed();
    },
    async signOut(callApi = true) {
      if (callApi && session.api.token()) {
        try {
          await session.api.post(logoutPath, {});
        } catch {
          /* the token is dropped either way */
        }
      }
      session.api.setToken(null);
      if (profileKey) localStorage.removeItem(profileKey);
      changed();
    },
    onChange(f) {
      listeners.add(f);
      return () => listeners.delete(f);
    },
  };
  session.api = createApi({ tokenKey, onUnauthorized: () => session.signOut(false) });
  return session;
}

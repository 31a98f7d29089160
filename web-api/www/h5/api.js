// The rider's API client and sign-in state (token in localStorage), for the H5 page.
import { createApi } from '../static/lib/api.js';

const listeners = new Set();

export const api = createApi({
  tokenKey: 'pilehub.h5.token',
  onUnauthorized: () => signOut(false),
});

export function signedIn() {
  return !!api.token();
}

export function setRider(token) {
  api.setToken(token);
  for (const f of listeners) f();
}

export async function signOut(callApi = true) {
  if (callApi && api.token()) {
    try {
      await api.post('/auth/logout', {});
    } catch {
      /* the token is dropped either way */
    }
  }
  api.setToken(null);
  for (const f of listeners) f();
}

export function onAuthChange(f) {
  listeners.add(f);
  return () => listeners.delete(f);
}

// The sandbox's confirm path is given absolute (/api/v1/...); the client wants it relative.
export function apiPath(path) {
  return String(path).replace(/^\/api\/v1/, '');
}

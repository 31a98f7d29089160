// The console's API client and the signed-in operator (token and permissions in localStorage).
import { createApi } from '../static/lib/api.js';

const ADMIN_KEY = 'pilehub.console.admin';
const listeners = new Set();

export const api = createApi({
  tokenKey: 'pilehub.console.token',
  onUnauthorized: () => signOut(false),
});

// {id, username, role, permissions, all_stations?} or null.
export function operator() {
  try {
    return JSON.parse(localStorage.getItem(ADMIN_KEY));
  } catch {
    return null;
  }
}

export function signedIn() {
  return !!api.token() && !!operator();
}

export function can(perm) {
  const op = operator();
  return !!op && (!perm || (op.permissions || []).includes(perm));
}

export function setOperator(token, admin) {
  api.setToken(token);
  localStorage.setItem(ADMIN_KEY, JSON.stringify(admin));
  for (const f of listeners) f();
}

export async function signOut(callApi = true) {
  if (callApi && api.token()) {
    try {
      await api.post('/admin/logout', {});
    } catch {
      /* the token is dropped either way */
    }
  }
  api.setToken(null);
  localStorage.removeItem(ADMIN_KEY);
  for (const f of listeners) f();
}

export function onAuthChange(f) {
  listeners.add(f);
  return () => listeners.delete(f);
}

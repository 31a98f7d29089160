// The console's API client and the signed-in operator (token and permissions in localStorage).
import { createSession } from '../static/lib/api.js';

const session = createSession({
  tokenKey: 'pilehub.console.token',
  profileKey: 'pilehub.console.admin',
  logoutPath: '/admin/logout',
});

export const { api } = session;

// {id, username, role, permissions, all_stations?} or null.
export const operator = () => session.profile();
export const signedIn = () => session.signedIn();
export const setOperator = (token, admin) => session.signIn(token, admin);
export const signOut = (callApi = true) => session.signOut(callApi);
export const onAuthChange = (f) => session.onChange(f);

export function can(perm) {
  const op = operator();
  return !!op && (!perm || (op.permissions || []).includes(perm));
}

// The rider's API client and sign-in state (token in localStorage), for the H5 page.
import { createSession } from '../static/lib/api.js';

const session = createSession({ tokenKey: 'pilehub.h5.token', logoutPath: '/auth/logout' });

export const { api } = session;
export const signedIn = () => session.signedIn();
export const setRider = (token) => session.signIn(token);
export const signOut = (callApi = true) => session.signOut(callApi);
export const onAuthChange = (f) => session.onChange(f);

// The sandbox's confirm path is given absolute (/api/v1/...); the client wants it relative.
export function apiPath(path) {
  return String(path).replace(/^\/api\/v1/, '');
}

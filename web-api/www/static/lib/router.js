// Hash routing (#/devices/demo-e00001?tab=config): no server fallback needed, links work with the
// keyboard and the back button. Patterns are paths with :params.
import { useEffect, useState } from './preact.js';

export function currentPath() {
  const h = location.hash.replace(/^#/, '') || '/';
  const q = h.indexOf('?');
  return { path: q < 0 ? h : h.slice(0, q), query: new URLSearchParams(q < 0 ? '' : h.slice(q + 1)) };
}

export function navigate(path) {
  if (location.hash !== `#${path}`) location.hash = path;
}

// The params of `path` under `pattern` ('/devices/:id'), or null.
export function match(pattern, path) {
  const a = pattern.split('/');
  const b = path.split('/');
  if (a.length !== b.length) return null;
  const params = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith(':')) params[a[i].slice(1)] = decodeURIComponent(b[i]);
    else if (a[i] !== b[i]) return null;
  }
  return params;
}

// The current route, re-rendering on hash changes.
export function useRoute() {
  const [r, set] = useState(currentPath());
  useEffect(() => {
    const on = () => set(currentPath());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return r;
}

// The operator console: sign-in, the menu, the language switch and the hash router that loads
// each page module when it is first shown.
import { html, render, useEffect, useState } from '../static/lib/preact.js';
import { t, useLang } from '../static/lib/i18n.js';
import { match, navigate, useRoute } from '../static/lib/router.js';
import { ErrorBox, LangSwitch, Notices, setApi } from '../static/lib/ui.js';
import { api, can, onAuthChange, operator, setOperator, signedIn, signOut } from './api.js';
import { NAV } from './nav.js';
import { ROUTES } from './routes.js';
import { LoginPage } from './pages/login.js';

setApi(api);

function Menu({ path }) {
  const groups = [];
  for (const item of NAV.filter((n) => can(n.perm))) {
    let g = groups.find((x) => x.name === item.group);
    if (!g) groups.push((g = { name: item.group, items: [] }));
    g.items.push(item);
  }
  return html`<nav class="menu" aria-label=${t('nav.menu')}>
    ${groups.map(
      (g) => html`<div class="menu-group">
        <div class="menu-group-name">${t(`nav.groups.${g.name}`)}</div>
        <ul>${g.items.map(
          (n) => html`<li><a href=${`#${n.path}`} aria-current=${path === n.path || path.startsWith(`${n.path}/`) ? 'page' : undefined}>${t(n.label)}</a></li>`,
        )}</ul>
      </div>`,
    )}
  </nav>`;
}

// Loads the page module of a route once, then renders its component with the route's params.
const loaded = new Map();
function RoutedPage({ route, params, query }) {
  const [, force] = useState(0);
  const [error, setError] = useState(null);
  const key = route.pattern;
  useEffect(() => {
    if (loaded.has(key)) return;
    route
      .load()
      .then((m) => {
        loaded.set(key, m[route.page]);
        force((x) => x + 1);
      })
      .catch(setError);
  }, [key]);
  if (error) return html`<${ErrorBox} error=${error} />`;
  const Comp = loaded.get(key);
  return Comp ? html`<${Comp} params=${params} query=${query} />` : html`<p class="loading">${t('common.loading')}</p>`;
}

function Shell() {
  useLang();
  const { path, query } = useRoute();
  const [, setAuth] = useState(0);
  useEffect(() => onAuthChange(() => setAuth((x) => x + 1)), []);
  // Refresh the operator's permissions once per load (a role may have changed).
  useEffect(() => {
    if (signedIn())
      api.get('/admin/me').then(
        (me) => setOperator(api.token(), { ...operator(), ...(me.admin || me) }),
        () => {},
      );
  }, []);

  if (!signedIn()) {
    if (path !== '/login') navigate('/login');
    return html`<${Notices} /><${LoginPage} />`;
  }
  if (path === '/login' || path === '/') {
    navigate(NAV.find((n) => can(n.perm))?.path || '/dashboard');
    return null;
  }
  let found = null;
  for (const r of ROUTES) {
    const params = match(r.pattern, path);
    if (params) {
      found = { route: r, params };
      break;
    }
  }
  const op = operator();
  return html`<div class="shell">
    <a class="skip" href="#main">${t('nav.skip')}</a>
    <header class="topbar">
      <a class="brand" href="#/dashboard">PileHub <span>${t('nav.console')}</span></a>
      <div class="topbar-right">
        <${LangSwitch} />
        <span class="who" id="who">${op.username} · ${op.role}</span>
        <button type="button" id="logout" onClick=${() => signOut()}>${t('nav.logout')}</button>
      </div>
    </header>
    <${Menu} path=${path} />
    <main id="main" tabindex="-1">
      <${Notices} />
      ${found
        ? html`<${RoutedPage} key=${found.route.pattern} route=${found.route} params=${found.params} query=${query} />`
        : html`<section class="page"><h1>${t('nav.not_found')}</h1></section>`}
    </main>
  </div>`;
}

render(html`<${Shell} />`, document.getElementById('app'));

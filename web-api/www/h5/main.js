// The rider's H5 page: sign-in, the bottom tab bar (stations, scan, orders, me) and the hash router.
import { html, render, useEffect, useState } from '../static/lib/preact.js';
import { t, useLang } from '../static/lib/i18n.js';
import { match, navigate, useRoute } from '../static/lib/router.js';
import { Notices, setApi } from '../static/lib/ui.js';
import { api, onAuthChange, signedIn } from './api.js';
import { LoginPage } from './pages/login.js';
import { StationPage, StationsPage } from './pages/stations.js';
import { ScanPage } from './pages/scan.js';
import { SocketPage } from './pages/socket.js';
import { SessionPage } from './pages/session.js';
import { OrdersPage } from './pages/orders.js';
import { WalletPage } from './pages/wallet.js';
import { AgreementPage, CardsPage, ContactPage, MePage, PlatesPage } from './pages/me.js';

setApi(api);

// pattern, component, the tab it belongs to, whether it needs a signed-in rider.
const ROUTES = [
  { pattern: '/login', page: LoginPage, open: true },
  { pattern: '/agreement', page: AgreementPage, open: true },
  { pattern: '/stations', page: StationsPage, tab: 'stations' },
  { pattern: '/station/:id', page: StationPage, tab: 'stations' },
  { pattern: '/scan', page: ScanPage, tab: 'scan' },
  { pattern: '/socket/:code', page: SocketPage, tab: 'scan' },
  { pattern: '/session/:id', page: SessionPage, tab: 'orders' },
  { pattern: '/orders', page: OrdersPage, tab: 'orders' },
  { pattern: '/me', page: MePage, tab: 'me' },
  { pattern: '/wallet', page: WalletPage, tab: 'me' },
  { pattern: '/cards', page: CardsPage, tab: 'me' },
  { pattern: '/plates', page: PlatesPage, tab: 'me' },
  { pattern: '/contact', page: ContactPage, tab: 'me' },
];

const NEXT_KEY = 'pilehub.h5.next';

// The tab bar's icons: inline SVG (no icon font, nothing fetched), drawn in the link's colour.
const ICONS = {
  stations: html`<path d="M12 2.5a6.5 6.5 0 0 0-6.5 6.5c0 4.6 6.5 12.5 6.5 12.5s6.5-7.9 6.5-12.5A6.5 6.5 0 0 0 12 2.5z" /><circle cx="12" cy="9" r="2.3" />`,
  scan: html`<path d="M3 8V3h5M16 3h5v5M21 16v5h-5M8 21H3v-5M7 12h10" />`,
  orders: html`<path d="M5 3.5h14v17H5zM8.5 8h7M8.5 12h7M8.5 16h4" />`,
  me: html`<circle cx="12" cy="8" r="4" /><path d="M4 21c0-4.4 3.6-6.5 8-6.5s8 2.1 8 6.5" />`,
};

const TABS = [
  { key: 'stations', path: '/stations' },
  { key: 'scan', path: '/scan' },
  { key: 'orders', path: '/orders' },
  { key: 'me', path: '/me' },
];

function TabBar({ current }) {
  return html`<nav class="tabbar" aria-label=${t('h5.tabs.label')}>
    ${TABS.map(
      (x) => html`<a href=${`#${x.path}`} id=${`tab-${x.key}`} aria-current=${current === x.key ? 'page' : undefined}>
        <svg class="tab-icon" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor"
          stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">${ICONS[x.key]}</svg><span>${t(`h5.tabs.${x.key}`)}</span></a>`,
    )}
  </nav>`;
}

function findRoute(path) {
  for (const r of ROUTES) {
    const params = match(r.pattern, path);
    if (params) return { route: r, params };
  }
  return null;
}

function Shell() {
  useLang();
  const route = useRoute();
  const { query } = route;
  const [, setAuth] = useState(0);
  useEffect(() => onAuthChange(() => setAuth((x) => x + 1)), []);

  // Redirects render their target at once (the hash follows): signed out -> login, '/' and a
  // signed-in login -> stations.
  let path = route.path;
  let found = findRoute(path);
  // The page asked for before signing in (a scanned socket) opens after it.
  if (!signedIn() && !found?.route.open) {
    if (found) sessionStorage.setItem(NEXT_KEY, path);
    path = '/login';
  } else if (path === '/' || (signedIn() && path === '/login')) {
    path = sessionStorage.getItem(NEXT_KEY) || '/stations';
    sessionStorage.removeItem(NEXT_KEY);
  }
  if (path !== route.path) {
    navigate(path);
    found = findRoute(path);
  }
  const Page = found?.route.page;
  return html`<div class=${`h5 ${found?.route.tab ? 'with-tabs' : ''}`}>
    <${Notices} />
    <main id="main">
      ${Page
        ? html`<${Page} key=${path} params=${found.params} query=${query} />`
        : html`<section class="h5-page"><h1>${t('nav.not_found')}</h1></section>`}
    </main>
    ${signedIn() && found?.route.tab && html`<${TabBar} current=${found.route.tab} />`}
  </div>`;
}

render(html`<${Shell} />`, document.getElementById('app'));

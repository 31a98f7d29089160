// Nearby stations (the browser's position when granted, else the default point), nearest first
// with their free e-bike sockets and car guns; one station with its sockets, guns and prices.
import { html, useEffect, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtMoney } from '../../static/lib/fmt.js';
import { ErrorBox, Tabs, useFetch } from '../../static/lib/ui.js';
import { api } from '../api.js';
import { ActiveBanner, H5Page, StateBadge, TariffPrices } from '../ui.js';

// The demo station's point: used when the browser gives no position.
export const DEFAULT_POINT = { lat: 22.543096, lon: 114.057865 };

function position() {
  return new Promise((ok) => {
    if (!navigator.geolocation) return ok(null);
    navigator.geolocation.getCurrentPosition(
      (p) => ok({ lat: p.coords.latitude, lon: p.coords.longitude }),
      () => ok(null),
      { timeout: 5000, maximumAge: 60000 },
    );
  });
}

function distance(m) {
  if (m === null || m === undefined) return '—';
  return m < 1000 ? `${Math.round(m)} m` : `${(Math.round(m / 100) / 10).toFixed(1)} km`;
}

export function StationsPage() {
  const [where, setWhere] = useState(null); // {lat, lon, own}
  const [reply, setReply] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    let live = true;
    position().then((p) => live && setWhere(p ? { ...p, own: true } : { ...DEFAULT_POINT, own: false }));
    return () => {
      live = false;
    };
  }, []);
  useEffect(() => {
    if (!where) return;
    api
      .get('/stations/nearby', { lat: where.lat, lon: where.lon, radius_m: 50000 })
      .then((r) => (setReply(r), setError(null)), setError);
  }, [where]);

  const stations = reply?.stations || [];
  return html`<${H5Page} title=${t('h5.stations.title')} id="stations">
    <${ActiveBanner} />
    <p class="muted" id="where">${!where ? t('h5.stations.locating') : where.own ? t('h5.stations.here') : t('h5.stations.default_point')}</p>
    <${ErrorBox} error=${error} />
    ${reply && !stations.length && html`<p class="muted">${t('h5.stations.none')}</p>`}
    ${!reply && !error && html`<p class="loading">${t('common.loading')}</p>`}
    <ul class="station-list">
      ${stations.map(
        (s) => html`<li class="card station" data-station=${s.id}>
          <a class="station-link" href=${`#/station/${s.id}`}>
            <div class="station-top"><strong class="station-name">${s.name}</strong><span class="distance">${distance(s.distance_m)}</span></div>
            <div class="muted">${s.address}</div>
            <div class="free-counts">
              <span class="free ebike" data-kind="ebike">${t('h5.stations.ebike_free', { free: s.ebike?.free ?? 0, total: s.ebike?.total ?? 0 })}</span>
              <span class="free ev" data-kind="ev">${t('h5.stations.ev_free', { free: s.ev?.free ?? 0, total: s.ev?.total ?? 0 })}</span>
            </div>
            <div class="muted">${s.open_now ? t('h5.stations.open') : t('h5.stations.closed')} · ${s.open_hours || ''}</div>
          </a>
        </li>`,
      )}
    </ul>
  <//>`;
}

// Sockets (or guns) grouped by their device, each a link to its socket page.
function SocketGrid({ sockets }) {
  const groups = [];
  for (const s of sockets) {
    const dev = s.code.replace(/-\d+$/, '');
    let g = groups.find((x) => x.dev === dev);
    if (!g) groups.push((g = { dev, items: [] }));
    g.items.push(s);
  }
  return html`${groups.map(
    (g) => html`<div class="device-group">
      <h3>${g.dev}</h3>
      <ul class="socket-grid">
        ${g.items.map(
          (s) => html`<li><a class=${`socket-chip state-${s.state}`} href=${`#/socket/${encodeURIComponent(s.code)}`} data-socket=${s.code}>
            <span class="socket-n">${s.code.slice(g.dev.length + 1)}</span><${StateBadge} value=${s.state} /></a></li>`,
        )}
      </ul>
    </div>`,
  )}`;
}

// The station's parking spaces (cameras), each with its state and the gun that serves it.
function Spaces({ spaces }) {
  return html`<ul class="space-list">
    ${spaces.map(
      (sp) => html`<li class="space" data-space=${sp.id}>
        <strong>${sp.name || sp.id}</strong> <${StateBadge} value=${sp.state} />
        ${sp.ev_gun ? html` <a href=${`#/socket/${encodeURIComponent(sp.ev_gun)}`}>${t('h5.stations.space_gun', { gun: sp.ev_gun })}</a>` : null}
      </li>`,
    )}
  </ul>`;
}

export function StationPage({ params }) {
  const { data: st, error } = useFetch(`/stations/${encodeURIComponent(params.id)}`);
  const { data: sp } = useFetch(`/stations/${encodeURIComponent(params.id)}/spaces`);
  const [kind, setKind] = useState('socket');
  const sockets = (st?.sockets || []).filter((s) => s.kind === kind);
  const spaces = sp?.spaces || [];
  return html`<${H5Page} title=${st?.name || t('h5.stations.station')} back="/stations" id="station">
    <${ErrorBox} error=${error} />
    ${st &&
    html`<div class="card">
        <div class="muted">${st.address}</div>
        ${st.lat !== undefined && st.lon !== undefined
          ? html`<a class="button-link" id="navigate" href=${`geo:${st.lat},${st.lon}?q=${st.lat},${st.lon}(${encodeURIComponent(st.name)})`}>${t('h5.stations.navigate')}</a>`
          : null}
        <div class="muted">${st.open_now ? t('h5.stations.open') : t('h5.stations.closed')} · ${st.open_hours || ''}</div>
        <div class="free-counts">
          <span class="free ebike">${t('h5.stations.ebike_free', { free: st.ebike?.free ?? 0, total: st.ebike?.total ?? 0 })}</span>
          <span class="free ev">${t('h5.stations.ev_free', { free: st.ev?.free ?? 0, total: st.ev?.total ?? 0 })}</span>
        </div>
      </div>
      <section class="card">
        <h2>${t('h5.stations.prices')}${st.tariff?.name ? ` · ${st.tariff.name}` : ''}</h2>
        ${st.tariff ? html`<${TariffPrices} modes=${st.tariff.modes} tariff=${st.tariff} />` : html`<p class="muted">${t('h5.stations.no_tariff')}</p>`}
        ${st.prepaid_amounts_fen?.length
          ? html`<p class="muted">${t('h5.stations.prepaid')}: ${st.prepaid_amounts_fen.map((f) => fmtMoney(f)).join(' / ')}</p>`
          : null}
      </section>
      <section class="card">
        <${Tabs} value=${kind} onChange=${setKind} tabs=${[
          { value: 'socket', label: t('h5.stations.sockets') },
          { value: 'ev_gun', label: t('h5.stations.guns') },
          ...(spaces.length ? [{ value: 'space', label: t('h5.stations.spaces') }] : []),
        ]} />
        ${kind === 'space'
          ? html`<${Spaces} spaces=${spaces} />`
          : sockets.length
            ? html`<${SocketGrid} sockets=${sockets} />`
            : html`<p class="muted">${t('common.empty')}</p>`}
      </section>`}
  <//>`;
}

// What several H5 pages share: the page frame with its title and back link, and the prices of a
// tariff's modes as a rider reads them.
import { html, useEffect } from '../static/lib/preact.js';
import { Badge, useFetch } from '../static/lib/ui.js';
import { has, t } from '../static/lib/i18n.js';
import { fmtMoney, fmtPower } from '../static/lib/fmt.js';

export function H5Page({ title, back, id, children }) {
  useEffect(() => {
    document.title = `${title} · PileHub`;
  }, [title]);
  return html`<section class="h5-page" id=${id}>
    <header class="h5-head">
      ${back && html`<a class="h5-back" href=${`#${back}`} aria-label=${t('common.back')}>‹</a>`}
      <h1>${title}</h1>
    </header>
    ${children}
  </section>`;
}

// 0.0001 yuan (an energy price per kWh) as yuan text with 2 to 4 decimals: 3500 -> "0.35", 3550 -> "0.355".
export function e4Yuan(e4) {
  const n = Math.trunc(Number(e4) || 0);
  const frac = String(n % 10000).padStart(4, '0').replace(/0{1,2}$/, '');
  return `¥${Math.trunc(n / 10000)}.${frac.length < 2 ? frac.padEnd(2, '0') : frac}`;
}

// A word of the API (a mode, a stop reason, a ledger kind) in the current language, else as sent.
export function word(area, value) {
  if (value === null || value === undefined || value === '') return '—';
  return has(`h5.${area}.${value}`) ? t(`h5.${area}.${value}`) : String(value);
}

const PERIODS = ['sharp', 'peak', 'flat', 'valley'];

// One mode's prices, e.g. time: ¥1.00/h and its durations; power: one line per tier; energy: one
// line per period (electricity + service per kWh).
export function ModePrices({ m }) {
  if (m.mode === 'time') {
    return html`<ul class="prices">
      <li>${t('h5.prices.per_hour', { p: fmtMoney(m.fen_per_hour) })}</li>
      ${(m.options || []).map((o) => html`<li>${t('h5.prices.option', { min: o.minutes, p: fmtMoney(o.price_fen) })}</li>`)}
    </ul>`;
  }
  if (m.mode === 'power') {
    return html`<ul class="prices">
      ${(m.tiers || []).map((x) => html`<li>${t('h5.prices.tier', { w: fmtPower(x.up_to_w), p: fmtMoney(x.fen_per_hour) })}</li>`)}
    </ul>`;
  }
  if (m.mode === 'energy') {
    const periods = m.periods || {};
    return html`<ul class="prices">
      ${PERIODS.filter((p) => periods[p]).map(
        (p) => html`<li class=${p === m.current_period ? 'current' : ''}>${t('h5.prices.period', {
          name: word('periods', p),
          e: e4Yuan(periods[p].elec_e4),
          s: e4Yuan(periods[p].service_e4),
        })}${p === m.current_period ? ` · ${t('h5.prices.now')}` : ''}</li>`,
      )}
      ${m.service_fen_per_hour ? html`<li>${t('h5.prices.service_hour', { p: fmtMoney(m.service_fen_per_hour) })}</li>` : null}
    </ul>`;
  }
  return null;
}

// Every mode of a tariff with its prices, and the rules that apply to all of them.
export function TariffPrices({ modes, tariff }) {
  const tf = tariff || {};
  return html`<div class="tariff">
    ${(modes || []).map(
      (m) => html`<div class="tariff-mode"><h3>${word('modes', m.mode)}</h3><${ModePrices} m=${m} /></div>`,
    )}
    <ul class="prices muted">
      ${tf.free ? html`<li>${t('h5.prices.free')}</li>` : null}
      ${tf.free_minutes ? html`<li>${t('h5.prices.free_minutes', { n: tf.free_minutes })}</li>` : null}
      ${tf.min_start_balance_fen ? html`<li>${t('h5.prices.min_start', { p: fmtMoney(tf.min_start_balance_fen) })}</li>` : null}
      ${tf.cap?.max_fen ? html`<li>${t('h5.prices.cap_fen', { p: fmtMoney(tf.cap.max_fen) })}</li>` : null}
      ${tf.cap?.max_minutes ? html`<li>${t('h5.prices.cap_minutes', { n: tf.cap.max_minutes })}</li>` : null}
    </ul>
  </div>`;
}

// The rider's running sessions (GET /me active_sessions: their ids), each a link to its live view;
// nothing when there is none. `me` is a /me reply the page has already, else it is fetched.
export function ActiveBanner({ me }) {
  const own = useFetch(me ? '' : '/me');
  const ids = (me || own.data)?.active_sessions || [];
  if (!ids.length) return null;
  return html`<div class="card active-note" id="active-sessions">${t('h5.socket.active')}
    ${ids.map((a) => {
      const id = typeof a === 'object' ? a.id : a;
      return html` <a href=${`#/session/${encodeURIComponent(id)}`}>${typeof a === 'object' && a.socket ? a.socket : id}</a>`;
    })}</div>`;
}

// A socket's state as a badge: the shared states.* words, and the rider-only ones (unavailable).
export function StateBadge({ value }) {
  if (has(`states.${value}`) || !has(`h5.states.${value}`)) return html`<${Badge} value=${value} />`;
  return html`<span class=${`badge badge-${value}`}>${t(`h5.states.${value}`)}</span>`;
}

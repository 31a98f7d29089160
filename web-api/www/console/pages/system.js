// System health (GET /api/v1/health, issue 16): the checks the API makes on every call (the core database
// takes a write, the data directory's free space against pilehub-api.health.min_free_mb, the broker
// connection), each with its figure, refreshed every 5 s. The route answers 503 with the same body when a
// check fails, so the page reads the body whatever the status.
import { html, useEffect, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtTime } from '../../static/lib/fmt.js';
import { Card, ErrorBox, Page, Stat } from '../../static/lib/ui.js';

const REFRESH_MS = 5000;

// A verdict as a badge (green ok, red failing).
const Verdict = ({ ok }) =>
  html`<span class=${`badge ${ok ? 'badge-online' : 'badge-failed'}`} data-ok=${String(ok)}>${t(ok ? 'system.ok' : 'system.failing')}</span>`;

async function readHealth() {
  const res = await fetch('/api/v1/health', { cache: 'no-store' });
  const body = await res.json();
  return { status: res.status, body };
}

// One check: its verdict, its figures, and the reason when it failed.
function Check({ id, title, check, figures }) {
  return html`<${Card} title=${title} class=${`health-check health-${check.ok ? 'ok' : 'failing'}`}>
    <div class="stats" id=${id}>
      <${Stat} id=${`${id}-ok`} label=${t('system.verdict')} value=${html`<${Verdict} ok=${check.ok} />`} />
      ${figures.map(([key, label, value]) => html`<${Stat} id=${key} label=${label} value=${value} />`)}
    </div>
    ${check.error && html`<p class="health-error" id=${`${id}-error`}>${check.error}</p>`}
  </${Card}>`;
}

export function SystemPage() {
  const [state, setState] = useState({ health: null, error: null });
  useEffect(() => {
    let live = true;
    const load = async () => {
      try {
        const health = await readHealth();
        if (live) setState({ health, error: null });
      } catch (e) {
        if (live) setState((s) => ({ health: s.health, error: e }));
      }
    };
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);
  const h = state.health?.body;
  if (!h) return html`<${Page} title=${t('system.title')}>${state.error ? html`<${ErrorBox} error=${state.error} />` : t('common.loading')}</${Page}>`;
  const c = h.checks;
  return html`<${Page} title=${t('system.title')}>
    <${Card} title=${t('system.overall')}>
      <div class="stats" id="health-overall">
        <${Stat} id="health-status" label=${t('system.status')} value=${html`<${Verdict} ok=${h.ok} />`} />
        <${Stat} id="health-http" label=${t('system.http_status')} value=${String(state.health.status)} />
        <${Stat} id="health-version" label=${t('system.version')} value=${h.version} />
        <${Stat} id="health-time" label=${t('system.checked_at')} value=${fmtTime(h.time)} />
      </div>
      <p class="hint">${t('system.refresh_hint')}</p>
    </${Card}>
    <${Check} id="check-database" title=${t('system.database_write')} check=${c.database_write}
      figures=${[['db-write-ms', t('system.write_ms'), String(c.database_write.ms)]]} />
    <${Check} id="check-disk" title=${t('system.disk')} check=${c.disk}
      figures=${[
        ['disk-free-mb', t('system.free_mb'), c.disk.free_mb === undefined ? '—' : String(c.disk.free_mb)],
        ['disk-min-free-mb', t('system.min_free_mb'), String(c.disk.min_free_mb)],
      ]} />
    <${Check} id="check-broker" title=${t('system.broker')} check=${c.broker}
      figures=${[['broker-connected', t('system.connected'), c.broker.connected === undefined ? '—' : t(c.broker.connected ? 'common.yes' : 'common.no')]]} />
  </${Page}>`;
}

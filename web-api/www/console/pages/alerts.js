// Alerts (CONTRACT G, docs/api.md "Alerts"): the list, refreshed live, with filters (state, kind,
// station, device, opened from/to), acknowledge and resolve per row, and one alert's detail.
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtTime } from '../../static/lib/fmt.js';
import { usePoll } from '../../static/lib/poll.js';
import { Card, ErrorBox, Input, Link, ListView, Page, Select, act, time, useFetch, useList } from '../../static/lib/ui.js';
import { api, can } from '../api.js';
import { StationSelect, Word, useStations, wordOptions } from './ops-common.js';

const STATES = ['open', 'acknowledged', 'resolved'];
const KINDS = ['offline', 'fault', 'over_temp', 'lock_fault', 'stuck_session', 'payment_anomaly'];

// Acknowledge / resolve buttons of an alert in the states that allow them; `done` after a change.
function AlertActions({ alert: a, done }) {
  if (!can('devices.command')) return '—';
  const change = (what) => act(async () => {
    await api.post(`/admin/alerts/${a.id}/${what}`, {});
    done();
  }, t(`alerts.${what}_ok`, { id: a.id }));
  return html`<div class="row-actions">
    ${a.state === 'open' && html`<button type="button" data-action="ack" onClick=${() => change('ack')}>${t('alerts.ack')}</button>`}
    ${a.state !== 'resolved' && html`<button type="button" data-action="resolve" onClick=${() => change('resolve')}>${t('alerts.resolve')}</button>`}
  </div>`;
}

const stationName = (stations, id) => (id ? (stations.find((s) => s.id === id) || {}).name || String(id) : '—');

export function AlertsPage() {
  const [draft, setDraft] = useState({ state: '', kind: '', station_id: '', device: '', from: '', to: '' });
  const [applied, setApplied] = useState(draft);
  const set = (k) => (v) => setDraft((d) => ({ ...d, [k]: v }));
  const list = useList('/admin/alerts', 'alerts', applied, 20);
  const stations = useStations();
  usePoll(() => list.reload(), 3000, []);
  return html`<${Page} title=${t('alerts.title')}>
    <p class="muted">${t('alerts.live')}</p>
    <div id="alerts-list"><${ListView} list=${list} onSearch=${() => setApplied(draft)}
      filters=${html`
        <${Select} id="alerts-state" label=${t('common.state')} value=${draft.state} onValue=${set('state')} options=${wordOptions('alerts.st', STATES)} />
        <${Select} id="alerts-kind" label=${t('common.kind')} value=${draft.kind} onValue=${set('kind')} options=${wordOptions('alerts.kinds', KINDS)} />
        <${StationSelect} id="alerts-station" value=${draft.station_id} onValue=${set('station_id')} stations=${stations} />
        <${Input} id="alerts-device" label=${t('alerts.device')} value=${draft.device} onValue=${set('device')} />
        <${Input} type="date" label=${t('common.from')} value=${draft.from} onValue=${set('from')} />
        <${Input} type="date" label=${t('common.to')} value=${draft.to} onValue=${set('to')} />`}
      columns=${[
        { key: 'id', label: 'ID', render: (a) => html`<${Link} to=${`/alerts/${a.id}`}>${a.id}</${Link}>` },
        { key: 'kind', label: t('common.kind'), render: (a) => t(`alerts.kinds.${a.kind}`) },
        { key: 'subject', label: t('alerts.subject') },
        { key: 'severity', label: t('alerts.severity'), render: (a) => html`<${Word} dict="alerts.severities" value=${a.severity} />` },
        { key: 'state', label: t('common.state'), render: (a) => html`<${Word} dict="alerts.st" value=${a.state} />` },
        { key: 'detail', label: t('alerts.detail') },
        { key: 'station_id', label: t('common.station'), render: (a) => stationName(stations, a.station_id) },
        time('opened_at', t('alerts.opened_at')),
        { key: 'actions', label: t('common.actions'), render: (a) => html`<${AlertActions} alert=${a} done=${list.reload} />` },
      ]} /></div>
  </${Page}>`;
}

export function AlertDetailPage({ params }) {
  const one = useFetch(`/admin/alerts/${encodeURIComponent(params.id)}`);
  const stations = useStations();
  usePoll(() => one.reload(), 5000, []);
  const a = one.data;
  const row = (label, value) => html`<dt>${label}</dt><dd>${value ?? '—'}</dd>`;
  return html`<${Page} title=${t('alerts.one', { id: params.id })}
      actions=${html`<${Link} to="/alerts">${t('common.back')}</${Link}>`}>
    <${ErrorBox} error=${one.error} />
    ${a && html`<${Card}>
      <dl class="facts" id="alert-detail">
        ${row(t('common.kind'), t(`alerts.kinds.${a.kind}`))}
        ${row(t('common.state'), html`<${Word} dict="alerts.st" value=${a.state} />`)}
        ${row(t('alerts.severity'), html`<${Word} dict="alerts.severities" value=${a.severity} />`)}
        ${row(t('alerts.device'), a.device_id)}
        ${row(t('alerts.socket'), a.n || '—')}
        ${row(t('alerts.subject'), a.subject)}
        ${row(t('alerts.detail'), a.detail)}
        ${row(t('common.station'), stationName(stations, a.station_id))}
        ${row(t('alerts.opened_at'), fmtTime(a.opened_at))}
        ${row(t('alerts.last_seen'), fmtTime(a.last_seen))}
        ${row(t('alerts.acked_by'), a.acked_by)}
        ${row(t('alerts.acked_at'), fmtTime(a.acked_at))}
        ${row(t('alerts.resolved_by'), a.resolved_by)}
        ${row(t('alerts.resolved_at'), fmtTime(a.resolved_at))}
      </dl>
      <${AlertActions} alert=${a} done=${one.reload} />
    </${Card}>`}
  </${Page}>`;
}

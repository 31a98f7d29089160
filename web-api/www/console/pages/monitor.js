// Monitoring (seed 004): devices' online/offline log, fault records and the incidents sessiond
// recorded for an operator (GET /admin/presence-log, /admin/faults, /admin/incidents).
import { html } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtTime } from '../../static/lib/fmt.js';
import { Badge, Checkbox, Input, Link, ListView, Page, Select, useList } from '../../static/lib/ui.js';
import { DateRange, WordSelect, useFilters, useStationOptions } from './listkit.js';

const deviceLink = (r) => html`<${Link} to=${`/devices/${r.device_id}`}>${r.device_id}</${Link}>`;

// The filters every monitoring list has: station, device, from/to.
function CommonFilters({ f, st, id }) {
  return html`<${Select} id=${`${id}-station`} label=${t('common.station')} value=${f.draft.station_id} onValue=${f.set('station_id')} options=${st.options} />
    <${Input} id=${`${id}-device`} label=${t('monitor.device')} value=${f.draft.device} onValue=${f.set('device')} />
    <${DateRange} f=${f} idPrefix=${id} />`;
}

const trimmed = (q) => ({ ...q, device: (q.device || '').trim() });

export function PresencePage() {
  const f = useFilters({ station_id: '', device: '', from: '', to: '' });
  const st = useStationOptions();
  const list = useList('/admin/presence-log', 'entries', trimmed(f.query), 50);
  return html`<${Page} title=${t('monitor.presence_title')}>
    <${ListView} list=${list} onSearch=${() => f.apply()} filters=${html`<${CommonFilters} f=${f} st=${st} id="presence" />`}
      columns=${[
        { key: 'at', label: t('common.time'), render: (r) => fmtTime(r.at) },
        { key: 'device_id', label: t('monitor.device'), render: deviceLink },
        { key: 'online', label: t('common.state'), render: (r) => html`<${Badge} value=${r.online ? 'online' : 'offline'} />` },
        { key: 'reason', label: t('monitor.reason') },
        { key: 'boot', label: t('monitor.boot'), class: 'num' },
      ]} />
  </${Page}>`;
}

export function FaultsPage() {
  const f = useFilters({ station_id: '', device: '', open: false, from: '', to: '' });
  const st = useStationOptions();
  const q = trimmed(f.query);
  const list = useList('/admin/faults', 'faults', { ...q, open: q.open ? 'true' : '' }, 50);
  return html`<${Page} title=${t('monitor.faults_title')}>
    <${ListView} list=${list} onSearch=${() => f.apply()}
      filters=${html`<${CommonFilters} f=${f} st=${st} id="faults" />
        <${Checkbox} id="faults-open" label=${t('monitor.open_only')} checked=${f.draft.open} onValue=${f.set('open')} />`}
      columns=${[
        { key: 'opened_at', label: t('monitor.opened_at'), render: (r) => fmtTime(r.opened_at) },
        { key: 'device_id', label: t('monitor.device'), render: deviceLink },
        { key: 'n', label: t('monitor.n'), class: 'num' },
        { key: 'code', label: t('monitor.code') },
        { key: 'bit', label: t('monitor.bit'), class: 'num' },
        { key: 'cleared_at', label: t('monitor.cleared_at'), render: (r) => (r.cleared_at ? fmtTime(r.cleared_at) : html`<${Badge} value="open" />`) },
      ]} />
  </${Page}>`;
}

const INCIDENT_KINDS = ['suspend_timeout', 'record_overdue', 'record_clamped'];

export function IncidentsPage() {
  const f = useFilters({ kind: '', station_id: '', device: '', from: '', to: '' });
  const st = useStationOptions();
  const list = useList('/admin/incidents', 'incidents', trimmed(f.query), 50);
  return html`<${Page} title=${t('monitor.incidents_title')}>
    <${ListView} list=${list} onSearch=${() => f.apply()}
      filters=${html`<${WordSelect} id="incidents-kind" label=${t('common.kind')} value=${f.draft.kind} onValue=${f.set('kind')}
          words=${INCIDENT_KINDS} prefix="monitor.incident" />
        <${CommonFilters} f=${f} st=${st} id="incidents" />`}
      columns=${[
        { key: 'at', label: t('common.time'), render: (r) => fmtTime(r.at) },
        { key: 'kind', label: t('common.kind'), render: (r) => t(`monitor.incident.${r.kind}`) },
        { key: 'device_id', label: t('monitor.device'), render: deviceLink },
        { key: 'station_id', label: t('common.station'), render: (r) => st.name(r.station_id) },
        { key: 'session_id', label: t('monitor.session'), render: (r) => (r.session_id ? html`<${Link} to=${`/sessions/${r.session_id}`}>${r.session_id}</${Link}>` : '—') },
        { key: 'detail', label: t('monitor.detail') },
      ]} />
  </${Page}>`;
}

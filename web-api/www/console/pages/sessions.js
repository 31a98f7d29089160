// Charging orders (seed 003 §3.4): every session in the operator's scope with its filters, paging
// and export (GET /admin/sessions, /admin/exports/sessions). Live sessions refresh themselves.
import { html } from '../../static/lib/preact.js';
import { has, t } from '../../static/lib/i18n.js';
import { fmtDuration, fmtEnergy, fmtMoney, fmtTime } from '../../static/lib/fmt.js';
import { usePoll } from '../../static/lib/poll.js';
import { Badge, Input, Link, ListView, Page, Select, useList } from '../../static/lib/ui.js';
import { DateRange, WordSelect, useFilters, useStationOptions } from './listkit.js';

export const LIVE_STATES = ['starting', 'charging', 'stopping', 'suspended', 'settling'];
const STATES = ['active', ...LIVE_STATES, 'completed', 'failed'];
const EXPORT_STATES = ['active', 'completed', 'failed'];

// The text of a state word (the shared states.* first, then orders.state_*).
export const stateLabel = (s) => (s === 'active' ? t('orders.active') : t(`states.${s}`));

export function SessionsPage() {
  const f = useFilters({ state: '', kind: '', station_id: '', device_id: '', rider: '', from: '', to: '' });
  const st = useStationOptions();
  const q = f.query;
  const query = {
    state: q.state, kind: q.kind, station_id: q.station_id, device_id: q.device_id.trim(),
    account_id: q.account_id, phone: q.phone, from: q.from, to: q.to,
  };
  const list = useList('/admin/sessions', 'sessions', query, 20);
  // Live orders change every second: refresh the page of the list while one is shown.
  const live = list.rows.some((r) => LIVE_STATES.includes(r.state)) || q.state === 'active';
  usePoll(() => (live ? list.reload() : null), 3000, [live, list.reload]);

  // The rider filter takes an account id (up to 10 digits) or a phone number (the API's phone filter).
  function search() {
    const rider = f.draft.rider.trim();
    if (!rider) return f.apply({ account_id: '', phone: '' });
    if (/^\d{1,10}$/.test(rider)) return f.apply({ account_id: rider, phone: '' });
    return f.apply({ account_id: '', phone: rider });
  }

  const columns = [
    { key: 'id', label: t('orders.id'), render: (r) => html`<${Link} to=${`/sessions/${r.id}`}>${r.id}</${Link}>` },
    { key: 'state', label: t('common.state'), render: (r) => html`<${Badge} value=${r.state} />` },
    { key: 'kind', label: t('common.kind'), render: (r) => t(`common.${r.kind}`) },
    { key: 'station_id', label: t('common.station'), render: (r) => st.name(r.station_id) },
    { key: 'socket', label: t('orders.socket') },
    { key: 'phone', label: t('common.phone'), render: (r) => r.phone || (r.method === 'operator' ? t('orders.method_operator') : '—') },
    { key: 'method', label: t('orders.method'), render: (r) => t(`orders.method_${r.method}`) },
    { key: 'created_at', label: t('orders.created_at'), render: (r) => fmtTime(r.created_at) },
    { key: 'duration_s', label: t('orders.duration'), class: 'num', render: (r) => fmtDuration(r.duration_s) },
    { key: 'energy_wh', label: t('orders.energy'), class: 'num', render: (r) => fmtEnergy(r.energy_wh) },
    { key: 'cost_fen', label: t('orders.cost'), class: 'num', render: (r) => fmtMoney(r.cost_fen) },
    { key: 'stop_reason', label: t('orders.stop_reason'), render: (r) => (r.stop_reason ? stopReason(r.stop_reason) : '—') },
  ];
  const exportQuery = { ...query, state: EXPORT_STATES.includes(q.state) ? q.state : '' };
  delete exportQuery.device_id;
  delete exportQuery.account_id;
  return html`<${Page} title=${t('orders.title')}>
    <${ListView} list=${list} columns=${columns} onSearch=${search}
      exportPath="/admin/exports/sessions" exportQuery=${exportQuery} exportName="sessions"
      filters=${html`
        <${Select} id="sessions-state" label=${t('common.state')} value=${f.draft.state} onValue=${f.set('state')}
          options=${[{ value: '', label: t('common.all') }, ...STATES.map((s) => ({ value: s, label: stateLabel(s) }))]} />
        <${WordSelect} id="sessions-kind" label=${t('common.kind')} value=${f.draft.kind} onValue=${f.set('kind')}
          words=${['ebike', 'ev']} prefix="common" />
        <${Select} id="sessions-station" label=${t('common.station')} value=${f.draft.station_id} onValue=${f.set('station_id')} options=${st.options} />
        <${Input} id="sessions-device" label=${t('orders.device')} value=${f.draft.device_id} onValue=${f.set('device_id')} />
        <${Input} id="sessions-rider" label=${t('orders.rider')} value=${f.draft.rider} onValue=${f.set('rider')} />
        <${DateRange} f=${f} idPrefix="sessions" />`} />
  </${Page}>`;
}

// A stop reason's words (orders.reason_<word>), else the word itself.
export function stopReason(word) {
  return has(`orders.reason_${word}`) ? t(`orders.reason_${word}`) : word;
}

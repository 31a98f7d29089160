// Parking (CONTRACT E.3, docs/api.md "Parking"): the spaces live (state, lock, gun, camera presence,
// open lock fault) with raise/lower, snapshot and settings; captures; lock decisions; riders'
// plates (certify); the whitelist; reservations (end one); parking orders with their export.
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtDuration, fmtMoney, fmtTime } from '../../static/lib/fmt.js';
import { usePoll } from '../../static/lib/poll.js';
import {
  Checkbox, ErrorBox, Form, Input, ListView, Modal, Page, Select, Table, Tabs, act, errorText, money, time, useList,
} from '../../static/lib/ui.js';
import { api, can } from '../api.js';
import { StationSelect, Word, useStations, wordOptions } from './ops-common.js';

const TABS = ['spaces', 'captures', 'decisions', 'plates', 'whitelist', 'reservations', 'orders'];
const enc = encodeURIComponent;
const yesNo = (v) => (v === null || v === undefined ? '—' : v ? t('common.yes') : t('common.no'));

export function ParkingPage({ query }) {
  const [tab, setTab] = useState(TABS.includes(query.tab) ? query.tab : 'spaces');
  const [station, setStation] = useState('');
  const stations = useStations();
  const Body = { spaces: Spaces, captures: Captures, decisions: Decisions, plates: Plates, whitelist: Whitelist, reservations: Reservations, orders: Orders }[tab];
  return html`<${Page} title=${t('parking.title')}
      actions=${html`<${StationSelect} id="parking-station" value=${station} onValue=${setStation} stations=${stations} />`}>
    <${Tabs} value=${tab} onChange=${setTab} tabs=${TABS.map((v) => ({ value: v, label: t(`parking.tab.${v}`) }))} />
    <${Body} station=${station} stations=${stations} />
  </${Page}>`;
}

// ---- spaces ---------------------------------------------------------------------------------

function lockText(lock) {
  if (!lock) return t('parking.no_lock');
  const st = t(`parking.lock_st.${lock.st}`);
  return lock.alarm ? `${st} · ${t('parking.alarm')}` : st;
}

function Spaces({ station }) {
  const [spaces, setSpaces] = useState(null);
  const [error, setError] = useState(null);
  const [answer, setAnswer] = useState(null);
  const [editing, setEditing] = useState(null);
  const [busy, setBusy] = useState('');
  const load = async () => {
    try {
      const r = await api.get('/admin/spaces', { station_id: station });
      setSpaces(r.spaces);
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  usePoll(load, 3000, [station]);

  // A lock move or a snapshot: the camera's answer (or the refusal) is shown in #space-answer.
  const ask = async (sp, what, body) => {
    setBusy(`${sp.id}:${what}`);
    try {
      const r = await api.post(`/admin/spaces/${enc(sp.id)}/${what === 'snapshot' ? 'snapshot' : 'lock'}`, body);
      setAnswer({ space: sp.id, what, reply: r });
      load();
    } catch (e) {
      setAnswer({ space: sp.id, what, error: e });
    } finally {
      setBusy('');
    }
  };
  const command = can('devices.command');
  const columns = [
    { key: 'id', label: t('parking.space') },
    { key: 'name', label: t('common.name') },
    { key: 'state', label: t('common.state'), render: (s) => html`<${Word} dict="parking.space_state" value=${s.state} />` },
    { key: 'lock', label: t('parking.lock'), render: (s) => html`<span class="lock-st" data-st=${s.lock ? s.lock.st : ''}>${lockText(s.lock)}</span>` },
    { key: 'ev_gun', label: t('parking.ev_gun') },
    { key: 'camera_online', label: t('parking.camera'), render: (s) =>
      html`<${Word} dict="parking.camera_st" value=${s.camera_online === null ? 'unknown' : s.camera_online ? 'online' : 'offline'} />` },
    { key: 'fault', label: t('parking.fault'), render: (s) =>
      (s.fault ? html`<span class="badge badge-fault" title=${s.fault.detail}>${s.fault.cause} · ${fmtTime(s.fault.opened_at)}</span>` : '—') },
    { key: 'actions', label: t('common.actions'), render: (s) => html`<div class="row-actions">
      ${command && s.lock && html`
        <button type="button" data-action="raise" disabled=${!!busy} onClick=${() => ask(s, 'raise', { action: 'raise' })}>${t('parking.raise')}</button>
        <button type="button" data-action="lower" disabled=${!!busy} onClick=${() => ask(s, 'lower', { action: 'lower' })}>${t('parking.lower')}</button>`}
      ${command && html`<button type="button" data-action="snapshot" disabled=${!!busy} onClick=${() => ask(s, 'snapshot', {})}>${t('parking.snapshot')}</button>`}
      ${can('devices.write') && html`<button type="button" data-action="edit" onClick=${() => setEditing(s)}>${t('parking.settings')}</button>`}
    </div>` },
  ];
  return html`<div id="spaces">
    <${ErrorBox} error=${error} />
    ${busy && html`<p class="muted" id="space-busy">${t('parking.waiting')}</p>`}
    <${SpaceAnswer} answer=${answer} />
    <${Table} columns=${columns} rows=${spaces || []} empty=${spaces ? t('common.empty') : t('common.loading')} />
    <${Modal} open=${!!editing} title=${editing ? t('parking.settings_of', { id: editing.id }) : ''} onClose=${() => setEditing(null)}>
      ${editing && html`<${SpaceForm} space=${editing} onDone=${() => { setEditing(null); load(); }} />`}
    </${Modal}>
  </div>`;
}

function SpaceAnswer({ answer }) {
  if (!answer) return null;
  const { space, what, reply, error } = answer;
  const head = `${space} · ${t(`parking.${what}`)}: `;
  if (error) return html`<div class="error-box" id="space-answer" role="alert" data-ok="false">${head}${errorText(error)}</div>`;
  const body = what === 'snapshot'
    ? html`${t('parking.capture_taken', { id: reply.capture.id })} <a href=${reply.capture.image_url} target="_blank" rel="noopener noreferrer">${reply.capture.image_url}</a>`
    : html`${t('parking.lock_now')} <strong data-st=${reply.lock.st}>${lockText(reply.lock)}</strong>`;
  return html`<div class="answer-box" id="space-answer" role="status" data-ok="true">${head}${body}</div>`;
}

function SpaceForm({ space, onDone }) {
  const [name, setName] = useState(space.name || '');
  const [lockType, setLockType] = useState(space.lock_type);
  const [gun, setGun] = useState(space.ev_gun || '');
  const [enabled, setEnabled] = useState(space.enabled);
  const [side, setSide] = useState(space.side || '');
  const [error, setError] = useState(null);
  return html`<${Form} id="space-form" submitLabel=${t('common.save')} onSubmit=${async () => {
    const body = { name, lock_type: lockType, ev_gun: gun.trim() || null, enabled };
    if (side) body.side = side;
    try {
      await api.put(`/admin/spaces/${enc(space.id)}`, body);
      setError(null);
      onDone();
    } catch (e) {
      setError(e);
    }
  }}>
    <${ErrorBox} error=${error} />
    <${Input} label=${t('common.name')} value=${name} onValue=${setName} />
    <${Select} label=${t('parking.lock_type')} value=${lockType} onValue=${setLockType}
      options=${['ground_lock', 'none'].map((v) => ({ value: v, label: t(`parking.lock_types.${v}`) }))} />
    <${Input} label=${t('parking.ev_gun_hint')} value=${gun} onValue=${setGun} />
    <${Select} label=${t('parking.side')} value=${side} onValue=${setSide}
      options=${[{ value: '', label: '—' }, { value: 'left', label: t('parking.sides.left') }, { value: 'right', label: t('parking.sides.right') }]} />
    <${Checkbox} label=${t('common.enabled')} checked=${enabled} onValue=${setEnabled} />
  </${Form}>`;
}

// ---- records --------------------------------------------------------------------------------

// A list tab: filters typed into `draft`, applied on search.
function useFilters(initial) {
  const [draft, setDraft] = useState(initial);
  const [applied, setApplied] = useState(initial);
  const set = (k) => (v) => setDraft((d) => ({ ...d, [k]: v }));
  return { draft, applied, set, search: () => setApplied(draft) };
}

const imageLink = (r) => (r.image_url ? html`<a href=${r.image_url} target="_blank" rel="noopener noreferrer">${t('parking.image')}</a>` : '—');
const colorCol = () => ({ key: 'color', label: t('parking.color'), render: (r) => (r.color ? t(`parking.colors.${r.color}`) : '—') });

function Captures({ station }) {
  const f = useFilters({ device: '', space: '', plate: '', from: '', to: '' });
  const list = useList('/admin/captures', 'captures', { ...f.applied, station_id: station });
  return html`<${ListView} list=${list} onSearch=${f.search}
    filters=${html`
      <${Input} label=${t('parking.camera')} value=${f.draft.device} onValue=${f.set('device')} />
      <${Input} label=${t('parking.space')} value=${f.draft.space} onValue=${f.set('space')} />
      <${Input} label=${t('parking.plate')} value=${f.draft.plate} onValue=${f.set('plate')} />
      <${Input} type="date" label=${t('common.from')} value=${f.draft.from} onValue=${f.set('from')} />
      <${Input} type="date" label=${t('common.to')} value=${f.draft.to} onValue=${f.set('to')} />`}
    columns=${[
      time('at', t('common.time')),
      { key: 'plate', label: t('parking.plate') },
      colorCol(),
      // The API gives a capture's space as its number n at the camera: shown as the space id.
      { key: 'space', label: t('parking.space'), render: (r) => (r.space == null || r.space === '' ? '—'
        : String(r.space).startsWith(`${r.camera_id}-`) ? r.space : `${r.camera_id}-${r.space}`) },
      { key: 'camera_id', label: t('parking.camera') },
      { key: 'source', label: t('parking.source') },
      { key: 'direction', label: t('parking.direction'), render: (r) => (r.direction ? t(`parking.directions.${r.direction}`) : '—') },
      { key: 'image_url', label: t('parking.image'), render: imageLink },
    ]} />`;
}

function Decisions({ station }) {
  const f = useFilters({ allowed: '' });
  const list = useList('/admin/parking/decisions', 'decisions', { ...f.applied, station_id: station });
  return html`<${ListView} list=${list} onSearch=${f.search}
    filters=${html`<${Select} label=${t('parking.allowed')} value=${f.draft.allowed} onValue=${f.set('allowed')}
      options=${[{ value: '', label: t('common.all') }, { value: 'true', label: t('parking.lowered_for') }, { value: 'false', label: t('parking.refused') }]} />`}
    columns=${[
      time('at', t('common.time')),
      { key: 'space', label: t('parking.space') },
      { key: 'plate', label: t('parking.plate') },
      colorCol(),
      { key: 'allowed', label: t('parking.allowed'), render: (r) =>
        html`<span class=${`badge ${r.allowed ? 'badge-completed' : 'badge-failed'}`}>${r.allowed ? t('parking.lowered_for') : t('parking.refused')}</span>` },
      { key: 'reason', label: t('parking.reason') },
      { key: 'image_url', label: t('parking.image'), render: imageLink },
    ]} />`;
}

function Plates() {
  const f = useFilters({ certified: '' });
  const list = useList('/admin/plates', 'plates', f.applied);
  const certify = (p) => act(async () => {
    await api.post(`/admin/plates/${enc(p.plate)}/certify`, {});
    list.reload();
  }, t('parking.certified_ok', { plate: p.plate }));
  return html`<${ListView} list=${list} rowKey="plate" onSearch=${f.search}
    filters=${html`<${Select} label=${t('parking.certified')} value=${f.draft.certified} onValue=${f.set('certified')}
      options=${[{ value: '', label: t('common.all') }, { value: 'true', label: t('common.yes') }, { value: 'false', label: t('common.no') }]} />`}
    columns=${[
      { key: 'plate', label: t('parking.plate') },
      colorCol(),
      { key: 'phone', label: t('common.phone') },
      { key: 'certified', label: t('parking.certified'), render: (p) => yesNo(p.certified) },
      { key: 'certified_by', label: t('parking.certified_by') },
      time('created_at', t('parking.created_at')),
      { key: 'actions', label: t('common.actions'), render: (p) =>
        (!p.certified && can('users.write') ? html`<button type="button" data-action="certify" onClick=${() => certify(p)}>${t('parking.certify')}</button>` : '—') },
    ]} />`;
}

function Whitelist({ station, stations }) {
  const list = useList('/admin/whitelist', 'whitelist', { station_id: station });
  const [plate, setPlate] = useState('');
  const [note, setNote] = useState('');
  const [at, setAt] = useState('');
  const write = can('stations.write');
  const toggle = (e) => act(async () => {
    await api.put(`/admin/whitelist/${e.id}`, { enabled: !e.enabled });
    list.reload();
  }, t('common.saved'));
  const remove = (e) => {
    if (!confirm(t('parking.remove_confirm', { plate: e.plate }))) return;
    act(async () => {
      await api.del(`/admin/whitelist/${e.id}`);
      list.reload();
    }, t('common.done'));
  };
  const editNote = (e) => {
    const n = prompt(t('common.note'), e.note || '');
    if (n === null) return;
    act(async () => {
      await api.put(`/admin/whitelist/${e.id}`, { note: n });
      list.reload();
    }, t('common.saved'));
  };
  const stationName = (id) => (stations.find((s) => s.id === id) || {}).name || id;
  return html`<div>
    ${write && html`<${Form} id="whitelist-add" class="inline-form" submitLabel=${t('parking.add')} onSubmit=${() => act(async () => {
      await api.post('/admin/whitelist', { plate, note, station_id: Number(at || station || (stations[0] && stations[0].id)) });
      setPlate('');
      setNote('');
      list.reload();
    }, t('common.saved'))}>
      <${StationSelect} id="whitelist-station" value=${at || station} onValue=${setAt} stations=${stations} all=${false} />
      <${Input} id="whitelist-plate" label=${t('parking.plate')} value=${plate} onValue=${setPlate} required=${true} />
      <${Input} id="whitelist-note" label=${t('common.note')} value=${note} onValue=${setNote} />
    </${Form}>`}
    <${ListView} list=${list} columns=${[
      { key: 'plate', label: t('parking.plate') },
      { key: 'station_id', label: t('common.station'), render: (e) => stationName(e.station_id) },
      { key: 'note', label: t('common.note') },
      { key: 'enabled', label: t('common.enabled'), render: (e) => yesNo(e.enabled) },
      { key: 'created_by', label: t('parking.created_by') },
      time('created_at', t('parking.created_at')),
      { key: 'actions', label: t('common.actions'), render: (e) => (write ? html`<div class="row-actions">
        <button type="button" data-action="toggle" onClick=${() => toggle(e)}>${e.enabled ? t('parking.switch_off') : t('parking.switch_on')}</button>
        <button type="button" data-action="note" onClick=${() => editNote(e)}>${t('parking.edit_note')}</button>
        <button type="button" data-action="remove" onClick=${() => remove(e)}>${t('parking.remove')}</button></div>` : '—') },
    ]} />
  </div>`;
}

const RESERVATION_STATES = ['active', 'reserved', 'occupying', 'completed', 'cancelled', 'timed_out'];

function Reservations({ station }) {
  const f = useFilters({ state: '' });
  const list = useList('/admin/reservations', 'reservations', { ...f.applied, station_id: station });
  const end = (r) => {
    if (!confirm(t('parking.end_confirm', { id: r.id }))) return;
    act(async () => {
      await api.post(`/admin/reservations/${r.id}/end`, {});
      list.reload();
    }, t('common.done'));
  };
  return html`<${ListView} list=${list} onSearch=${f.search}
    filters=${html`<${Select} label=${t('common.state')} value=${f.draft.state} onValue=${f.set('state')}
      options=${wordOptions('parking.reservation_st', RESERVATION_STATES)} />`}
    columns=${[
      { key: 'id', label: 'ID' },
      { key: 'space', label: t('parking.space') },
      { key: 'plate', label: t('parking.plate') },
      { key: 'phone', label: t('common.phone') },
      { key: 'state', label: t('common.state'), render: (r) => html`<${Word} dict="parking.reservation_st" value=${r.state} />` },
      time('created_at', t('parking.created_at')),
      time('expires_at', t('parking.expires_at')),
      time('ended_at', t('parking.ended_at')),
      { key: 'ended_by', label: t('parking.ended_by') },
      { key: 'actions', label: t('common.actions'), render: (r) =>
        ((r.state === 'reserved' || r.state === 'occupying') && can('sessions.stop')
          ? html`<button type="button" data-action="end" onClick=${() => end(r)}>${t('parking.end')}</button>` : '—') },
    ]} />`;
}

const ORDER_STATES = ['open', 'paid', 'unpaid', 'free'];

function Orders({ station }) {
  const f = useFilters({ state: '', from: '', to: '' });
  const q = { ...f.applied, station_id: station };
  const list = useList('/admin/parking-orders', 'orders', q);
  return html`<${ListView} list=${list} onSearch=${f.search}
    exportPath=${can('exports.read') ? '/admin/exports/parking-orders' : null} exportQuery=${q} exportName="parking-orders"
    filters=${html`
      <${Select} label=${t('common.state')} value=${f.draft.state} onValue=${f.set('state')} options=${wordOptions('parking.order_st', ORDER_STATES)} />
      <${Input} type="date" label=${t('common.from')} value=${f.draft.from} onValue=${f.set('from')} />
      <${Input} type="date" label=${t('common.to')} value=${f.draft.to} onValue=${f.set('to')} />`}
    columns=${[
      { key: 'id', label: 'ID' },
      { key: 'space', label: t('parking.space') },
      { key: 'plate', label: t('parking.plate') },
      colorCol(),
      time('arrived_at', t('parking.arrived_at')),
      time('left_at', t('parking.left_at')),
      { key: 'duration_s', label: t('parking.duration'), class: 'num', render: (o) => fmtDuration(o.duration_s) },
      { key: 'charging_s', label: t('parking.charging'), class: 'num', render: (o) => fmtDuration(o.charging_s) },
      { key: 'billable_s', label: t('parking.billable'), class: 'num', render: (o) => fmtDuration(o.billable_s) },
      money('fee_fen', t('parking.fee')),
      { key: 'owed_fen', label: t('parking.owed'), class: 'num', render: (o) => (o.owed_fen ? fmtMoney(o.owed_fen) : '—') },
      { key: 'state', label: t('common.state'), render: (o) => html`<${Word} dict="parking.order_st" value=${o.state} />` },
    ]} />`;
}

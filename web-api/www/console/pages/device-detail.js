// One device (seed 004 设备详情 / 远程控制): presence and telemetry, its sockets or guns (enable,
// commission, QR codes), configuration desired beside reported, remote commands with the device's
// answer, its command log, its tariff, new credentials, relocation and retirement.
import { html, useEffect, useRef, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtEnergy, fmtPower, fmtTime } from '../../static/lib/fmt.js';
import { usePoll } from '../../static/lib/poll.js';
import { navigate } from '../../static/lib/router.js';
import { api, can } from '../api.js';
import {
  Badge, Card, ErrorBox, Form, Input, Link, Modal, Page, Pager, Select, Table, act, errorText, notify, time, useFetch, useList,
} from '../../static/lib/ui.js';
import { Credentials, LIVE_MS, kindText, lifecycleText, portState, stationOptions, useKeyedPoll, useStations } from './devices.js';

// The remote commands the API relays per kind, with the members of their data.
export const COMMANDS = {
  ebike_pile: { query_port: ['n'], query_device: [], reboot: [], set_time: [] },
  ev_charger: {
    reset: ['type'],
    unlock: ['n'],
    set_availability: ['n', 'operative'],
    set_tariff: ['elec_e4', 'service_e4', 'text'],
    set_time: [],
  },
  camera: { reboot: [], set_time: [] },
};
const TEXT_MEMBERS = new Set(['text', 'type']);

function useDevice(id) {
  const gone = useRef(false); // deleted: no more reads (they would be 404)
  const last = useRef(null);
  const r = useKeyedPoll(id, async () =>
    gone.current ? last.current : (last.current = await api.get(`/admin/devices/${encodeURIComponent(id)}`)),
  );
  return { dev: r.data, error: r.error, reload: r.reload, forget: (yes = true) => (gone.current = yes) };
}

export function DeviceDetailPage({ params }) {
  const id = params.id;
  const { dev, error, reload, forget } = useDevice(id);
  const stations = useStations();
  const [modal, setModal] = useState('');
  const [cred, setCred] = useState(null);
  const base = `/admin/devices/${encodeURIComponent(id)}`;
  const actions = dev && html`
    <button type="button" onClick=${() => act(() => api.download('/admin/qr-sheet', { device_id: id }, `${id}-qr.svg`))}
      id="qr-sheet">${t('devices.qr_sheet')}</button>
    ${can('devices.write') && dev.lifecycle !== 'retired' && html`
      <button type="button" id="device-relocate" onClick=${() => setModal('relocate')}>${t('devices.relocate')}</button>
      <button type="button" id="device-credentials" onClick=${() => setModal('credentials')}>${t('devices.new_credentials')}</button>
      <button type="button" id="device-retire" class="danger" onClick=${() => setModal('retire')}>${t('devices.retire')}</button>`}
    ${can('devices.write') && html`<button type="button" id="device-delete" class="danger" onClick=${() => setModal('delete')}>${t('devices.delete')}</button>`}`;
  return html`<${Page} title=${t('devices.detail_title', { id })} actions=${actions}>
    <p><${Link} to="/devices">← ${t('devices.title')}</${Link}></p>
    <${ErrorBox} error=${error} />
    ${dev && html`
      <div class="grid-2">
        <${Info} dev=${dev} stations=${stations} />
        <${TariffCard} id=${id} />
      </div>
      <${PortsCard} dev=${dev} base=${base} reload=${reload} />
      ${dev.kind !== 'camera' && html`<${ConfigCard} base=${base} kind=${dev.kind} />`}
      <${CommandCard} dev=${dev} base=${base} />
      <${CommandLog} base=${base} />
      <${RelocateModal} open=${modal === 'relocate'} dev=${dev} stations=${stations} base=${base}
        onClose=${() => setModal('')} onDone=${reload} />
      <${ConfirmModal} open=${modal === 'credentials'} title=${t('devices.new_credentials')} text=${t('devices.credentials_warn')}
        onClose=${() => setModal('')} onConfirm=${async () => {
          const r = await act(() => api.post(`${base}/credentials`, {}));
          setModal('');
          if (r) setCred(r);
        }} />
      <${ConfirmModal} open=${modal === 'retire'} title=${t('devices.retire')} text=${t('devices.retire_warn', { id })}
        onClose=${() => setModal('')} onConfirm=${async () => {
          await act(() => api.post(`${base}/retire`, {}), t('devices.retired'));
          setModal('');
          reload();
        }} />
      <${ConfirmModal} open=${modal === 'delete'} title=${t('devices.delete')} text=${t('devices.delete_warn', { id })}
        onClose=${() => setModal('')} onConfirm=${async () => {
          forget();
          const ok = await act(() => api.del(base), t('devices.deleted'));
          setModal('');
          if (ok) navigate('/devices');
          else forget(false);
        }} />
      <${Modal} open=${!!cred} title=${t('devices.new_credentials')} onClose=${() => setCred(null)}>
        ${cred && html`<${Credentials} r=${cred} />`}
      </${Modal}>`}
  </${Page}>`;
}

function Info({ dev, stations }) {
  const p = dev.presence || {};
  const s = dev.state || {};
  const rows = [
    ['common.kind', kindText(dev.kind)],
    ['devices.protocol', dev.protocol],
    ['common.name', dev.name || '—'],
    ['devices.model', dev.model || '—'],
    ['common.station', stations.name(dev.station_id)],
    ['devices.lifecycle', lifecycleText(dev.lifecycle)],
    ['devices.online', html`<${Badge} value=${p.online ? 'online' : 'offline'} />`],
    ['devices.firmware', p.fw || '—'],
    ['devices.since', fmtTime(p.since)],
    ['devices.last_seen', fmtTime(p.last_seen)],
    ['devices.temp', s.temp_c === undefined || s.temp_c === null ? '—' : `${s.temp_c} °C`],
    ['devices.total_power', fmtPower(s.total_power_w)],
    ['devices.rssi', s.rssi_dbm === undefined ? '—' : `${s.rssi_dbm} dBm`],
    ['devices.factory_id', dev.factory_id || '—'],
    ['devices.produced_on', dev.produced_on || '—'],
    ['devices.installed_at', fmtTime(dev.installed_at)],
    ['devices.open_faults', String((dev.open_faults || []).length)],
  ];
  return html`<${Card} title=${t('devices.info')}>
    <dl class="kv" id="device-info">${rows.map(([k, v]) => html`<dt>${t(k)}</dt><dd>${v}</dd>`)}</dl>
  </${Card}>`;
}

function TariffCard({ id }) {
  const r = useFetch(can('tariffs.read') ? `/admin/devices/${encodeURIComponent(id)}/tariff` : '', {});
  const d = r.data;
  const v = d && d.in_force;
  return html`<${Card} title=${t('devices.tariff')}>
    <${ErrorBox} error=${r.error} />
    ${d && html`<dl class="kv" id="device-tariff">
      <dt>${t('devices.tariff_level')}</dt><dd>${t(`devices.level.${d.level}`)}</dd>
      <dt>${t('devices.tariff_name')}</dt><dd>${v ? v.tariff.name : '—'}</dd>
      <dt>${t('devices.tariff_version')}</dt><dd>${v ? v.version : '—'}</dd>
      <dt>${t('devices.effective_from')}</dt><dd>${v ? fmtTime(v.effective_from) : '—'}</dd>
      <dt>${t('devices.own_versions')}</dt><dd>${d.versions.length}</dd>
    </dl>`}
  </${Card}>`;
}

function PortsCard({ dev, base, reload }) {
  const [minutes, setMinutes] = useState('5');
  const [qr, setQr] = useState(null);
  const guns = {};
  for (const g of dev.guns || []) guns[g.n] = g;
  const ev = dev.kind === 'ev_charger';
  const cmd = can('devices.command') && dev.kind !== 'camera';
  const mins = () => Math.max(1, Math.min(720, Number(minutes) || 1));
  const start = (n) => act(() => api.post(`${base}/ports/${n}/start`, { minutes: mins() }), t('devices.started', { n })).then(reload);
  const stop = (n) => act(() => api.post(`${base}/ports/${n}/stop`, {}), t('devices.stopped', { n })).then(reload);
  const toggle = (p) =>
    act(() => api.put(`${base}/ports/${p.n}`, { enabled: !p.enabled }), p.enabled ? t('devices.port_disabled') : t('devices.port_enabled')).then(reload);
  const startAll = async () => {
    const r = await act(() => api.post(`${base}/ports/start-all`, { minutes: mins() }));
    if (r) notify(t('devices.started_all', { n: r.started, total: r.ports.length }));
    reload();
  };
  const showQr = async (code) => {
    const url = await act(() => api.objectUrl(`/admin/sockets/${encodeURIComponent(code)}/qr`, {}));
    if (url) setQr({ code, url });
  };
  useEffect(() => () => qr && URL.revokeObjectURL(qr.url), [qr]);
  const columns = [
    { key: 'n', label: '#', class: 'num' },
    { key: 'code', label: t('devices.code') },
    { key: 'state', label: t('common.state'), render: (p) => html`<span class=${`port-badge port-${portState(p)}`} data-state=${portState(p)}>${t(`devices.port_state.${portState(p)}`)}</span>` },
    { key: 'reported_state', label: t('devices.reported_state'), render: (p) => (p.reported_state ? t(`devices.port_state.${p.reported_state}`) : '—') },
    ...(ev
      ? [
          { key: 'conn', label: t('devices.connector'), render: (p) => (guns[p.n] && guns[p.n].connector_type ? t(`devices.conn.${guns[p.n].connector_type}`) : '—') },
          { key: 'rated', label: t('devices.rated_w'), class: 'num', render: (p) => fmtPower(guns[p.n] && guns[p.n].rated_power_w) },
        ]
      : []),
    { key: 'power_w', label: t('devices.power'), class: 'num', render: (p) => fmtPower(p.power_w || 0) },
    { key: 'session_energy_wh', label: t('devices.energy'), class: 'num', render: (p) => fmtEnergy(p.session_energy_wh || 0) },
    { key: 'sid', label: t('devices.session'), render: (p) => (p.sid ? html`<a href=${`#/sessions/${encodeURIComponent(p.sid)}`}>${p.sid}</a>` : '—') },
    { key: 'enabled', label: t('common.enabled'), render: (p) => (p.enabled ? t('common.yes') : t('common.no')) },
    {
      key: 'actions',
      label: t('common.actions'),
      render: (p) => html`<div class="row-actions">
        ${can('devices.write') && html`<button type="button" data-act="toggle" onClick=${() => toggle(p)}>
          ${p.enabled ? t('devices.disable') : t('devices.enable')}</button>`}
        ${cmd && html`<button type="button" data-act="start" onClick=${() => start(p.n)}>${t('devices.start')}</button>
          <button type="button" data-act="stop" onClick=${() => stop(p.n)}>${t('devices.stop')}</button>`}
        ${dev.kind !== 'camera' && html`<button type="button" data-act="qr" onClick=${() => showQr(p.code)}>${t('devices.qr')}</button>`}
      </div>`,
    },
  ];
  return html`<${Card} title=${ev ? t('devices.guns') : dev.kind === 'camera' ? t('devices.spaces') : t('devices.ports')}>
    ${cmd && html`<div class="filters commission">
      <${Input} id="commission-minutes" type="number" min="1" max="720" label=${t('devices.minutes')} value=${minutes} onValue=${setMinutes} />
      <div class="field field-button"><button type="button" id="start-all" onClick=${startAll}>${t('devices.start_all')}</button></div>
      <p class="muted">${t('devices.commission_hint')}</p>
    </div>`}
    <${Table} columns=${columns} rows=${dev.sockets || []} rowKey="code" />
    <${Modal} open=${!!qr} title=${qr ? qr.code : ''} onClose=${() => setQr(null)}>
      ${qr && html`<img class="qr-img" id="qr-img" src=${qr.url} alt=${t('devices.qr_of', { code: qr.code })} />`}
    </${Modal}>
  </${Card}>`;
}

const show = (v) => (v === undefined || v === null ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));

function ConfigCard({ base, kind }) {
  const r = useFetch(`${base}/config`, {});
  const [edit, setEdit] = useState({});
  const d = r.data;
  const desired = (d && d.desired) || {};
  const reported = (d && d.reported && d.reported.values) || {};
  const keys = [...new Set([...Object.keys(desired), ...Object.keys(reported)])].filter((k) => k !== 'version');
  const editable = keys.filter((k) => typeof (desired[k] ?? reported[k]) === 'number');
  usePoll(() => (d && !d.in_sync ? r.reload() : null), LIVE_MS, [d && d.in_sync]);
  const save = async () => {
    const body = {};
    for (const [k, v] of Object.entries(edit)) if (v !== '' && Number(v) !== desired[k]) body[k] = Number(v);
    if (!Object.keys(body).length) return;
    const ok = await act(() => api.put(`${base}/config`, body), t('common.saved'));
    if (ok) {
      setEdit({});
      r.reload();
    }
  };
  return html`<${Card} title=${t('devices.config')}>
    <${ErrorBox} error=${r.error} />
    ${d && html`<p id="config-sync">${t('devices.config_version', { v: desired.version ?? '—', r: (d.reported && d.reported.version) ?? '—' })}
        <span class=${d.in_sync ? 'badge badge-online' : 'badge badge-pending'} id="config-in-sync">${d.in_sync ? t('devices.in_sync') : t('devices.not_in_sync')}</span></p>
      ${!keys.length && html`<p class="muted">${t('devices.config_none')}</p>`}
      <${Table} rowKey="key" rows=${keys.map((k) => ({ key: k }))} columns=${[
        { key: 'key', label: t('devices.config_key'), render: (x) => html`<code>${x.key}</code>` },
        { key: 'desired', label: t('devices.desired'), class: 'num', render: (x) => html`<span data-desired=${x.key}>${show(desired[x.key])}</span>` },
        { key: 'reported', label: t('devices.reported'), class: 'num', render: (x) => html`<span data-reported=${x.key}>${show(reported[x.key])}</span>` },
      ]} />
      ${can('devices.config') && html`<details class="config-edit" open=${!keys.length}>
        <summary>${t('devices.config_edit')}</summary>
        <${Form} id="config-form" submitLabel=${t('common.save')} onSubmit=${save}>
          <div class="filters">
            ${(editable.length ? editable : DEFAULT_KEYS[kind] || []).map(
              (k) => html`<${Input} key=${k} id=${`cfg-${k}`} type="number" label=${k} value=${edit[k] ?? desired[k] ?? ''}
                onValue=${(v) => setEdit({ ...edit, [k]: v })} />`,
            )}
          </div>
        </${Form}>
      </details>`}`}
  </${Card}>`;
}

// The keys offered when a device has no stored configuration yet (docs/api.md, configuration).
const DEFAULT_KEYS = {
  ebike_pile: ['full_stop_w', 'full_wait_s', 'no_load_wait_s', 'socket_overload_w', 'device_overload_w', 'temp_warn_c', 'temp_stop_c', 'tele_period_s', 'idle_tele_period_s'],
  ev_charger: ['ev_full_wait_s', 'ev_no_load_wait_s', 'temp_warn_c', 'temp_stop_c', 'tele_period_s', 'idle_tele_period_s'],
};

function CommandCard({ dev, base }) {
  const names = Object.keys(COMMANDS[dev.kind] || {});
  const [name, setName] = useState(names[0] || '');
  const [data, setData] = useState({});
  const [answer, setAnswer] = useState(null);
  const members = (COMMANDS[dev.kind] || {})[name] || [];
  if (!can('devices.command') || !names.length) return null;
  const send = async () => {
    const body = {};
    for (const m of members) {
      const v = data[m];
      if (v === undefined || v === '') continue;
      body[m] = m === 'operative' ? v === 'true' : TEXT_MEMBERS.has(m) ? v : Number(v);
    }
    setAnswer(null);
    try {
      setAnswer({ ok: true, r: await api.post(`${base}/commands/${name}`, { data: body }) });
    } catch (e) {
      setAnswer({ ok: false, text: errorText(e) });
    }
  };
  const field = (m) => {
    if (m === 'operative')
      return html`<${Select} key="operative" id="cmd-operative" label=${t('devices.cmd_member.operative')} value=${data.operative ?? 'true'}
        onValue=${(v) => setData({ ...data, operative: v })} options=${[{ value: 'true', label: t('common.yes') }, { value: 'false', label: t('common.no') }]} />`;
    if (m === 'type')
      return html`<${Select} key="type" id="cmd-type" label=${t('devices.cmd_member.type')} value=${data.type ?? 'soft'}
        onValue=${(v) => setData({ ...data, type: v })} options=${['soft', 'hard']} />`;
    return html`<${Input} key=${m} id=${`cmd-${m}`} type=${TEXT_MEMBERS.has(m) ? 'text' : 'number'} label=${t(`devices.cmd_member.${m}`)}
      value=${data[m] ?? ''} onValue=${(v) => setData({ ...data, [m]: v })} />`;
  };
  return html`<${Card} title=${t('devices.commands')}>
    <${Form} id="command-form" submitLabel=${t('devices.send')} onSubmit=${send}>
      <div class="filters">
        <${Select} id="cmd-name" label=${t('devices.command')} value=${name} onValue=${(v) => {
          setName(v);
          setData(v === 'reset' ? { type: 'soft' } : v === 'set_availability' ? { operative: 'true' } : {});
        }} options=${names.map((n) => ({ value: n, label: `${t(`devices.cmd.${n}`)} (${n})` }))} />
        ${members.map(field)}
      </div>
    </${Form}>
    ${answer && html`<div id="command-answer" class=${answer.ok ? 'answer-ok' : 'answer-error'} role="status">
      ${answer.ok
        ? html`<p>${t('devices.answer')}: <${Outcome} value=${answer.r.status} /></p><pre>${JSON.stringify(answer.r.reply, null, 2)}</pre>`
        : html`<p>${answer.text}</p>`}
    </div>`}
  </${Card}>`;
}

// A command's outcome (or a reply's status) as a coloured word.
const OUTCOME_CLASS = { ok: 'online', pending: 'pending', busy: 'pending', superseded: 'pending' };
export function Outcome({ value }) {
  if (!value) return '—';
  return html`<span class=${`badge badge-${OUTCOME_CLASS[value] || 'failed'}`} data-outcome=${value}>${t(`devices.outcomes.${value}`)}</span>`;
}

export const commandColumns = (withDevice) => [
  time('sent_at', t('devices.sent_at')),
  ...(withDevice ? [{ key: 'device_id', label: t('devices.id'), render: (c) => html`<${Link} to=${`/devices/${encodeURIComponent(c.device_id)}`}>${c.device_id}</${Link}>` }] : []),
  { key: 'name', label: t('devices.command'), render: (c) => html`<code>${c.name}</code>` },
  { key: 'n', label: '#', class: 'num' },
  { key: 'requested_by', label: t('devices.requested_by') },
  { key: 'outcome', label: t('devices.outcome'), render: (c) => html`<${Outcome} value=${c.outcome} />` },
  { key: 'latency_ms', label: t('devices.latency'), class: 'num', render: (c) => (c.latency_ms === null ? '—' : `${c.latency_ms} ms`) },
  { key: 'session_id', label: t('devices.session'), render: (c) => (c.session_id ? html`<a href=${`#/sessions/${encodeURIComponent(c.session_id)}`}>${c.session_id}</a>` : '—') },
  { key: 'reply', label: t('devices.reply'), render: (c) => (c.reply && (c.reply.code || c.reply.msg) ? `${c.reply.code || ''} ${c.reply.msg || ''}` : c.reply_status || '—') },
];

function CommandLog({ base }) {
  const list = useList(`${base}/commands`, 'commands', {}, 10);
  usePoll(list.reload, 5000, [base, list.offset]);
  return html`<${Card} title=${t('devices.command_log')}>
    <${ErrorBox} error=${list.error} />
    <div id="device-command-log"><${Table} columns=${commandColumns(false)} rows=${list.rows} rowKey="rid" /></div>
    <${Pager} offset=${list.offset} limit=${list.limit} count=${list.rows.length} onOffset=${list.setOffset} />
  </${Card}>`;
}

function RelocateModal({ open, dev, stations, base, onClose, onDone }) {
  const [station, setStation] = useState(dev.station_id ? String(dev.station_id) : '');
  return html`<${Modal} open=${open} title=${t('devices.relocate')} onClose=${onClose}>
    <${Form} id="relocate-form" submitLabel=${t('common.save')} onSubmit=${async () => {
      if (!station) return;
      const ok = await act(() => api.put(base, { station_id: Number(station) }), t('common.saved'));
      if (ok) {
        onClose();
        onDone();
      }
    }}>
      <${Select} id="relocate-station" label=${t('common.station')} value=${station} onValue=${setStation}
        options=${stationOptions(stations, { value: '', label: t('devices.choose') })} />
    </${Form}>
  </${Modal}>`;
}

export function ConfirmModal({ open, title, text, onClose, onConfirm }) {
  return html`<${Modal} open=${open} title=${title} onClose=${onClose}>
    <p>${text}</p>
    <div class="form-actions">
      <button type="button" class="danger" data-act="confirm" onClick=${onConfirm}>${t('common.confirm')}</button>
      <button type="button" onClick=${onClose}>${t('common.cancel')}</button>
    </div>
  </${Modal}>`;
}

// Devices (seed 004 设备管理): the list with its filters and a live grid of every socket and gun,
// registering a device (its credentials shown once), and the stock with bulk assignment to a station.
// GET /admin/devices?ports=true gives every device with its sockets' live state in one request,
// polled every LIVE_MS; it has no paging, search or online filter: the page filters and pages it.
import { html, useRef, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtPower } from '../../static/lib/fmt.js';
import { api, can } from '../api.js';
import { usePoll } from '../../static/lib/poll.js';
import {
  Badge, Card, ErrorBox, Form, Input, Link, Modal, Page, Pager, Select, Table, errorText, notify, useFetch,
} from '../../static/lib/ui.js';

export const KINDS = ['ebike_pile', 'ev_charger', 'camera'];
export const CONNECTORS = ['gbt_dc', 'gbt_ac', 'ccs2', 'type2'];
const PAGE_SIZE = 20;
export const LIVE_MS = 2500;

export const kindText = (k) => t(`devices.kind_${k}`);
export const lifecycleText = (l) => t(`devices.lc_${l}`);

// The stations the operator sees, as select options (first: `first`, e.g. all or stock).
export function useStations() {
  const r = useFetch('/admin/stations', { limit: 500 });
  const list = (r.data && r.data.stations) || [];
  return { list, name: (id) => (list.find((s) => s.id === id) || {}).name || (id ? `#${id}` : '—') };
}
export const stationOptions = (stations, first) => [
  ...(first ? [first] : []),
  ...stations.list.map((s) => ({ value: String(s.id), label: s.name })),
];

// What a socket or gun cell shows: busy sockets by what the pile reports (charging, starting, ...).
export function portState(p) {
  if (!p.state) return 'unknown';
  if (p.state === 'busy' && p.reported_state && p.reported_state !== 'idle') return p.reported_state;
  return p.state;
}

// One socket or gun: state colour, power, the session as a link.
export function PortCell({ p }) {
  const st = portState(p);
  return html`<li class=${`port-cell port-${st}`} data-code=${p.code} data-state=${st}
      title=${`${p.code}: ${t(`devices.port_state.${st}`)}`}>
    <span class="port-n">${p.n}</span>
    <span class="port-state">${t(`devices.port_state.${st}`)}</span>
    <span class="port-power">${p.power_w ? fmtPower(p.power_w) : ''}</span>
    ${p.sid && html`<a class="port-sid" href=${`#/sessions/${encodeURIComponent(p.sid)}`}
      aria-label=${t('devices.session_of', { code: p.code })}>${p.sid.slice(-6)}</a>`}
  </li>`;
}

export const freeBusy = (d) => {
  if (!d || !d.sockets || d.kind === 'camera') return '—';
  const free = d.sockets.filter((p) => p.state === 'free').length;
  const busy = d.sockets.filter((p) => p.state === 'busy').length;
  return `${free} / ${busy}`;
};

// Polls `load(key)` for the current `key` only: an answer that comes back after the key changed
// (the filters or the page moved on meanwhile) is dropped instead of overwriting the newer one.
export function useKeyedPoll(key, load) {
  const [state, setState] = useState({ key: null, data: null, error: null });
  const current = useRef(key);
  current.current = key;
  const run = async () => {
    try {
      const data = await load();
      if (current.current === key) setState({ key, data, error: null });
    } catch (e) {
      if (current.current === key) setState((s) => ({ key, data: s.key === key ? s.data : null, error: e }));
    }
  };
  usePoll(run, LIVE_MS, [key]);
  const mine = state.key === key;
  return { data: mine ? state.data : null, loading: !mine, error: mine ? state.error : null, reload: run };
}

// The devices of the list: the API's filters (station, kind, lifecycle) and the page's own (online, id).
function useDevices(server, online, q) {
  const list = useKeyedPoll(JSON.stringify(server), () => api.get('/admin/devices', { ...server, ports: true }));
  const all = (list.data && list.data.devices) || [];
  const needle = q.trim().toLowerCase();
  const rows = all.filter(
    (d) =>
      (online === '' || String(!!d.online) === online) &&
      (!needle || d.id.toLowerCase().includes(needle) || (d.name || '').toLowerCase().includes(needle)),
  );
  return { list, all, rows };
}

function DevicesView({ stock }) {
  const stations = useStations();
  const [f, setF] = useState({ station: '', kind: '', lifecycle: stock ? 'stock' : '', online: '', q: '' });
  const [applied, setApplied] = useState(f);
  const [offset, setOffset] = useState(0);
  const [registering, setRegistering] = useState(false);
  const [picked, setPicked] = useState(new Set());
  const server = { station_id: applied.station, kind: applied.kind, lifecycle: stock ? 'stock' : applied.lifecycle };
  const { list, all, rows } = useDevices(server, applied.online, applied.q);
  const shown = rows.slice(offset, offset + PAGE_SIZE);
  const live = Object.fromEntries(shown.map((d) => [d.id, d]));
  const set = (k) => (v) => setF({ ...f, [k]: v });
  const online = all.filter((d) => d.online).length;
  const columns = [
    ...(stock
      ? [{ key: 'pick', label: t('devices.pick'), render: (d) => html`<input type="checkbox" aria-label=${t('devices.pick_one', { id: d.id })}
          checked=${picked.has(d.id)} onChange=${(e) => {
            const s = new Set(picked);
            e.currentTarget.checked ? s.add(d.id) : s.delete(d.id);
            setPicked(s);
          }} />` }]
      : []),
    { key: 'id', label: t('devices.id'), render: (d) => html`<${Link} to=${`/devices/${encodeURIComponent(d.id)}`}>${d.id}</${Link}>` },
    { key: 'kind', label: t('common.kind'), render: (d) => kindText(d.kind) },
    { key: 'station_id', label: t('common.station'), render: (d) => stations.name(d.station_id) },
    { key: 'model', label: t('devices.model'), render: (d) => d.model || '—' },
    { key: 'fw', label: t('devices.firmware'), render: (d) => d.fw || '—' },
    { key: 'lifecycle', label: t('devices.lifecycle'), render: (d) => lifecycleText(d.lifecycle) },
    { key: 'online', label: t('devices.online'), render: (d) => html`<${Badge} value=${d.online ? 'online' : 'offline'} />` },
    { key: 'ports', label: t('devices.free_busy'), class: 'num', render: (d) => freeBusy(live[d.id]) },
  ];
  return html`<${Page} title=${stock ? t('devices.stock_title') : t('devices.title')}
      actions=${can('devices.write') && html`<button type="button" class="primary" id="device-register"
        onClick=${() => setRegistering(true)}>${t('devices.register')}</button>`}>
    <form class="filters" role="search" onSubmit=${(e) => {
      e.preventDefault();
      setOffset(0);
      setApplied(f);
    }}>
      ${!stock && html`<${Select} id="devices-station" label=${t('common.station')} value=${f.station} onValue=${set('station')}
        options=${stationOptions(stations, { value: '', label: t('common.all_stations') })} />`}
      <${Select} id="devices-kind" label=${t('common.kind')} value=${f.kind} onValue=${set('kind')}
        options=${[{ value: '', label: t('common.all') }, ...KINDS.map((k) => ({ value: k, label: kindText(k) }))]} />
      ${!stock && html`<${Select} id="devices-lifecycle" label=${t('devices.lifecycle')} value=${f.lifecycle} onValue=${set('lifecycle')}
        options=${[{ value: '', label: t('common.all') }, ...['stock', 'installed', 'retired'].map((l) => ({ value: l, label: lifecycleText(l) }))]} />`}
      <${Select} id="devices-online" label=${t('devices.online')} value=${f.online} onValue=${set('online')}
        options=${[{ value: '', label: t('common.all') }, { value: 'true', label: t('states.online') }, { value: 'false', label: t('states.offline') }]} />
      <${Input} id="devices-q" label=${t('devices.search_id')} value=${f.q} onValue=${set('q')} />
      <div class="field field-button"><button type="submit">${t('common.search')}</button></div>
    </form>
    <p class="muted" id="devices-counts">${t('devices.counts', { total: all.length, online, shown: rows.length })}</p>
    <${ErrorBox} error=${list.error} />
    <${Table} columns=${columns} rows=${shown} empty=${list.loading ? t('common.loading') : undefined} />
    <${Pager} offset=${offset} limit=${PAGE_SIZE} count=${offset + PAGE_SIZE < rows.length ? PAGE_SIZE : 0} onOffset=${setOffset} />
    ${stock && html`<${AssignForm} stations=${stations} picked=${[...picked].filter((id) => all.some((d) => d.id === id))} onDone=${() => {
      setPicked(new Set());
      list.reload();
    }} />`}
    <${Card} title=${t('devices.grid')} class="port-grid">
      <p class="muted">${t('devices.grid_hint')}</p>
      ${shown.filter((d) => d.kind !== 'camera' && live[d.id] && live[d.id].sockets).map(
        (d) => html`<div class="grid-row" data-device=${d.id}>
          <${Link} to=${`/devices/${encodeURIComponent(d.id)}`} class="grid-id">${d.id}</${Link}>
          <ul class="port-cells">${live[d.id].sockets.map((p) => html`<${PortCell} key=${p.n} p=${p} />`)}</ul>
        </div>`,
      )}
    </${Card}>
    <${RegisterModal} open=${registering} stations=${stations} stock=${stock}
      onClose=${() => setRegistering(false)} onDone=${() => list.reload()} />
  </${Page}>`;
}

export function DevicesPage() {
  return html`<${DevicesView} stock=${false} />`;
}
export function StockPage() {
  return html`<${DevicesView} stock=${true} />`;
}

// Stock: install the picked devices at one station (all or nothing).
function AssignForm({ stations, picked, onDone }) {
  const [station, setStation] = useState('');
  const [error, setError] = useState(null);
  return html`<${Card} title=${t('devices.assign')}>
    <${Form} id="assign-form" submitLabel=${t('devices.assign_submit', { n: picked.length })} onSubmit=${async () => {
      setError(null);
      if (!picked.length || !station) {
        setError({ message: t('devices.assign_need') });
        return;
      }
      try {
        const r = await api.post('/admin/devices/assign', { device_ids: picked, station_id: Number(station) });
        notify(t('devices.assigned', { n: r.assigned.length }));
        onDone();
      } catch (e) {
        setError(e);
      }
    }}>
      <${Select} id="assign-station" label=${t('common.station')} value=${station} onValue=${setStation}
        options=${stationOptions(stations, { value: '', label: t('devices.choose') })} />
    </${Form}>
    <${ErrorBox} error=${error} />
    ${error && error.error && Array.isArray(error.error.refused) && html`<ul class="refused" id="assign-refused">
      ${error.error.refused.map((r) => html`<li data-device=${r.device_id}><code>${r.device_id}</code>: ${errorText(r)}</li>`)}
    </ul>`}
  </${Card}>`;
}

// The credentials a registration or a new secret answers, shown once.
export function Credentials({ r }) {
  const rows = [
    ['mqtt_username', r.mqtt_username],
    ['mqtt_password', r.mqtt_password],
    ['ocpp_url', r.ocpp_url],
    ['ocpps_url', r.ocpps_url],
    ['ocpp_password', r.ocpp_password],
  ].filter(([, v]) => v !== undefined && v !== null);
  return html`<div class="credentials" id="credentials">
    <p class="warn-text">${t('devices.once')}</p>
    <dl class="kv">${rows.map(([k, v]) => html`<dt>${t(`devices.cred.${k}`)}</dt><dd><code data-cred=${k}>${v}</code></dd>`)}</dl>
  </div>`;
}

const blankDevice = () => ({ id: '', kind: 'ebike_pile', protocol: 'mqtt', station: '', model_id: '', ports: '10', name: '', connectors: {} });

function RegisterModal({ open, stations, stock, onClose, onDone }) {
  const [d, setD] = useState(blankDevice());
  const [error, setError] = useState(null);
  const [result, setResult] = useState(null);
  const models = useFetch(open ? '/admin/device-models' : '', {});
  const set = (k) => (v) => setD({ ...d, [k]: v });
  const ev = d.kind === 'ev_charger';
  const kindModels = ((models.data && models.data.models) || []).filter((m) => m.kind === d.kind);
  const model = kindModels.find((m) => String(m.id) === d.model_id);
  const ports = model ? model.ports : Number(d.ports) || 0;
  const close = () => {
    setD(blankDevice());
    setResult(null);
    setError(null);
    onClose();
  };
  const setConn = (n, k, v) => setD({ ...d, connectors: { ...d.connectors, [n]: { ...(d.connectors[n] || {}), [k]: v } } });
  const submit = async () => {
    setError(null);
    const body = { id: d.id.trim(), kind: d.kind };
    if (d.station) body.station_id = Number(d.station);
    if (d.name.trim()) body.name = d.name.trim();
    if (model) body.model_id = model.id;
    else body[ev ? 'guns' : 'sockets'] = Number(d.ports);
    if (ev) {
      body.protocol = d.protocol;
      const conns = Object.entries(d.connectors)
        .filter(([n, c]) => Number(n) <= ports && c.type)
        .map(([n, c]) => ({ n: Number(n), type: c.type, rated_power_w: Number(c.power) || 0 }));
      if (conns.length && !model) body.connectors = conns;
    }
    try {
      setResult(await api.post('/admin/devices', body));
      onDone();
    } catch (e) {
      setError(e);
    }
  };
  return html`<${Modal} open=${open} title=${t('devices.register')} onClose=${close}>
    ${result
      ? html`<p id="registered">${t('devices.registered', { id: result.id })}</p>
          <${Credentials} r=${result} />
          <div class="form-actions"><button type="button" class="primary" onClick=${close}>${t('common.done')}</button></div>`
      : html`<${Form} id="register-form" submitLabel=${t('devices.register_submit')} onSubmit=${submit}>
          <${Input} id="reg-id" label=${t('devices.id')} value=${d.id} onValue=${set('id')} required />
          <${Select} id="reg-kind" label=${t('common.kind')} value=${d.kind}
            onValue=${(v) => setD({ ...d, kind: v, model_id: '', protocol: 'mqtt', ports: v === 'ebike_pile' ? '10' : v === 'ev_charger' ? '2' : '4' })}
            options=${KINDS.map((k) => ({ value: k, label: kindText(k) }))} />
          ${ev && html`<${Select} id="reg-protocol" label=${t('devices.protocol')} value=${d.protocol} onValue=${set('protocol')}
            options=${[{ value: 'mqtt', label: 'MQTT' }, { value: 'ocpp1.6', label: 'OCPP 1.6-J' }]} />`}
          <${Select} id="reg-station" label=${t('common.station')} value=${d.station} onValue=${set('station')}
            options=${stationOptions(stations, { value: '', label: t('devices.into_stock') })} />
          <${Select} id="reg-model" label=${t('devices.model')} value=${d.model_id} onValue=${set('model_id')}
            options=${[{ value: '', label: t('devices.no_model') }, ...kindModels.map((m) => ({ value: String(m.id), label: `${m.name} (${m.ports})` }))]} />
          ${!model && html`<${Input} id="reg-ports" type="number" min="1" max="64" label=${t(ev ? 'devices.guns' : 'devices.ports')}
            value=${d.ports} onValue=${set('ports')} required />`}
          <${Input} id="reg-name" label=${t('common.name')} value=${d.name} onValue=${set('name')} />
          ${ev && !model && Array.from({ length: Math.min(ports, 16) }, (_, i) => i + 1).map(
            (n) => html`<div class="row connector-row" key=${n}>
              <${Select} id=${`reg-conn-${n}`} label=${t('devices.connector_of', { n })} value=${(d.connectors[n] || {}).type || ''}
                onValue=${(v) => setConn(n, 'type', v)}
                options=${[{ value: '', label: t('devices.no_connector') }, ...CONNECTORS.map((c) => ({ value: c, label: t(`devices.conn.${c}`) }))]} />
              <${Input} id=${`reg-power-${n}`} type="number" label=${t('devices.rated_w_of', { n })}
                value=${(d.connectors[n] || {}).power || ''} onValue=${(v) => setConn(n, 'power', v)} />
            </div>`,
          )}
          ${stock && html`<p class="muted">${t('devices.stock_hint')}</p>`}
        </${Form}>
        <${ErrorBox} error=${error} />`}
  </${Modal}>`;
}

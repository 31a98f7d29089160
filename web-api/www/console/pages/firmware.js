// Firmware and rollouts (CONTRACT G, docs/api.md "Firmware and rollouts (OTA)"): the uploaded images
// and an upload form (the raw file as application/octet-stream), rollouts (create one from an image:
// devices, a station or a model, batch size, interval, max failures, timeout), and one rollout's
// devices and their progress, live, with halt.
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtTime } from '../../static/lib/fmt.js';
import { ApiError } from '../../static/lib/api.js';
import { usePoll } from '../../static/lib/poll.js';
import { Card, ErrorBox, Form, Input, Link, Modal, Page, Select, Table, act, notify, time, useFetch } from '../../static/lib/ui.js';
import { api, can } from '../api.js';
import { StationSelect, Word, useStations } from './ops-common.js';

const KINDS = ['ebike_pile', 'ev_charger', 'camera'];
const DEVICE_STATES = ['pending', 'sent', 'downloading', 'installing', 'installed', 'failed', 'skipped'];

// POST of a raw body (the image) to /api/v1<path>?query with the console's token; the JSON reply.
async function postBinary(path, query, body) {
  const qs = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== '' && v != null)).toString();
  const res = await fetch(`/api/v1${path}${qs ? `?${qs}` : ''}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${api.token()}`, 'Content-Type': 'application/octet-stream' },
    body,
  });
  const j = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, j?.error?.code, j?.error?.message);
  return j;
}

function Upload({ done }) {
  const [file, setFile] = useState(null);
  const [version, setVersion] = useState('');
  const [kind, setKind] = useState('ebike_pile');
  const [model, setModel] = useState('');
  const [error, setError] = useState(null);
  return html`<${Form} id="firmware-upload" class="inline-form" submitLabel=${t('firmware.upload')} onSubmit=${async () => {
    if (!file) {
      setError(new Error(t('firmware.pick_file')));
      return;
    }
    try {
      const f = await postBinary('/admin/firmware', { version, kind, model }, await file.arrayBuffer());
      setError(null);
      notify(t('firmware.uploaded', { version: f.version, size: f.size }));
      done(f);
    } catch (e) {
      setError(e);
    }
  }}>
    <${ErrorBox} error=${error} />
    <div class="field">
      <label for="firmware-file">${t('firmware.file')}</label>
      <input id="firmware-file" type="file" required onChange=${(e) => setFile(e.currentTarget.files[0] || null)} />
    </div>
    <${Input} id="firmware-version" label=${t('firmware.version')} value=${version} onValue=${setVersion} required=${true} />
    <${Select} id="firmware-kind" label=${t('common.kind')} value=${kind} onValue=${setKind}
      options=${KINDS.map((k) => ({ value: k, label: t(`firmware.kinds.${k}`) }))} />
    <${Input} id="firmware-model" label=${t('firmware.model_opt')} value=${model} onValue=${setModel} />
  </${Form}>`;
}

// The rollout form of one image: exactly one target (devices, a station or a model) and the pacing.
function RolloutForm({ image, onDone }) {
  const stations = useStations();
  const [target, setTarget] = useState('devices');
  const [devices, setDevices] = useState('');
  const [station, setStation] = useState('');
  const [model, setModel] = useState(image.model || '');
  const [batch, setBatch] = useState('1');
  const [interval, setInterval_] = useState('0');
  const [maxFail, setMaxFail] = useState('0');
  const [timeout, setTimeout_] = useState('600');
  const [error, setError] = useState(null);
  return html`<${Form} id="rollout-form" submitLabel=${t('firmware.start')} onSubmit=${async () => {
    const body = { batch_size: Number(batch), batch_interval_s: Number(interval), max_failures: Number(maxFail), timeout_s: Number(timeout) };
    if (target === 'devices') body.device_ids = devices.split(/[\s,，]+/).filter(Boolean);
    else if (target === 'station') body.station_id = Number(station || (stations[0] && stations[0].id));
    else body.model = model;
    try {
      const r = await api.post(`/admin/firmware/${image.id}/rollouts`, body);
      setError(null);
      onDone(r);
    } catch (e) {
      setError(e);
    }
  }}>
    <${ErrorBox} error=${error} />
    <p class="muted">${t('firmware.image_line', { version: image.version, kind: t(`firmware.kinds.${image.kind}`) })}</p>
    <${Select} id="rollout-target" label=${t('firmware.target')} value=${target} onValue=${setTarget}
      options=${['devices', 'station', 'model'].map((v) => ({ value: v, label: t(`firmware.targets.${v}`) }))} />
    ${target === 'devices' && html`<${Input} id="rollout-devices" label=${t('firmware.device_ids')} value=${devices} onValue=${setDevices} required=${true} />`}
    ${target === 'station' && html`<${StationSelect} id="rollout-station" value=${station} onValue=${setStation} stations=${stations} all=${false} />`}
    ${target === 'model' && html`<${Input} id="rollout-model" label=${t('firmware.model')} value=${model} onValue=${setModel} required=${true} />`}
    <${Input} id="rollout-batch" type="number" min="1" label=${t('firmware.batch_size')} value=${batch} onValue=${setBatch} />
    <${Input} id="rollout-interval" type="number" min="0" label=${t('firmware.batch_interval_s')} value=${interval} onValue=${setInterval_} />
    <${Input} id="rollout-max-failures" type="number" min="0" label=${t('firmware.max_failures')} value=${maxFail} onValue=${setMaxFail} />
    <${Input} id="rollout-timeout" type="number" min="10" label=${t('firmware.timeout_s')} value=${timeout} onValue=${setTimeout_} />
  </${Form}>`;
}

// The API's target text ("devices", "station <id>", "model <m>") in words.
function targetText(target, stations) {
  const m = /^(station|model) (.*)$/.exec(target || '');
  if (!m) return target === 'devices' ? t('firmware.targets.devices') : target;
  if (m[1] === 'model') return `${t('firmware.model')} ${m[2]}`;
  const st = stations.find((s) => String(s.id) === m[2]);
  return `${t('common.station')} ${st ? st.name : m[2]}`;
}

const counts = (r) => DEVICE_STATES.filter((s) => r.devices_by_state && r.devices_by_state[s])
  .map((s) => `${t(`firmware.dev_st.${s}`)} ${r.devices_by_state[s]}`).join(' · ') || '—';

export function FirmwarePage() {
  const images = useFetch('/admin/firmware');
  const [rollouts, setRollouts] = useState(null);
  const [error, setError] = useState(null);
  const [rolling, setRolling] = useState(null);
  const stations = useStations();
  const loadRollouts = async () => {
    try {
      setRollouts((await api.get('/admin/rollouts')).rollouts);
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  usePoll(loadRollouts, 3000, []);
  return html`<${Page} title=${t('firmware.title')}>
    ${can('devices.write') && html`<${Card} title=${t('firmware.upload_title')}><${Upload} done=${() => images.reload()} /></${Card}>`}
    <${Card} title=${t('firmware.images')}>
      <${ErrorBox} error=${images.error} />
      <div id="firmware-images"><${Table} rows=${(images.data && images.data.firmware) || []} columns=${[
        { key: 'id', label: 'ID' },
        { key: 'version', label: t('firmware.version') },
        { key: 'kind', label: t('common.kind'), render: (f) => t(`firmware.kinds.${f.kind}`) },
        { key: 'model', label: t('firmware.model') },
        { key: 'size', label: t('firmware.size'), class: 'num' },
        { key: 'sha256', label: 'SHA-256', render: (f) => html`<code title=${f.sha256}>${f.sha256.slice(0, 12)}…</code>` },
        { key: 'uploaded_by', label: t('firmware.uploaded_by') },
        time('created_at', t('firmware.created_at')),
        { key: 'actions', label: t('common.actions'), render: (f) => (can('devices.command')
          ? html`<button type="button" data-action="rollout" onClick=${() => setRolling(f)}>${t('firmware.roll_out')}</button>` : '—') },
      ]} /></div>
    </${Card}>
    <${Card} title=${t('firmware.rollouts')}>
      <${ErrorBox} error=${error} />
      <div id="rollouts"><${Table} rows=${rollouts || []} empty=${rollouts ? t('common.empty') : t('common.loading')} columns=${[
        { key: 'id', label: 'ID', render: (r) => html`<${Link} to=${`/firmware/rollouts/${r.id}`}>${r.id}</${Link}>` },
        { key: 'version', label: t('firmware.version') },
        { key: 'target', label: t('firmware.target'), render: (r) => targetText(r.target, stations) },
        { key: 'state', label: t('common.state'), render: (r) => html`<${Word} dict="firmware.ro_st" value=${r.state} />` },
        { key: 'devices_by_state', label: t('firmware.devices'), render: counts },
        { key: 'failures', label: t('firmware.failures'), class: 'num' },
        { key: 'created_by', label: t('firmware.created_by') },
        time('created_at', t('firmware.created_at')),
        time('finished_at', t('firmware.finished_at')),
      ]} /></div>
    </${Card}>
    <${Modal} open=${!!rolling} title=${t('firmware.roll_out')} onClose=${() => setRolling(null)}>
      ${rolling && html`<${RolloutForm} image=${rolling} onDone=${(r) => {
        setRolling(null);
        location.hash = `#/firmware/rollouts/${r.id}`;
      }} />`}
    </${Modal}>
  </${Page}>`;
}

export function RolloutPage({ params }) {
  const stations = useStations();
  const [ro, setRo] = useState(null);
  const [error, setError] = useState(null);
  const load = async () => {
    try {
      setRo(await api.get(`/admin/rollouts/${encodeURIComponent(params.id)}`));
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  usePoll(load, 2000, [params.id]);
  const halt = () => {
    if (!confirm(t('firmware.halt_confirm', { id: params.id }))) return;
    act(async () => {
      await api.post(`/admin/rollouts/${params.id}/halt`, {});
      await load();
    }, t('firmware.halted'));
  };
  const row = (label, value) => html`<dt>${label}</dt><dd>${value ?? '—'}</dd>`;
  return html`<${Page} title=${t('firmware.rollout', { id: params.id })}
      actions=${html`<${Link} to="/firmware">${t('common.back')}</${Link}>
        ${ro && ro.state === 'running' && can('devices.command') && html`<button type="button" id="rollout-halt" class="danger" onClick=${halt}>${t('firmware.halt')}</button>`}`}>
    <${ErrorBox} error=${error} />
    ${ro && html`<${Card}>
      <dl class="facts" id="rollout-facts">
        ${row(t('common.state'), html`<span id="rollout-state"><${Word} dict="firmware.ro_st" value=${ro.state} /></span>`)}
        ${row(t('firmware.version'), ro.version)}
        ${row(t('firmware.target'), targetText(ro.target, stations))}
        ${row(t('firmware.devices'), counts(ro))}
        ${row(t('firmware.batch_size'), ro.batch_size)}
        ${row(t('firmware.batch_interval_s'), ro.batch_interval_s)}
        ${row(t('firmware.max_failures'), `${ro.failures} / ${ro.max_failures}`)}
        ${row(t('firmware.timeout_s'), ro.timeout_s)}
        ${row(t('firmware.halt_reason'), ro.halt_reason || '—')}
        ${row(t('firmware.created_by'), ro.created_by)}
        ${row(t('firmware.created_at'), fmtTime(ro.created_at))}
        ${row(t('firmware.finished_at'), fmtTime(ro.finished_at))}
      </dl>
    </${Card}>
    <${Card} title=${t('firmware.devices')}>
      <div id="rollout-devices-list"><${Table} rowKey="device_id" rows=${ro.devices} columns=${[
        { key: 'device_id', label: t('firmware.device') },
        { key: 'batch', label: t('firmware.batch'), class: 'num' },
        { key: 'state', label: t('common.state'), render: (d) => html`<${Word} dict="firmware.dev_st" value=${d.state} />` },
        { key: 'progress_pct', label: t('firmware.progress'), render: (d) => (d.progress_pct == null ? '—'
          : html`<progress max="100" value=${d.progress_pct} aria-label=${t('firmware.progress')}></progress> ${d.progress_pct}%`) },
        { key: 'reported_version', label: t('firmware.reported_version') },
        { key: 'error', label: t('firmware.error') },
        time('sent_at', t('firmware.sent_at')),
        time('updated_at', t('firmware.updated_at')),
      ]} /></div>
    </${Card}>`}
  </${Page}>`;
}

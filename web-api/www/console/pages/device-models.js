// Device models (seed 004 设备类型): the per-kind port count and the defaults a registration takes
// from them. Listed with devices.read, written by unscoped operators with devices.write.
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtPower } from '../../static/lib/fmt.js';
import { api, can } from '../api.js';
import { Card, ErrorBox, Form, Input, Modal, Page, Select, Table, act, useFetch } from '../../static/lib/ui.js';
import { CONNECTORS, KINDS, kindText } from './devices.js';
import { ConfirmModal } from './device-detail.js';

// The numeric fields of a model and the kinds they belong to (the API refuses them on another kind).
const NUMBERS = [
  ['rated_power_w', null],
  ['rated_voltage_v', null],
  ['rated_current_a', null],
  ['max_current_a', null],
  ['socket_overload_w', 'ebike_pile'],
  ['device_overload_w', 'ebike_pile'],
  ['gun_power_w', 'ev_charger'],
];

const blank = () => ({ kind: 'ebike_pile', name: '', ports: '10', connector_type: '', note: '' });
const toForm = (m) => {
  const f = { ...blank(), ...m, ports: String(m.ports), connector_type: m.connector_type || '', note: m.note || '' };
  for (const [k] of NUMBERS) f[k] = m[k] === null || m[k] === undefined ? '' : String(m[k]);
  return f;
};

function body(f, create) {
  const b = { name: f.name.trim(), ports: Number(f.ports), note: f.note };
  if (create) b.kind = f.kind;
  for (const [k, kind] of NUMBERS) if ((!kind || kind === f.kind) && f[k] !== '' && f[k] !== undefined) b[k] = Number(f[k]);
  if (f.kind === 'ev_charger' && f.connector_type) b.connector_type = f.connector_type;
  return b;
}

export function DeviceModelsPage() {
  const list = useFetch('/admin/device-models', {});
  const [editing, setEditing] = useState(null); // {form, id?}
  const [removing, setRemoving] = useState(null);
  const [error, setError] = useState(null);
  const write = can('devices.write');
  const models = (list.data && list.data.models) || [];
  const f = editing && editing.form;
  const set = (k) => (v) => setEditing({ ...editing, form: { ...f, [k]: v } });
  const save = async () => {
    setError(null);
    try {
      if (editing.id) await api.put(`/admin/device-models/${editing.id}`, body(f, false));
      else await api.post('/admin/device-models', body(f, true));
      setEditing(null);
      list.reload();
    } catch (e) {
      setError(e);
    }
  };
  const columns = [
    { key: 'name', label: t('common.name') },
    { key: 'kind', label: t('common.kind'), render: (m) => kindText(m.kind) },
    { key: 'ports', label: t('devices.ports'), class: 'num' },
    { key: 'rated_power_w', label: t('devices.model_field.rated_power_w'), class: 'num', render: (m) => fmtPower(m.rated_power_w) },
    { key: 'socket_overload_w', label: t('devices.model_field.socket_overload_w'), class: 'num', render: (m) => fmtPower(m.socket_overload_w) },
    { key: 'gun_power_w', label: t('devices.model_field.gun_power_w'), class: 'num', render: (m) => fmtPower(m.gun_power_w) },
    { key: 'connector_type', label: t('devices.connector'), render: (m) => (m.connector_type ? t(`devices.conn.${m.connector_type}`) : '—') },
    { key: 'note', label: t('common.note') },
    ...(write
      ? [{
          key: 'actions',
          label: t('common.actions'),
          render: (m) => html`<div class="row-actions">
            <button type="button" data-act="edit" onClick=${() => { setError(null); setEditing({ id: m.id, form: toForm(m) }); }}>${t('devices.edit')}</button>
            <button type="button" data-act="delete" class="danger" onClick=${() => setRemoving(m)}>${t('devices.delete')}</button>
          </div>`,
        }]
      : []),
  ];
  return html`<${Page} title=${t('devices.models_title')}
      actions=${write && html`<button type="button" class="primary" id="model-add"
        onClick=${() => { setError(null); setEditing({ form: blank() }); }}>${t('devices.model_add')}</button>`}>
    <${ErrorBox} error=${list.error} />
    <${Card}>
      <p class="muted">${t('devices.models_hint')}</p>
      <${Table} columns=${columns} rows=${models} empty=${list.loading ? t('common.loading') : undefined} />
    </${Card}>
    <${Modal} open=${!!editing} title=${editing && editing.id ? t('devices.model_edit') : t('devices.model_add')} onClose=${() => setEditing(null)}>
      ${f && html`<${Form} id="model-form" submitLabel=${t('common.save')} onSubmit=${save}>
        <${Select} id="model-kind" label=${t('common.kind')} value=${f.kind} onValue=${set('kind')} disabled=${!!editing.id}
          options=${KINDS.map((k) => ({ value: k, label: kindText(k) }))} />
        <${Input} id="model-name" label=${t('common.name')} value=${f.name} onValue=${set('name')} required />
        <${Input} id="model-ports" type="number" min="1" max="64" label=${t('devices.ports')} value=${f.ports} onValue=${set('ports')} required />
        ${NUMBERS.filter(([, kind]) => !kind || kind === f.kind).map(
          ([k]) => html`<${Input} key=${k} id=${`model-${k}`} type="number" min="1" label=${t(`devices.model_field.${k}`)} value=${f[k]} onValue=${set(k)} />`,
        )}
        ${f.kind === 'ev_charger' && html`<${Select} id="model-connector" label=${t('devices.connector')} value=${f.connector_type}
          onValue=${set('connector_type')} options=${[{ value: '', label: t('devices.no_connector') }, ...CONNECTORS.map((c) => ({ value: c, label: t(`devices.conn.${c}`) }))]} />`}
        <${Input} id="model-note" label=${t('common.note')} value=${f.note} onValue=${set('note')} />
      </${Form}>
      <${ErrorBox} error=${error} />`}
    </${Modal}>
    <${ConfirmModal} open=${!!removing} title=${t('devices.delete')} text=${removing ? t('devices.model_delete_warn', { name: removing.name }) : ''}
      onClose=${() => setRemoving(null)} onConfirm=${async () => {
        await act(() => api.del(`/admin/device-models/${removing.id}`), t('devices.model_deleted'));
        setRemoving(null);
        list.reload();
      }} />
  </${Page}>`;
}

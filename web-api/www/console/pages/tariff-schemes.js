// The tariff library (/tariff-schemes): named schemes (GET/POST /admin/tariff-schemes, PUT and
// DELETE /admin/tariff-schemes/{id}) edited with the same TariffForm as a station's tariff; assigned in
// bulk to stations, areas and devices (POST …/assign: one new version per target, all or nothing);
// where each is in force or scheduled (GET …/assignments); archived when nothing uses it (the API
// refuses otherwise, naming where).
import { html, useEffect, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtTime } from '../../static/lib/fmt.js';
import { Card, Checkbox, ErrorBox, Form, Input, Link, Page, Table, TextArea, notify, useFetch } from '../../static/lib/ui.js';
import { api, can } from '../api.js';
import { TariffForm, blankTariff } from './tariff-form.js';

// Create (scheme null) or edit a scheme: its name and description, then the document.
function SchemeEditor({ scheme, onDone }) {
  const [name, setName] = useState(scheme ? scheme.name : '');
  const [description, setDescription] = useState(scheme ? scheme.description || '' : '');
  const [apply, setApply] = useState(false);
  const [effective, setEffective] = useState('');
  const [doc] = useState(() => (scheme ? scheme.tariff : blankTariff()));
  async function save(tariff) {
    if (scheme) {
      const body = { name: name.trim(), description, tariff };
      if (apply) {
        body.apply_to_assigned = true;
        if (effective.trim()) body.effective_from = effective.trim();
      }
      const r = await api.put(`/admin/tariff-schemes/${scheme.id}`, body);
      notify(`${t('schemes.updated')}${r.versions && r.versions.length ? ` · ${t('schemes.assigned', { n: r.versions.length })}` : ''}`);
    } else {
      await api.post('/admin/tariff-schemes', { name: name.trim(), description, tariff });
      notify(t('schemes.created'));
    }
    onDone(true);
  }
  return html`<${Card} title=${scheme ? `${t('schemes.edit')}: ${scheme.name}` : t('schemes.new')} class="scheme-editor">
    <${TariffForm} value=${doc} onSave=${save} showEffective=${false} idPrefix="scheme"
      extra=${html`<fieldset><legend>${t('schemes.title')}</legend>
        <div class="filters">
          <${Input} id="scheme-scheme-name" label=${t('schemes.name')} value=${name} onValue=${setName} required=${true} />
          <${TextArea} id="scheme-description" label=${t('schemes.description')} value=${description} onValue=${setDescription} rows=${2} />
        </div>
        ${scheme &&
        html`<div class="filters">
          <${Checkbox} id="scheme-apply" label=${t('schemes.apply')} checked=${apply} onValue=${setApply} />
          ${apply && html`<${Input} id="scheme-apply-at" label=${t('schemes.effective_at')} value=${effective} onValue=${setEffective} />`}
        </div>`}
      </fieldset>`} />
    <button type="button" onClick=${() => onDone(false)}>${t('common.cancel')}</button>
  </${Card}>`;
}

// Bulk assignment: stations, areas (of every station) and device ids; effective now or at a time.
function Assign({ scheme, onDone }) {
  const stations = useFetch('/admin/stations');
  const [areas, setAreas] = useState([]);
  const [picked, setPicked] = useState({ station_ids: [], area_ids: [] });
  const [devices, setDevices] = useState('');
  const [effective, setEffective] = useState('');
  const [error, setError] = useState(null);
  const list = (stations.data && stations.data.stations) || [];
  useEffect(() => {
    if (!list.length) return;
    Promise.all(list.map((s) => api.get(`/admin/stations/${s.id}`)))
      .then((xs) => setAreas(xs.flatMap((s) => s.areas.map((a) => ({ ...a, station: s.name })))))
      .catch(setError);
  }, [stations.data]);
  const toggle = (k, id, on) => setPicked({ ...picked, [k]: on ? [...picked[k], id] : picked[k].filter((x) => x !== id) });
  async function submit() {
    const body = { ...picked, device_ids: devices.split(/[,，\s]+/).filter(Boolean) };
    if (effective.trim()) body.effective_from = effective.trim();
    try {
      const r = await api.post(`/admin/tariff-schemes/${scheme.id}/assign`, body);
      notify(t('schemes.assigned', { n: r.versions.length }));
      onDone(true);
    } catch (e) {
      setError(e);
    }
  }
  return html`<${Card} title=${t('schemes.assign_title', { name: scheme.name })} class="scheme-assign">
    <${Form} id="assign-form" onSubmit=${submit} submitLabel=${t('schemes.assign')}>
      <fieldset id="assign-stations"><legend>${t('schemes.stations')}</legend>
        <div class="filters">${list.map((s) => html`<${Checkbox} label=${s.name} checked=${picked.station_ids.includes(s.id)} onValue=${(on) => toggle('station_ids', s.id, on)} />`)}</div>
      </fieldset>
      <fieldset id="assign-areas"><legend>${t('schemes.areas')}</legend>
        <div class="filters">${areas.map((a) => html`<${Checkbox} label=${`${a.station} / ${a.name}`} checked=${picked.area_ids.includes(a.id)} onValue=${(on) => toggle('area_ids', a.id, on)} />`)}</div>
      </fieldset>
      <div class="filters">
        <${Input} id="assign-devices" label=${t('schemes.devices')} value=${devices} onValue=${setDevices} />
        <${Input} id="assign-at" label=${t('schemes.effective_at')} value=${effective} onValue=${setEffective} />
      </div>
      <${ErrorBox} error=${error} />
    </${Form}>
    <button type="button" onClick=${() => onDone(false)}>${t('common.cancel')}</button>
  </${Card}>`;
}

// The target of a version in words, linked to its station or device.
function target(v) {
  if (v.level === 'device') return html`${t('tariffs.level_device')} <${Link} to=${`/tariffs?device=${encodeURIComponent(v.device_id)}`}>${v.device_id}</${Link}>`;
  const st = html`<${Link} to=${`/stations/${v.station_id}`}>#${v.station_id}</${Link}>`;
  return v.level === 'area' ? html`${t('tariffs.level_area')} #${v.area_id} (${t('tariffs.level_station')} ${st})` : html`${t('tariffs.level_station')} ${st}`;
}

function Assignments({ scheme, onClose }) {
  const r = useFetch(`/admin/tariff-schemes/${scheme.id}/assignments`);
  const rows = ((r.data && r.data.assignments) || []).map((a) => ({ ...a.version, state: a.state }));
  return html`<${Card} title=${t('schemes.assignments_title', { name: scheme.name })}>
    <${ErrorBox} error=${r.error} />
    <div id="scheme-assignments"><${Table} rows=${rows} columns=${[
      { key: 'state', label: t('common.state'), render: (v) => html`<span class=${`badge badge-${v.state}`}>${t(`tariffs.state_${v.state}`)}</span>` },
      { key: 'level', label: t('schemes.target'), render: target },
      { key: 'version', label: t('tariffs.version') },
      { key: 'effective_from', label: t('tariffs.effective_from'), render: (v) => fmtTime(v.effective_from) },
    ]} /></div>
    <button type="button" onClick=${onClose}>${t('common.close')}</button>
  </${Card}>`;
}

export function TariffSchemesPage() {
  const [archived, setArchived] = useState(false);
  const r = useFetch('/admin/tariff-schemes', { archived: archived ? 'true' : '' });
  // What the panel under the list shows: {kind: new|edit|assign|assignments, scheme}.
  const [panel, setPanel] = useState(null);
  const [archiving, setArchiving] = useState(null);
  const [error, setError] = useState(null);
  const write = can('tariffs.write');
  const done = (changed) => {
    setPanel(null);
    if (changed) r.reload();
  };
  async function archive(s) {
    try {
      await api.del(`/admin/tariff-schemes/${s.id}`);
      notify(t('schemes.archived_ok'));
      setError(null);
      r.reload();
    } catch (e) {
      setError(e);
    }
    setArchiving(null);
  }
  return html`<${Page} title=${t('schemes.title')}
      actions=${html`<${Checkbox} id="schemes-archived" label=${t('schemes.archived')} checked=${archived} onValue=${setArchived} />
        ${write && html`<button type="button" class="primary" id="scheme-new" onClick=${() => setPanel({ kind: 'new' })}>${t('schemes.new')}</button>`}`}>
    <div id="schemes-error"><${ErrorBox} error=${error || r.error} /></div>
    <div id="schemes"><${Table} rows=${(r.data && r.data.schemes) || []} columns=${[
      { key: 'id', label: 'ID' },
      { key: 'name', label: t('schemes.name') },
      { key: 'description', label: t('schemes.description') },
      { key: 'modes', label: t('tariffs.modes'), render: (s) => s.tariff.modes.map((m) => t(`tariffs.mode_${m}`)).join('、') },
      { key: 'updated_at', label: t('schemes.updated_at'), render: (s) => fmtTime(s.updated_at) },
      { key: 'archived', label: t('schemes.is_archived') },
      {
        key: 'actions',
        label: t('common.actions'),
        render: (s) => html`<button type="button" class="link" onClick=${() => setPanel({ kind: 'assignments', scheme: s })}>${t('schemes.assignments')}</button>
          ${write && !s.archived && html`<button type="button" class="link" onClick=${() => setPanel({ kind: 'edit', scheme: s })}>${t('stations.edit')}</button>
            <button type="button" class="link" onClick=${() => setPanel({ kind: 'assign', scheme: s })}>${t('schemes.assign')}</button>
            ${archiving === s.id
              ? html`<button type="button" class="danger" onClick=${() => archive(s)}>${t('schemes.archive_confirm', { name: s.name })}</button>`
              : html`<button type="button" class="link" onClick=${() => setArchiving(s.id)}>${t('schemes.archive')}</button>`}`}`,
      },
    ]} /></div>
    ${panel && panel.kind === 'new' && html`<${SchemeEditor} key="new" scheme=${null} onDone=${done} />`}
    ${panel && panel.kind === 'edit' && html`<${SchemeEditor} key=${`edit-${panel.scheme.id}`} scheme=${panel.scheme} onDone=${done} />`}
    ${panel && panel.kind === 'assign' && html`<${Assign} key=${`assign-${panel.scheme.id}`} scheme=${panel.scheme} onDone=${done} />`}
    ${panel && panel.kind === 'assignments' && html`<${Assignments} key=${`as-${panel.scheme.id}`} scheme=${panel.scheme} onClose=${() => setPanel(null)} />`}
  </${Page}>`;
}

// The hierarchy (/hierarchy): providers → properties → stations → areas, one table per level; picking
// a row shows the next level under it. Each level has a create form and per row an edit form and
// enable / disable (/admin/providers, /admin/properties, /admin/stations, /admin/stations/{id}/areas,
// /admin/areas/{id}; a disabled level's stations and devices disappear from riders).
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { Card, ErrorBox, Link, Modal, Page, Table, notify, useFetch } from '../../static/lib/ui.js';
import { api, can } from '../api.js';
import { EntityForm, enabledColumn, stationFields, toggleButton } from './stations.js';

const providerFields = () => [
  { k: 'name', label: t('common.name'), required: true },
  { k: 'contact', label: t('stations.contact') },
  { k: 'phone', label: t('stations.phone') },
];
const propertyFields = () => [...providerFields(), { k: 'address', label: t('stations.address') }];
const areaFields = () => [{ k: 'name', label: t('common.name'), required: true }];

// One level: its table (a row's name picks it), a create form and an edit dialog per row.
function Level({ id, title, rows, error, columns, selected, onSelect, fields, onCreate, editPath, reload, hint, newLabel }) {
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState(null);
  const write = can('stations.write');
  return html`<${Card} title=${title} class="level">
    ${hint && html`<p class="muted">${hint}</p>`}
    <${ErrorBox} error=${error} />
    <div id=${id}><${Table} rows=${rows} columns=${[
      {
        key: 'name',
        label: t('common.name'),
        render: (r) =>
          onSelect
            ? html`<button type="button" class="link" aria-pressed=${selected === r.id} onClick=${() => onSelect(r.id)}>${r.name}</button>`
            : r.name,
      },
      ...columns,
      enabledColumn(),
      {
        key: 'actions',
        label: t('common.actions'),
        render: (r) => html`${write && html`<button type="button" class="link" onClick=${() => setEditing(r)}>${t('stations.edit')}</button>`}
          ${toggleButton(editPath(r), r, reload)}`,
      },
    ]} /></div>
    ${write && onCreate && html`<button type="button" id=${`${id}-new`} onClick=${() => setCreating(true)}>${newLabel}</button>`}
    <${Modal} open=${creating} title=${newLabel} onClose=${() => setCreating(false)}>
      ${creating &&
      html`<${EntityForm} id=${`${id}-create`} fields=${fields} submitLabel=${newLabel} onSave=${async (body) => {
        await onCreate(body);
        notify(t('stations.created'));
        setCreating(false);
        reload();
      }} />`}
    </${Modal}>
    <${Modal} open=${!!editing} title=${t('stations.edit')} onClose=${() => setEditing(null)}>
      ${editing &&
      html`<${EntityForm} id=${`${id}-edit`} initial=${editing} fields=${fields} onSave=${async (body) => {
        await api.put(editPath(editing), body);
        notify(t('stations.updated'));
        setEditing(null);
        reload();
      }} />`}
    </${Modal}>
  </${Card}>`;
}

export function HierarchyPage() {
  const [provider, setProvider] = useState(null);
  const [property, setProperty] = useState(null);
  const [station, setStation] = useState(null);
  const providers = useFetch('/admin/providers');
  const properties = useFetch('/admin/properties', { provider_id: provider || '' });
  const allProperties = useFetch('/admin/properties');
  const stations = useFetch('/admin/stations', { property_id: property || '' });
  const st = useFetch(station ? `/admin/stations/${station}` : '');
  const rowsOf = (r, k) => (r.data && r.data[k]) || [];
  return html`<${Page} title=${t('stations.hierarchy')}>
    <div class="hier-grid">
      <${Level} id="providers" title=${t('stations.providers')} rows=${rowsOf(providers, 'providers')} error=${providers.error}
        columns=${[{ key: 'contact', label: t('stations.contact') }, { key: 'phone', label: t('stations.phone') }]}
        selected=${provider} onSelect=${(id) => { setProvider(id); setProperty(null); setStation(null); }}
        fields=${providerFields()} newLabel=${t('stations.new_provider')} onCreate=${(b) => api.post('/admin/providers', b)}
        editPath=${(r) => `/admin/providers/${r.id}`} reload=${providers.reload} />
      <${Level} id="properties" title=${t('stations.properties')} rows=${rowsOf(properties, 'properties')} error=${properties.error}
        hint=${!provider && t('stations.select_provider')}
        columns=${[{ key: 'contact', label: t('stations.contact') }, { key: 'address', label: t('stations.address') }]}
        selected=${property} onSelect=${(id) => { setProperty(id); setStation(null); }}
        fields=${propertyFields()} newLabel=${t('stations.new_property')}
        onCreate=${provider && ((b) => api.post('/admin/properties', { ...b, provider_id: provider }))}
        editPath=${(r) => `/admin/properties/${r.id}`} reload=${() => { properties.reload(); allProperties.reload(); }} />
      <${Level} id="hier-stations" title=${t('stations.title')} rows=${rowsOf(stations, 'stations')} error=${stations.error}
        hint=${!property && t('stations.select_property')}
        columns=${[{ key: 'id', label: 'ID', render: (s) => html`<${Link} to=${`/stations/${s.id}`}>#${s.id}</${Link}>` }, { key: 'address', label: t('stations.address') }]}
        selected=${station} onSelect=${setStation}
        fields=${stationFields(rowsOf(allProperties, 'properties'))} newLabel=${t('stations.new_station')}
        onCreate=${(b) => api.post('/admin/stations', { property_id: property || undefined, ...b })}
        editPath=${(r) => `/admin/stations/${r.id}`} reload=${stations.reload} />
      <${Level} id="hier-areas" title=${t('stations.areas')} rows=${(st.data && station && st.data.areas) || []} error=${st.error}
        hint=${!station && t('stations.select_station')} columns=${[{ key: 'id', label: 'ID' }]}
        fields=${areaFields()} newLabel=${t('stations.new_area')}
        onCreate=${station && ((b) => api.post(`/admin/stations/${station}/areas`, b))}
        editPath=${(r) => `/admin/areas/${r.id}`} reload=${st.reload} />
    </div>
  </${Page}>`;
}

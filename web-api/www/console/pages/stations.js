// Stations (/stations): the operator's stations (GET /admin/stations?q&property_id) with a search,
// a property filter and a form to create one (POST /admin/stations). Also the forms the hierarchy and
// the station's page share: EntityForm (labelled fields -> a JSON body) and the station's fields.
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtTime } from '../../static/lib/fmt.js';
import { ErrorBox, Form, Input, Link, ListView, Modal, Page, Select, notify, useFetch } from '../../static/lib/ui.js';
import { api, can } from '../api.js';

// A state column: enabled or disabled, in words.
export const enabledColumn = () => ({
  key: 'enabled',
  label: t('common.state'),
  render: (r) => html`<span class=${`badge ${r.enabled ? 'badge-online' : 'badge-offline'}`}>${r.enabled ? t('common.enabled') : t('common.disabled')}</span>`,
});

// A form of labelled fields [{k, label, kind: 'text' | 'number' | 'select', options, required}]; the
// body sent holds the fields that have a value (numbers parsed; a select's '' is left out).
export function EntityForm({ id, fields, initial, onSave, submitLabel }) {
  const [v, setV] = useState(() => Object.fromEntries(fields.map((f) => [f.k, initial && initial[f.k] != null ? String(initial[f.k]) : ''])));
  const [error, setError] = useState(null);
  async function submit() {
    const body = {};
    for (const f of fields) {
      const x = v[f.k].trim();
      if (x === '') {
        // A text field emptied on an edit clears it; an empty number or select is left out.
        if (!f.kind && initial && initial[f.k]) body[f.k] = '';
        continue;
      }
      if (f.kind === 'number' || (f.kind === 'select' && f.numeric)) {
        const n = Number(x);
        if (!Number.isFinite(n)) return setError({ message: `${f.label}: ${t('stations.invalid_number')}` });
        body[f.k] = n;
      } else body[f.k] = x;
    }
    setError(null);
    try {
      await onSave(body);
    } catch (e) {
      setError(e);
    }
  }
  return html`<${Form} id=${id} onSubmit=${submit} submitLabel=${submitLabel || t('common.save')}>
    <div class="filters">
      ${fields.map((f) =>
        f.kind === 'select'
          ? html`<${Select} id=${`${id}-${f.k}`} label=${f.label} value=${v[f.k]} onValue=${(x) => setV({ ...v, [f.k]: x })} options=${f.options} />`
          : html`<${Input} id=${`${id}-${f.k}`} label=${f.label} value=${v[f.k]} required=${f.required} inputmode=${f.kind === 'number' ? 'decimal' : undefined}
              onValue=${(x) => setV({ ...v, [f.k]: x })} />`,
      )}
    </div>
    <${ErrorBox} error=${error} />
  </${Form}>`;
}

// The station's fields (POST/PUT /admin/stations), the property a select of `properties`.
export function stationFields(properties) {
  return [
    { k: 'name', label: t('common.name'), required: true },
    { k: 'address', label: t('stations.address') },
    { k: 'lat', label: t('stations.lat'), kind: 'number', required: true },
    { k: 'lon', label: t('stations.lon'), kind: 'number', required: true },
    { k: 'open_hours', label: t('stations.open_hours') },
    { k: 'timezone', label: t('stations.timezone') },
    {
      k: 'property_id',
      label: t('stations.property'),
      kind: 'select',
      numeric: true,
      options: [{ value: '', label: t('stations.none') }, ...properties.map((p) => ({ value: p.id, label: p.name }))],
    },
  ];
}

// Enables or disables a row of the hierarchy (PUT path {enabled}), then reloads.
export const toggleButton = (path, row, reload) =>
  can('stations.write') &&
  html`<button type="button" class="link" onClick=${async () => {
    try {
      await api.put(path, { enabled: !row.enabled });
      notify(t('stations.updated'));
      reload();
    } catch (e) {
      notify(e.message, 'error');
    }
  }}>${row.enabled ? t('stations.disable') : t('stations.enable')}</button>`;

export function StationsPage() {
  const [q, setQ] = useState('');
  const [property, setProperty] = useState('');
  const [query, setQuery] = useState({});
  const [creating, setCreating] = useState(false);
  const props = useFetch('/admin/properties');
  const properties = (props.data && props.data.properties) || [];
  const list = useListAll('/admin/stations', 'stations', query);
  const propName = (id) => (properties.find((p) => p.id === id) || {}).name || '—';
  return html`<${Page} title=${t('stations.title')}
      actions=${can('stations.write') && html`<button type="button" class="primary" id="new-station" onClick=${() => setCreating(true)}>${t('stations.new_station')}</button>`}>
    <${ListView} list=${list} rowKey="id" onSearch=${() => setQuery({ q, property_id: property })}
      filters=${html`<${Input} id="stations-q" label=${t('stations.q')} value=${q} onValue=${setQ} />
        <${Select} id="stations-property" label=${t('stations.property')} value=${property} onValue=${setProperty}
          options=${[{ value: '', label: t('common.all') }, ...properties.map((p) => ({ value: p.id, label: p.name }))]} />`}
      columns=${[
        { key: 'id', label: 'ID' },
        { key: 'name', label: t('common.name'), render: (s) => html`<${Link} to=${`/stations/${s.id}`}>${s.name}</${Link}>` },
        { key: 'address', label: t('stations.address') },
        { key: 'property_id', label: t('stations.property'), render: (s) => propName(s.property_id) },
        { key: 'open_hours', label: t('stations.open_hours') },
        { key: 'timezone', label: t('stations.timezone') },
        enabledColumn(),
        { key: 'visible', label: t('stations.visible') },
        { key: 'created_at', label: t('stations.created_at'), render: (s) => fmtTime(s.created_at) },
      ]} />
    <${Modal} open=${creating} title=${t('stations.new_station')} onClose=${() => setCreating(false)}>
      <${EntityForm} id="station-create" fields=${stationFields(properties)} submitLabel=${t('stations.new_station')}
        onSave=${async (body) => {
          const s = await api.post('/admin/stations', body);
          notify(t('stations.created'));
          setCreating(false);
          location.hash = `#/stations/${s.id}`;
        }} />
    </${Modal}>
  </${Page}>`;
}

// The whole of a list route that has no paging (stations, providers, properties), shaped as
// useList's answer so that ListView shows it; its pager stays on one page.
export function useListAll(path, key, query) {
  const r = useFetch(path, query);
  return {
    rows: (r.data && r.data[key]) || [],
    error: r.error,
    loading: r.loading,
    offset: 0,
    limit: 1e9,
    setOffset: () => {},
    reload: r.reload,
  };
}

// One station (/stations/:id): its fields with an edit form (GET/PUT /admin/stations/{id}), its
// areas (POST /admin/stations/{id}/areas, PUT /admin/areas/{id}: rename, enable, disable), its prepaid
// amounts (GET/PUT /admin/stations/{id}/prepaid-amounts, typed as yuan) and its tariff in force with a
// link to the editor.
import { html, useEffect, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fenToYuanText, fmtMoney, fmtTime, parseYuan } from '../../static/lib/fmt.js';
import { Card, ErrorBox, Form, Input, Link, Modal, Page, Table, notify, useFetch } from '../../static/lib/ui.js';
import { api, can } from '../api.js';
import { EntityForm, enabledColumn, stationFields, toggleButton } from './stations.js';

function Areas({ station, reload }) {
  const [name, setName] = useState('');
  const [error, setError] = useState(null);
  const [renaming, setRenaming] = useState(null);
  return html`<${Card} title=${t('stations.areas')}>
    <div id="station-areas"><${Table} rows=${station.areas} columns=${[
      { key: 'id', label: 'ID' },
      { key: 'name', label: t('common.name') },
      enabledColumn(),
      {
        key: 'actions',
        label: t('common.actions'),
        render: (a) => html`${can('stations.write') && html`<button type="button" class="link" onClick=${() => setRenaming(a)}>${t('stations.edit')}</button>`}
          ${toggleButton(`/admin/areas/${a.id}`, a, reload)}`,
      },
    ]} /></div>
    ${can('stations.write') &&
    html`<${Form} id="area-create" submitLabel=${t('stations.new_area')} onSubmit=${async () => {
      try {
        await api.post(`/admin/stations/${station.id}/areas`, { name: name.trim() });
        setName('');
        setError(null);
        notify(t('stations.created'));
        reload();
      } catch (e) {
        setError(e);
      }
    }}>
      <${Input} id="area-name" label=${t('stations.new_area')} value=${name} onValue=${setName} required=${true} />
      <${ErrorBox} error=${error} />
    </${Form}>`}
    <${Modal} open=${!!renaming} title=${t('stations.edit')} onClose=${() => setRenaming(null)}>
      ${renaming &&
      html`<${EntityForm} id="area-edit" initial=${renaming} fields=${[{ k: 'name', label: t('common.name'), required: true }]}
        onSave=${async (body) => {
          await api.put(`/admin/areas/${renaming.id}`, body);
          notify(t('stations.updated'));
          setRenaming(null);
          reload();
        }} />`}
    </${Modal}>
  </${Card}>`;
}

function Prepaid({ stationId }) {
  const r = useFetch(`/admin/stations/${stationId}/prepaid-amounts`);
  const [text, setText] = useState('');
  const [error, setError] = useState(null);
  useEffect(() => {
    if (r.data) setText(r.data.amounts_fen.map(fenToYuanText).join(', '));
  }, [r.data]);
  const amounts = (r.data && r.data.amounts_fen) || [];
  return html`<${Card} title=${t('stations.prepaid')}>
    <p id="prepaid-amounts">${amounts.length ? amounts.map(fmtMoney).join(' · ') : t('stations.none')}</p>
    ${can('stations.write') &&
    html`<${Form} id="prepaid-form" onSubmit=${async () => {
      const fen = text.split(/[,，\s]+/).filter(Boolean).map(parseYuan);
      if (fen.some((x) => x === null)) return setError({ code: 'invalid_amount', message: t('tariffs.invalid') });
      try {
        await api.put(`/admin/stations/${stationId}/prepaid-amounts`, { amounts_fen: fen });
        setError(null);
        notify(t('stations.updated'));
        r.reload();
      } catch (e) {
        setError(e);
      }
    }}>
      <p class="muted">${t('stations.prepaid_hint')}</p>
      <${Input} id="prepaid-input" label=${t('stations.prepaid_amounts')} value=${text} onValue=${setText} inputmode="decimal" />
      <${ErrorBox} error=${error} />
    </${Form}>`}
  </${Card}>`;
}

function TariffSummary({ stationId }) {
  const r = useFetch(can('tariffs.read') ? `/admin/stations/${stationId}/tariff` : '');
  const f = r.data && r.data.in_force;
  return html`<${Card} title=${t('stations.tariff')}>
    <dl class="kv" id="station-tariff">
      <dt>${t('tariffs.name')}</dt><dd>${f ? f.tariff.name : t('tariffs.none')}</dd>
      <dt>${t('tariffs.version')}</dt><dd>${f ? f.version : '—'}</dd>
      <dt>${t('tariffs.effective_from')}</dt><dd>${f ? fmtTime(f.effective_from) : '—'}</dd>
      <dt>${t('tariffs.modes')}</dt><dd>${f ? f.tariff.modes.map((m) => t(`tariffs.mode_${m}`)).join('、') : '—'}</dd>
    </dl>
    <p><${Link} to=${`/tariffs?station=${stationId}`}>${t('stations.tariff_edit')}</${Link}></p>
  </${Card}>`;
}

export function StationDetailPage({ params }) {
  const id = params.id;
  const r = useFetch(`/admin/stations/${id}`);
  const props = useFetch('/admin/properties');
  const [editing, setEditing] = useState(false);
  const s = r.data;
  const properties = (props.data && props.data.properties) || [];
  return html`<${Page} title=${s ? s.name : t('stations.title')}
      actions=${html`<${Link} to="/stations">${t('common.back')}</${Link}>
        ${s && can('stations.write') && html`<button type="button" id="station-edit" onClick=${() => setEditing(true)}>${t('stations.edit')}</button>`}
        ${s && toggleButton(`/admin/stations/${id}`, s, r.reload)}`}>
    <${ErrorBox} error=${r.error} />
    ${s &&
    html`<div class="row">
        <${Card} title=${t('stations.fields')}>
          <dl class="kv" id="station-fields">
            <dt>ID</dt><dd>${s.id}</dd>
            <dt>${t('common.name')}</dt><dd data-k="name">${s.name}</dd>
            <dt>${t('stations.address')}</dt><dd data-k="address">${s.address || '—'}</dd>
            <dt>${t('stations.lat')}</dt><dd data-k="lat">${s.lat}</dd>
            <dt>${t('stations.lon')}</dt><dd data-k="lon">${s.lon}</dd>
            <dt>${t('stations.open_hours')}</dt><dd data-k="open_hours">${s.open_hours}</dd>
            <dt>${t('stations.timezone')}</dt><dd data-k="timezone">${s.timezone}</dd>
            <dt>${t('stations.property')}</dt><dd>${(properties.find((p) => p.id === s.property_id) || {}).name || '—'}</dd>
            <dt>${t('common.state')}</dt><dd>${s.enabled ? t('common.enabled') : t('common.disabled')}</dd>
            <dt>${t('stations.visible')}</dt><dd>${s.visible ? t('common.yes') : t('common.no')}</dd>
            <dt>${t('stations.devices')}</dt><dd>${s.devices}</dd>
            <dt>${t('stations.created_at')}</dt><dd>${fmtTime(s.created_at)}</dd>
          </dl>
        </${Card}>
        <${TariffSummary} stationId=${id} />
      </div>
      <div class="row">
        <${Areas} station=${s} reload=${r.reload} />
        <${Prepaid} stationId=${id} />
      </div>
      <${Modal} open=${editing} title=${t('stations.edit')} onClose=${() => setEditing(false)}>
        ${editing &&
        html`<${EntityForm} id="station-form" initial=${s} fields=${stationFields(properties)}
          onSave=${async (body) => {
            await api.put(`/admin/stations/${id}`, body);
            notify(t('stations.updated'));
            setEditing(false);
            r.reload();
          }} />`}
      </${Modal}>`}
  </${Page}>`;
}

// The tariff editor (/tariffs): pick a station (GET/PUT /admin/stations/{id}/tariff) or a device
// (GET /admin/devices/{id}/tariff: which level prices it, read only: areas and devices get their
// tariff from the library, /tariff-schemes). Shows the version in force and every saved version with
// its effective_from (scheduled ones marked), and edits the latest saved document with TariffForm.
import { html, useMemo, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtTime } from '../../static/lib/fmt.js';
import { Card, ErrorBox, Input, Link, Page, Select, Table, Tabs, notify, useFetch } from '../../static/lib/ui.js';
import { navigate } from '../../static/lib/router.js';
import { api, can } from '../api.js';
import { TariffForm } from './tariff-form.js';

// Whether a version is in force, scheduled (saved, not yet effective) or past.
function versionState(v, inForce) {
  if (inForce && v.id === inForce.id) return 'in_force';
  if (Date.parse(v.effective_from) > Date.now()) return 'scheduled';
  return 'superseded';
}

export function VersionsTable({ versions, inForce, id = 'tariff-versions' }) {
  const rows = [...(versions || [])].sort((a, b) => b.id - a.id);
  return html`<div id=${id}><${Table} rows=${rows} columns=${[
    { key: 'version', label: t('tariffs.version') },
    { key: 'state', label: t('common.state'), render: (v) => { const st = versionState(v, inForce); return html`<span class=${`badge badge-${st}`}>${t(`tariffs.state_${st}`)}</span>`; } },
    { key: 'level', label: t('tariffs.level'), render: (v) => t(`tariffs.level_${v.level}`) },
    { key: 'name', label: t('tariffs.name'), render: (v) => v.tariff && v.tariff.name },
    { key: 'effective_from', label: t('tariffs.effective_from'), render: (v) => fmtTime(v.effective_from) },
    { key: 'created_at', label: t('tariffs.saved_at'), render: (v) => fmtTime(v.created_at) },
    { key: 'created_by', label: t('tariffs.saved_by') },
    { key: 'scheme_id', label: t('tariffs.scheme'), render: (v) => (v.scheme_id ? html`<${Link} to="/tariff-schemes">#${v.scheme_id}</${Link}>` : '—') },
  ]} /></div>`;
}

function StationTariff({ stationId }) {
  const r = useFetch(`/admin/stations/${stationId}/tariff`);
  const data = r.data;
  // The latest saved version is what the operator edits (it may be scheduled after the one in force).
  const latest = useMemo(() => {
    const vs = (data && data.versions) || [];
    return vs.length ? vs.reduce((a, b) => (b.id > a.id ? b : a)).tariff : null;
  }, [data]);
  async function save(doc) {
    await api.put(`/admin/stations/${stationId}/tariff`, { tariff: doc });
    notify(t('tariffs.saved'));
    await r.reload();
  }
  if (r.error && r.error.status !== 404) return html`<${ErrorBox} error=${r.error} />`;
  const inForce = data && data.in_force;
  return html`<div class="row">
    <${Card} title=${t('tariffs.in_force')}>
      ${inForce
        ? html`<dl class="kv" id="tariff-in-force">
            <dt>${t('tariffs.name')}</dt><dd>${inForce.tariff.name}</dd>
            <dt>${t('tariffs.version')}</dt><dd data-version=${inForce.version}>${inForce.version}</dd>
            <dt>${t('tariffs.effective_from')}</dt><dd>${fmtTime(inForce.effective_from)}</dd>
            <dt>${t('tariffs.modes')}</dt><dd>${inForce.tariff.modes.map((m) => t(`tariffs.mode_${m}`)).join('、')}</dd>
          </dl>`
        : html`<p class="muted">${r.loading ? t('common.loading') : t('tariffs.none')}</p>`}
      <h2>${t('tariffs.versions')}</h2>
      <${VersionsTable} versions=${data && data.versions} inForce=${inForce} />
    </${Card}>
    ${can('tariffs.write') &&
    html`<${Card} title=${t('tariffs.edit')} class="tariff-card">
      <p class="muted">${t('tariffs.edit_hint')}</p>
      ${!r.loading && html`<${TariffForm} value=${latest} onSave=${save} idPrefix="tariff" />`}
    </${Card}>`}
  </div>`;
}

function DeviceTariff({ deviceId }) {
  const r = useFetch(`/admin/devices/${encodeURIComponent(deviceId)}/tariff`);
  const d = r.data;
  return html`<${ErrorBox} error=${r.error} />
    ${d &&
    html`<${Card} title=${t('tariffs.device_tariff', { id: d.device_id })}>
      <dl class="kv" id="device-tariff">
        <dt>${t('tariffs.level')}</dt><dd>${d.level ? t(`tariffs.level_${d.level}`) : '—'}</dd>
        <dt>${t('common.station')}</dt><dd>${d.station_id ? html`<${Link} to=${`/stations/${d.station_id}`}>#${d.station_id}</${Link}>` : '—'}</dd>
        <dt>${t('tariffs.name')}</dt><dd>${d.in_force ? d.in_force.tariff.name : t('tariffs.none')}</dd>
        <dt>${t('tariffs.version')}</dt><dd>${d.in_force ? d.in_force.version : '—'}</dd>
      </dl>
      <p class="muted">${t('tariffs.device_hint')} <${Link} to="/tariff-schemes">${t('nav.tariff_schemes')}</${Link}></p>
      <h2>${t('tariffs.device_versions')}</h2>
      <${VersionsTable} versions=${d.versions} inForce=${d.in_force} id="device-versions" />
    </${Card}>`}`;
}

export function TariffsPage({ query }) {
  const stations = useFetch('/admin/stations');
  const target = query.get('device') ? 'device' : 'station';
  const list = (stations.data && stations.data.stations) || [];
  const stationId = query.get('station') || (list[0] && String(list[0].id)) || '';
  const [device, setDevice] = useState(query.get('device') || '');
  const go = (q) => navigate(`/tariffs?${new URLSearchParams(q)}`);
  return html`<${Page} title=${t('tariffs.title')}>
    <${Tabs} value=${target} onChange=${(v) => go(v === 'device' ? { device: device || 'demo-e00001' } : { station: stationId })}
      tabs=${[{ value: 'station', label: t('tariffs.target_station') }, { value: 'device', label: t('tariffs.target_device') }]} />
    ${target === 'station'
      ? html`<div class="filters">
            <${Select} id="tariff-station" label=${t('common.station')} value=${stationId} onValue=${(v) => go({ station: v })}
              options=${list.map((s) => ({ value: s.id, label: s.name }))} />
          </div>
          ${stationId && html`<${StationTariff} key=${stationId} stationId=${stationId} />`}`
      : html`<form class="filters" role="search" onSubmit=${(e) => {
            e.preventDefault();
            go({ device });
          }}>
            <${Input} id="tariff-device" label=${t('tariffs.device_id')} value=${device} onValue=${setDevice} />
            <div class="field field-button"><button type="submit">${t('common.search')}</button></div>
          </form>
          <${DeviceTariff} key=${query.get('device')} deviceId=${query.get('device')} />`}
  </${Page}>`;
}

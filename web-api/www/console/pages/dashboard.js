// Seed 001's home page: today's and cumulative figures, 7-day charts and the top riders, for every
// station in the operator's scope or one of them (GET /admin/dashboard).
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtDuration, fmtEnergy, fmtMoney, fenToYuanText } from '../../static/lib/fmt.js';
import { Card, ErrorBox, Page, Select, Stat, Table, useFetch } from '../../static/lib/ui.js';
import { Chart } from '../../static/lib/charts.js';

// The figures of one period, in the order of seed 001.
const FIGURES = [
  ['recharge', 'recharge_fen', fmtMoney],
  ['bonus', 'bonus_given_fen', fmtMoney],
  ['charge', 'charge_fen', fmtMoney],
  ['refund', 'refund_fen', fmtMoney],
  ['card_fee', 'card_fee_fen', fmtMoney],
  ['parking', 'parking_fen', fmtMoney],
  ['energy', 'energy_wh', fmtEnergy],
  ['sessions', 'sessions', String],
  ['charging_time', 'charging_s', fmtDuration],
  ['new_accounts', 'new_accounts', String],
];

function Figures({ id, title, f }) {
  return html`<${Card} title=${title} class="figures">
    <div class="stats" id=${id}>
      ${FIGURES.map(([label, key, fmt]) => html`<${Stat} id=${key} label=${t(`dashboard.${label}`)} value=${fmt(f[key])} />`)}
    </div>
  </${Card}>`;
}

// E-bikes and cars apart (by_kind): revenue, energy, sessions and time, today and all time.
function ByKind({ byKind }) {
  const rows = [];
  for (const kind of ['ebike', 'ev'])
    for (const period of ['today', 'total']) rows.push({ id: `${kind}-${period}`, kind, period, ...byKind[period][kind] });
  return html`<${Card} title=${t('dashboard.by_kind')}>
    <div id="by-kind"><${Table} rows=${rows}
      columns=${[
        { key: 'kind', label: t('common.kind'), render: (r) => t(`common.${r.kind}`) },
        { key: 'period', label: t('dashboard.period'), render: (r) => t(`dashboard.${r.period}`) },
        { key: 'charge_fen', label: t('dashboard.charge'), class: 'num', render: (r) => fmtMoney(r.charge_fen) },
        { key: 'energy_wh', label: t('dashboard.energy'), class: 'num', render: (r) => fmtEnergy(r.energy_wh) },
        { key: 'sessions', label: t('dashboard.sessions'), class: 'num' },
        { key: 'charging_s', label: t('dashboard.charging_time'), class: 'num', render: (r) => fmtDuration(r.charging_s) },
      ]} /></div>
  </${Card}>`;
}

// Energy per day in kWh for the chart axis (Wh / 1000: a measurement, not money).
const kwh = (wh) => Math.round(wh / 10) / 100;
// Yuan for the chart axis, from the exact decimal text.
const yuan = (fen) => Number(fenToYuanText(fen));

export function DashboardPage() {
  const [station, setStation] = useState('');
  const stations = useFetch('/admin/stations', { limit: 500 });
  const d = useFetch('/admin/dashboard', { station_id: station });
  const data = d.data;
  const stationOptions = [
    { value: '', label: t('common.all_stations') },
    ...((stations.data && stations.data.stations) || []).map((s) => ({ value: s.id, label: s.name })),
  ];
  const labels = data ? data.series.map((x) => x.date.slice(5)) : [];
  return html`<${Page} title=${t('dashboard.title')}
      actions=${html`<${Select} id="dashboard-station" label=${t('common.station')} value=${station}
        onValue=${setStation} options=${stationOptions} />`}>
    <${ErrorBox} error=${d.error} />
    ${data &&
    html`<p class="muted" id="dashboard-date">${data.date} · ${data.timezone}</p>
      <${Figures} id="figures-today" title=${t('dashboard.today')} f=${data.today} />
      <${Figures} id="figures-total" title=${t('dashboard.total')} f=${data.total} />
      ${data.by_kind && html`<${ByKind} byKind=${data.by_kind} />`}
      <div class="grid-2">
        <${Card} title=${t('dashboard.series_money')}>
          <${Chart} kind="bar" labels=${labels} label=${t('dashboard.series_money')}
            series=${[
              { label: t('dashboard.recharge'), data: data.series.map((x) => yuan(x.recharge_fen)) },
              { label: t('dashboard.charge'), data: data.series.map((x) => yuan(x.charge_fen)) },
            ]} />
        </${Card}>
        <${Card} title=${t('dashboard.series_energy')}>
          <${Chart} kind="line" labels=${labels} label=${t('dashboard.series_energy')}
            series=${[{ label: t('dashboard.energy'), data: data.series.map((x) => kwh(x.energy_wh)) }]} />
        </${Card}>
        <${Card} title=${t('dashboard.series_sessions')}>
          <${Chart} kind="bar" labels=${labels} label=${t('dashboard.series_sessions')}
            series=${[{ label: t('dashboard.sessions'), data: data.series.map((x) => x.sessions) }]} />
        </${Card}>
      </div>
      <${Card} title=${t('dashboard.top_riders')}>
          <${Table} rowKey="account_id" rows=${data.top_riders.map((r, i) => ({ ...r, rank: i + 1 }))}
            columns=${[
              { key: 'rank', label: t('dashboard.rank') },
              { key: 'phone', label: t('common.phone') },
              { key: 'name', label: t('common.name') },
              { key: 'spent_fen', label: t('dashboard.spent'), class: 'num', render: (r) => fmtMoney(r.spent_fen) },
              { key: 'sessions', label: t('dashboard.sessions'), class: 'num' },
              { key: 'energy_wh', label: t('dashboard.energy'), class: 'num', render: (r) => fmtEnergy(r.energy_wh) },
            ]} />
      </${Card}>`}
  </${Page}>`;
}

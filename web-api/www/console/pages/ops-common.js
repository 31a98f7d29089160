// Small pieces shared by the parking, alerts and firmware pages: the station select (GET
// /admin/stations) and a state word as a badge with its text from one area's dictionary.
import { html } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { Select, useFetch } from '../../static/lib/ui.js';

// The stations in the operator's scope: [{id, name}] (empty while loading).
export function useStations() {
  const st = useFetch('/admin/stations', { limit: 500 });
  return (st.data && st.data.stations) || [];
}

// A station select; `all` adds the "every station" choice (value '').
export function StationSelect({ id, value, onValue, stations, all = true, label }) {
  const options = [
    ...(all ? [{ value: '', label: t('common.all_stations') }] : []),
    ...stations.map((s) => ({ value: String(s.id), label: s.name })),
  ];
  return html`<${Select} id=${id} label=${label || t('common.station')} value=${value} onValue=${onValue} options=${options} />`;
}

// A state word as a coloured badge, its text `<dict>.<word>` (the raw word when unknown).
export function Word({ dict, value }) {
  if (value === null || value === undefined || value === '') return '—';
  const key = `${dict}.${value}`;
  const text = t(key);
  return html`<span class=${`badge badge-${String(value).replace(/[^a-z_]/gi, '')}`} data-word=${value}>${text === key ? value : text}</span>`;
}

// Select options of a list of words, their text `<dict>.<word>`, led by "all".
export function wordOptions(dict, words) {
  return [{ value: '', label: t('common.all') }, ...words.map((w) => ({ value: w, label: t(`${dict}.${w}`) }))];
}

// What the orders, monitoring, staff and service pages share: filters typed into a draft and
// applied with the search button, the station options of the operator's scope, the from/to dates,
// and a small action dialog.
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { Form, Input, Modal, Select, useFetch } from '../../static/lib/ui.js';

// Filters: `draft` follows the inputs, `query` is what the list loads (set by apply()).
export function useFilters(initial) {
  const [draft, setDraft] = useState(initial);
  const [query, setQuery] = useState(initial);
  const set = (key) => (v) => setDraft((d) => ({ ...d, [key]: v }));
  return { draft, query, set, apply: (over) => setQuery({ ...draft, ...(over || {}) }) };
}

// The stations in the operator's scope as select options, "all stations" first.
export function useStationOptions() {
  const st = useFetch('/admin/stations', { limit: 500 });
  const stations = (st.data && st.data.stations) || [];
  return {
    stations,
    options: [{ value: '', label: t('common.all_stations') }, ...stations.map((s) => ({ value: s.id, label: s.name }))],
    name: (id) => stations.find((s) => s.id === id)?.name ?? (id ?? '—'),
  };
}

// A select of words (value '' = all), each word's label from `prefix.word`.
export function WordSelect({ id, label, value, onValue, words, prefix }) {
  return html`<${Select} id=${id} label=${label} value=${value} onValue=${onValue}
    options=${[{ value: '', label: t('common.all') }, ...words.map((w) => ({ value: w, label: t(`${prefix}.${w}`) }))]} />`;
}

// From / to date inputs of a list's filters.
export function DateRange({ f, idPrefix }) {
  return html`<${Input} id=${`${idPrefix}-from`} type="date" label=${t('common.from')} value=${f.draft.from} onValue=${f.set('from')} />
    <${Input} id=${`${idPrefix}-to`} type="date" label=${t('common.to')} value=${f.draft.to} onValue=${f.set('to')} />`;
}

// A dialog holding one form (the caller's fields as children); closes itself after onSubmit succeeds
// (onSubmit returns a truthy value).
export function ActionDialog({ open, title, submitLabel, onSubmit, onClose, children, id = 'action-form' }) {
  return html`<${Modal} open=${open} title=${title || ''} onClose=${onClose}>
    <${Form} id=${id} submitLabel=${submitLabel || t('common.confirm')} onSubmit=${async () => {
      if (await onSubmit()) onClose();
    }}>${children}</${Form}>
  </${Modal}>`;
}

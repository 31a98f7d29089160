// The shared components of both web UIs. Every input has a <label>; everything clickable is a
// <button> or a link, so the console works with the keyboard.
import { html, useCallback, useEffect, useRef, useState } from './preact.js';
import { LANGS, has, setLang, t, useLang } from './i18n.js';
import { fmtMoney, fmtTime } from './fmt.js';

// The API client of the page (console/api.js or h5/api.js), set once by its main.js.
let client = null;
export function setApi(api) {
  client = api;
}

let nextId = 0;
const uid = (p) => `${p}-${++nextId}`;

// ---- notices --------------------------------------------------------------------------------

const noticeListeners = new Set();
// Shows a short message at the top of the page (kind: 'ok' | 'error').
export function notify(text, kind = 'ok') {
  for (const f of noticeListeners) f({ text, kind, at: Date.now() });
}
export function Notices() {
  const [items, setItems] = useState([]);
  useEffect(() => {
    const on = (n) => {
      setItems((xs) => [...xs.slice(-3), n]);
      setTimeout(() => setItems((xs) => xs.filter((x) => x !== n)), n.kind === 'error' ? 8000 : 4000);
    };
    noticeListeners.add(on);
    return () => noticeListeners.delete(on);
  }, []);
  return html`<div class="notices" role="status" aria-live="polite">
    ${items.map((n) => html`<div class=${`notice notice-${n.kind}`}>${n.text}</div>`)}
  </div>`;
}

// The text of an API error in the current language: errors.<code>, then the API's message.
export function errorText(e) {
  if (!e) return '';
  if (e.code && has(`errors.${e.code}`)) {
    const base = t(`errors.${e.code}`);
    return e.message && e.code !== 'internal' ? `${base}: ${e.message}` : base;
  }
  return e.message || String(e);
}
export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<div class="error-box" role="alert">${errorText(error)}</div>`;
}

// Runs an async action, reporting success (okText) or the error as a notice; returns its result.
export async function act(fn, okText) {
  try {
    const r = await fn();
    if (okText) notify(okText, 'ok');
    return r;
  } catch (e) {
    notify(errorText(e), 'error');
    return undefined;
  }
}

// ---- layout ---------------------------------------------------------------------------------

export function Page({ title, actions, children }) {
  useEffect(() => {
    document.title = `${title} · PileHub`;
  }, [title]);
  return html`<section class="page">
    <header class="page-head">
      <h1>${title}</h1>
      <div class="page-actions">${actions}</div>
    </header>
    ${children}
  </section>`;
}

export function Card({ title, children, class: cls }) {
  return html`<section class=${`card ${cls || ''}`}>
    ${title && html`<h2>${title}</h2>`} ${children}
  </section>`;
}

// A figure: label over value.
export function Stat({ label, value, id }) {
  return html`<div class="stat" data-stat=${id}>
    <div class="stat-label">${label}</div>
    <div class="stat-value">${value}</div>
  </div>`;
}

// Tabs as buttons with aria-selected.
export function Tabs({ tabs, value, onChange }) {
  return html`<div class="tabs" role="tablist">
    ${tabs.map(
      (tb) => html`<button type="button" role="tab" aria-selected=${tb.value === value}
        class=${tb.value === value ? 'tab active' : 'tab'} onClick=${() => onChange(tb.value)}>${tb.label}</button>`,
    )}
  </div>`;
}

// ---- forms ----------------------------------------------------------------------------------

// <label> + <input>. onValue gets the text.
export function Input({ label, value, onValue, type = 'text', id, required, placeholder, autocomplete, min, max, step, disabled, inputmode, name }) {
  const own = useRef(uid('in'));
  const fid = id || own.current;
  return html`<div class="field">
    <label for=${fid}>${label}</label>
    <input id=${fid} name=${name} type=${type} value=${value ?? ''} required=${required}
      placeholder=${placeholder} autocomplete=${autocomplete} min=${min} max=${max} step=${step}
      disabled=${disabled} inputmode=${inputmode} onInput=${(e) => onValue(e.currentTarget.value)} />
  </div>`;
}

export function TextArea({ label, value, onValue, id, rows = 3 }) {
  const own = useRef(uid('ta'));
  const fid = id || own.current;
  return html`<div class="field">
    <label for=${fid}>${label}</label>
    <textarea id=${fid} rows=${rows} value=${value ?? ''} onInput=${(e) => onValue(e.currentTarget.value)}></textarea>
  </div>`;
}

// options: [{value, label}] or strings.
export function Select({ label, value, onValue, options, id, disabled }) {
  const own = useRef(uid('sel'));
  const fid = id || own.current;
  return html`<div class="field">
    <label for=${fid}>${label}</label>
    <select id=${fid} value=${value ?? ''} disabled=${disabled} onChange=${(e) => onValue(e.currentTarget.value)}>
      ${options.map((o) => {
        const v = typeof o === 'object' ? o.value : o;
        const l = typeof o === 'object' ? o.label : o;
        return html`<option value=${v} selected=${String(v) === String(value ?? '')}>${l}</option>`;
      })}
    </select>
  </div>`;
}

export function Checkbox({ label, checked, onValue, id }) {
  const own = useRef(uid('cb'));
  const fid = id || own.current;
  return html`<div class="field field-check">
    <input id=${fid} type="checkbox" checked=${!!checked} onChange=${(e) => onValue(e.currentTarget.checked)} />
    <label for=${fid}>${label}</label>
  </div>`;
}

// A form that calls onSubmit (async) and disables its button meanwhile.
export function Form({ onSubmit, submitLabel, children, id, class: cls }) {
  const [busy, setBusy] = useState(false);
  return html`<form id=${id} class=${`form ${cls || ''}`} onSubmit=${async (e) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    try {
      await onSubmit();
    } finally {
      setBusy(false);
    }
  }}>
    ${children}
    <div class="form-actions"><button type="submit" class="primary" disabled=${busy}>${submitLabel}</button></div>
  </form>`;
}

// A modal <dialog>: open/close follow `open`.
export function Modal({ open, title, onClose, children }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return html`<dialog ref=${ref} class="modal" onClose=${onClose} aria-label=${title}>
    <header class="modal-head"><h2>${title}</h2>
      <button type="button" class="link" onClick=${onClose} aria-label=${t('common.close')}>×</button></header>
    ${open && children}
  </dialog>`;
}

// ---- lists ----------------------------------------------------------------------------------

// columns: [{key, label, render?(row), class?}]; rows: objects; rowKey: field name.
export function Table({ columns, rows, rowKey = 'id', empty, caption, onRow }) {
  return html`<div class="table-wrap"><table>
    ${caption && html`<caption>${caption}</caption>`}
    <thead><tr>${columns.map((c) => html`<th scope="col" class=${c.class}>${c.label}</th>`)}</tr></thead>
    <tbody>
      ${rows && rows.length
        ? rows.map(
            (r, i) => html`<tr key=${r[rowKey] ?? i} data-row=${r[rowKey]} class=${onRow ? 'clickable' : ''}>
              ${columns.map((c) => html`<td class=${c.class}>${c.render ? c.render(r) : fmtCell(r[c.key])}</td>`)}
            </tr>`,
          )
        : html`<tr><td colspan=${columns.length} class="empty">${empty || t('common.empty')}</td></tr>`}
    </tbody>
  </table></div>`;
}

function fmtCell(v) {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? t('common.yes') : t('common.no');
  return String(v);
}

// Money and time columns.
export const money = (key, label) => ({ key, label, class: 'num', render: (r) => fmtMoney(r[key]) });
export const time = (key, label) => ({ key, label, render: (r) => fmtTime(r[key]) });

// Previous / next over `limit`-sized pages (the API's lists take limit and offset).
export function Pager({ offset, limit, count, onOffset }) {
  const page = Math.floor(offset / limit) + 1;
  return html`<nav class="pager" aria-label=${t('common.pages')}>
    <button type="button" disabled=${offset === 0} onClick=${() => onOffset(Math.max(0, offset - limit))}>${t('common.prev')}</button>
    <span>${t('common.page', { n: page })}</span>
    <button type="button" disabled=${count < limit} onClick=${() => onOffset(offset + limit)}>${t('common.next')}</button>
  </nav>`;
}

// Loads one page of a list route: GET path?query&limit&offset, rows under `key` of the reply.
// Returns {rows, reply, error, loading, offset, setOffset, reload}.
export function useList(path, key, query = {}, limit = 20) {
  const [offset, setOffset] = useState(0);
  const [state, setState] = useState({ rows: [], reply: null, error: null, loading: true });
  const q = JSON.stringify(query);
  const seq = useRef(0);
  const load = useCallback(async () => {
    const mine = ++seq.current; // an answer to an older request (other filters, page) is dropped
    setState((s) => ({ ...s, loading: true }));
    try {
      const reply = await client.get(path, { ...query, limit, offset });
      if (mine === seq.current) setState({ rows: reply[key] || [], reply, error: null, loading: false });
    } catch (e) {
      if (mine === seq.current) setState({ rows: [], reply: null, error: e, loading: false });
    }
  }, [path, q, offset, limit]);
  useEffect(() => {
    load();
  }, [load]);
  useEffect(() => setOffset(0), [path, q]);
  return { ...state, offset, limit, setOffset, reload: load };
}

// Loads one GET route (none while `path` is empty); {data, error, loading, reload}.
export function useFetch(path, query) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const q = JSON.stringify(query || {});
  const seq = useRef(0);
  const load = useCallback(async () => {
    if (!path) return;
    const mine = ++seq.current; // an answer to an older request is dropped
    try {
      const data = await client.get(path, query);
      if (mine === seq.current) setState({ data, error: null, loading: false });
    } catch (e) {
      if (mine === seq.current) setState({ data: null, error: e, loading: false });
    }
  }, [path, q]);
  useEffect(() => {
    load();
  }, [load]);
  return { ...state, reload: load };
}

// A list page's frame: filters (a form submitted with Enter or the search button), the table,
// the pager and the list's exports.
export function ListView({ list, columns, filters, exportPath, exportQuery, exportName, rowKey, empty, onSearch }) {
  return html`<div class="list-view">
    ${filters &&
    html`<form class="filters" role="search" onSubmit=${(e) => {
      e.preventDefault();
      onSearch && onSearch();
    }}>
      ${filters}
      ${onSearch && html`<div class="field field-button"><button type="submit">${t('common.search')}</button></div>`}
    </form>`}
    ${exportPath && html`<${ExportButtons} path=${exportPath} query=${exportQuery} name=${exportName} />`}
    <${ErrorBox} error=${list.error} />
    <${Table} columns=${columns} rows=${list.rows} rowKey=${rowKey} empty=${list.loading ? t('common.loading') : empty} />
    <${Pager} offset=${list.offset} limit=${list.limit} count=${list.rows.length} onOffset=${list.setOffset} />
  </div>`;
}

// CSV / XLSX downloads of an export route with the list's filters.
export function ExportButtons({ path, query, name }) {
  return html`<div class="exports">
    ${['csv', 'xlsx'].map(
      (f) => html`<button type="button" onClick=${() =>
        act(() => client.download(path, { ...(query || {}), format: f }, `${name || 'export'}.${f}`))}>
        ${t('common.export')} ${f.toUpperCase()}</button>`,
    )}
  </div>`;
}

// A state word as a coloured badge (the word's text from states.<word>).
export function Badge({ value }) {
  if (value === null || value === undefined) return '—';
  const text = has(`states.${value}`) ? t(`states.${value}`) : String(value);
  return html`<span class=${`badge badge-${String(value).replace(/[^a-z_]/gi, '')}`}>${text}</span>`;
}

// A link in the hash router.
export function Link({ to, children, class: cls }) {
  return html`<a href=${`#${to}`} class=${cls}>${children}</a>`;
}

// The language switch (zh-CN / English), remembered in localStorage.
export function LangSwitch({ id = 'lang-switch' }) {
  const l = useLang();
  return html`<div class="lang-switch">
    <label for=${id}>${t('common.language')}</label>
    <select id=${id} value=${l} onChange=${(e) => setLang(e.currentTarget.value)}>
      ${LANGS.map((x) => html`<option value=${x.code} selected=${x.code === l}>${x.label}</option>`)}
    </select>
  </div>`;
}

// Customer service (seeds 003 §3.6.4-5, 004 故障管理): riders' fault reports (assign, resolve,
// reject), the service desk's call records (create, correct) and repair records (create, finish),
// each with its filters, paging and export (routes_service.cpp).
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtTime } from '../../static/lib/fmt.js';
import { Badge, Input, Link, ListView, Page, Select, Tabs, TextArea, act, useList } from '../../static/lib/ui.js';
import { api, can, operator } from '../api.js';
import { ActionDialog, DateRange, WordSelect, useFilters, useStationOptions } from './listkit.js';

const REPORT_STATES = ['pending', 'open', 'assigned', 'resolved', 'rejected'];
const CALL_CATEGORIES = ['fault', 'billing', 'account', 'consultation', 'complaint', 'other'];
const OUTCOMES = ['fixed', 'replaced', 'unrepairable', 'no_fault_found'];
const reportState = (s) => t(`service.state_${s}`);
const trim = (q) => Object.fromEntries(Object.entries(q).map(([k, v]) => [k, typeof v === 'string' ? v.trim() : v]));
// Optional number members: '' is left out.
const optInt = (v) => (String(v ?? '').trim() === '' ? undefined : Number(v));

// ---- fault reports ----------------------------------------------------------------------------

function ReportAction({ dialog, onClose, onDone }) {
  const { kind, report } = dialog;
  const [text, setText] = useState(kind === 'assign' ? report.assignee || operator()?.username || '' : '');
  const field = { assign: 'admin', resolve: 'resolution', reject: 'reason' }[kind];
  return html`<${ActionDialog} id="report-action-form" open=${true} onClose=${onClose}
      title=${t(`service.${kind}_title`, { id: report.id })} submitLabel=${t(`service.${kind}`)}
      onSubmit=${async () => {
        const r = await act(() => api.post(`/admin/fault-reports/${report.id}/${kind}`, { [field]: text.trim() }), t('common.saved'));
        if (r) onDone();
        return !!r;
      }}>
    <p class="muted">${report.socket}: ${report.text}</p>
    ${kind === 'assign'
      ? html`<${Input} id="report-assignee" label=${t('service.assignee')} value=${text} onValue=${setText} required />`
      : html`<${TextArea} id="report-text" label=${t(`service.${kind}_text`)} value=${text} onValue=${setText} />`}
  </${ActionDialog}>`;
}

function Reports({ st }) {
  const f = useFilters({ state: '', station_id: '', device: '', phone: '', from: '', to: '' });
  const q = trim(f.query);
  const list = useList('/admin/fault-reports', 'reports', q, 20);
  const [dialog, setDialog] = useState(null);
  const write = can('service.write');
  const pending = (r) => r.state === 'open' || r.state === 'assigned';
  const button = (r, kind) => html`<button type="button" class="link" data-action=${kind} onClick=${() => setDialog({ kind, report: r })}>${t(`service.${kind}`)}</button>`;
  return html`
    <${ListView} list=${list} onSearch=${() => f.apply()} exportPath="/admin/exports/fault-reports" exportQuery=${q} exportName="fault-reports"
      filters=${html`<${WordSelect} id="reports-state" label=${t('common.state')} value=${f.draft.state} onValue=${f.set('state')} words=${REPORT_STATES} prefix="service.state" />
        <${Select} id="reports-station" label=${t('common.station')} value=${f.draft.station_id} onValue=${f.set('station_id')} options=${st.options} />
        <${Input} id="reports-device" label=${t('service.device')} value=${f.draft.device} onValue=${f.set('device')} />
        <${Input} id="reports-phone" label=${t('common.phone')} value=${f.draft.phone} onValue=${f.set('phone')} />
        <${DateRange} f=${f} idPrefix="reports" />`}
      columns=${[
        { key: 'id', label: t('service.id'), class: 'num' },
        { key: 'created_at', label: t('service.reported_at'), render: (r) => fmtTime(r.created_at) },
        { key: 'state', label: t('common.state'), render: (r) => html`<span class=${`badge badge-${r.state}`} data-state=${r.state}>${reportState(r.state)}</span>` },
        { key: 'socket', label: t('service.socket') },
        { key: 'category', label: t('service.category'), render: (r) => t(`service.cat_${r.category}`) },
        { key: 'text', label: t('service.text') },
        { key: 'phone', label: t('common.phone') },
        { key: 'session_id', label: t('service.session'), render: (r) => (r.session_id ? html`<${Link} to=${`/sessions/${r.session_id}`}>${r.session_id}</${Link}>` : '—') },
        { key: 'assignee', label: t('service.assignee') },
        { key: 'resolution', label: t('service.resolution') },
        { key: 'resolved_at', label: t('service.resolved_at'), render: (r) => fmtTime(r.resolved_at) },
        ...(write ? [{ key: 'actions', label: t('common.actions'), render: (r) => (pending(r) ? html`${button(r, 'assign')} ${button(r, 'resolve')} ${button(r, 'reject')}` : '—') }] : []),
      ]} />
    ${dialog && html`<${ReportAction} dialog=${dialog} onClose=${() => setDialog(null)} onDone=${list.reload} />`}`;
}

// ---- call records -----------------------------------------------------------------------------

function CallDialog({ call, st, onClose, onDone }) {
  const [v, setV] = useState({
    caller_phone: call?.caller_phone || '', caller_name: call?.caller_name || '', account_id: call?.account_id ?? '',
    category: call?.category || 'consultation', summary: call?.summary || '', station_id: call?.station_id ?? '',
    fault_report_id: call?.fault_report_id ?? '',
  });
  const set = (k) => (x) => setV({ ...v, [k]: x });
  return html`<${ActionDialog} id="call-form" open=${true} onClose=${onClose} submitLabel=${t('common.save')}
      title=${call ? t('service.call_edit', { id: call.id }) : t('service.call_create')}
      onSubmit=${async () => {
        const body = {
          caller_phone: v.caller_phone.trim(), caller_name: v.caller_name.trim(), category: v.category, summary: v.summary.trim(),
          account_id: optInt(v.account_id), fault_report_id: optInt(v.fault_report_id),
        };
        if (call) {
          if (body.account_id === undefined) body.account_id = null;
          if (body.fault_report_id === undefined) body.fault_report_id = null;
        } else body.station_id = optInt(v.station_id);
        const r = await act(() => (call ? api.put(`/admin/service-calls/${call.id}`, body) : api.post('/admin/service-calls', body)), t('common.saved'));
        if (r) onDone();
        return !!r;
      }}>
    <${Input} id="call-phone" label=${t('service.caller_phone')} value=${v.caller_phone} onValue=${set('caller_phone')} required />
    <${Input} id="call-name" label=${t('service.caller_name')} value=${v.caller_name} onValue=${set('caller_name')} />
    <${Input} id="call-account" label=${t('service.account_id')} value=${v.account_id} onValue=${set('account_id')} inputmode="numeric" />
    <${Select} id="call-category" label=${t('service.category')} value=${v.category} onValue=${set('category')}
      options=${CALL_CATEGORIES.map((c) => ({ value: c, label: t(`service.call_cat_${c}`) }))} />
    ${!call && html`<${Select} id="call-station" label=${t('common.station')} value=${v.station_id} onValue=${set('station_id')}
      options=${[{ value: '', label: '—' }, ...st.stations.map((s) => ({ value: s.id, label: s.name }))]} />`}
    <${Input} id="call-report" label=${t('service.fault_report_id')} value=${v.fault_report_id} onValue=${set('fault_report_id')} inputmode="numeric" />
    <${TextArea} id="call-summary" label=${t('service.summary')} value=${v.summary} onValue=${set('summary')} />
  </${ActionDialog}>`;
}

function Calls({ st }) {
  const f = useFilters({ station_id: '', phone: '', handled_by: '', category: '', from: '', to: '' });
  const q = trim(f.query);
  const list = useList('/admin/service-calls', 'calls', q, 20);
  const [dialog, setDialog] = useState(null);
  const write = can('service.write');
  return html`
    ${write && html`<p><button type="button" class="primary" id="call-new" onClick=${() => setDialog({ call: null })}>${t('service.call_create')}</button></p>`}
    <${ListView} list=${list} onSearch=${() => f.apply()} exportPath="/admin/exports/service-calls" exportQuery=${q} exportName="service-calls"
      filters=${html`<${Select} id="calls-station" label=${t('common.station')} value=${f.draft.station_id} onValue=${f.set('station_id')} options=${st.options} />
        <${Input} id="calls-phone" label=${t('service.caller_phone')} value=${f.draft.phone} onValue=${f.set('phone')} />
        <${Input} id="calls-handled-by" label=${t('service.handled_by')} value=${f.draft.handled_by} onValue=${f.set('handled_by')} />
        <${WordSelect} id="calls-category" label=${t('service.category')} value=${f.draft.category} onValue=${f.set('category')} words=${CALL_CATEGORIES} prefix="service.call_cat" />
        <${DateRange} f=${f} idPrefix="calls" />`}
      columns=${[
        { key: 'id', label: t('service.id'), class: 'num' },
        { key: 'called_at', label: t('service.called_at'), render: (r) => fmtTime(r.called_at) },
        { key: 'caller_phone', label: t('service.caller_phone') },
        { key: 'caller_name', label: t('service.caller_name') },
        { key: 'category', label: t('service.category'), render: (r) => t(`service.call_cat_${r.category}`) },
        { key: 'summary', label: t('service.summary') },
        { key: 'station_id', label: t('common.station'), render: (r) => (r.station_id ? st.name(r.station_id) : '—') },
        { key: 'fault_report_id', label: t('service.fault_report_id'), class: 'num' },
        { key: 'handled_by', label: t('service.handled_by') },
        ...(write ? [{ key: 'actions', label: t('common.actions'), render: (r) => html`<button type="button" class="link" data-action="edit" onClick=${() => setDialog({ call: r })}>${t('service.edit')}</button>` }] : []),
      ]} />
    ${dialog && html`<${CallDialog} call=${dialog.call} st=${st} onClose=${() => setDialog(null)} onDone=${list.reload} />`}`;
}

// ---- repair records ---------------------------------------------------------------------------

function RepairDialog({ onClose, onDone }) {
  const [v, setV] = useState({ device_id: '', n: '', fault_report_id: '', description: '', parts: '', technician: operator()?.username || '', technician_phone: '' });
  const set = (k) => (x) => setV({ ...v, [k]: x });
  return html`<${ActionDialog} id="repair-form" open=${true} onClose=${onClose} title=${t('service.repair_create')} submitLabel=${t('common.save')}
      onSubmit=${async () => {
        const body = {
          device_id: v.device_id.trim(), n: optInt(v.n), fault_report_id: optInt(v.fault_report_id), description: v.description.trim(),
          parts: v.parts.trim() || undefined, technician: v.technician.trim(), technician_phone: v.technician_phone.trim() || undefined,
        };
        const r = await act(() => api.post('/admin/repairs', body), t('common.saved'));
        if (r) onDone();
        return !!r;
      }}>
    <${Input} id="repair-device" label=${t('service.device')} value=${v.device_id} onValue=${set('device_id')} required />
    <${Input} id="repair-n" label=${t('service.n')} value=${v.n} onValue=${set('n')} inputmode="numeric" />
    <${Input} id="repair-report" label=${t('service.fault_report_id')} value=${v.fault_report_id} onValue=${set('fault_report_id')} inputmode="numeric" />
    <${TextArea} id="repair-description" label=${t('service.description')} value=${v.description} onValue=${set('description')} />
    <${Input} id="repair-parts" label=${t('service.parts')} value=${v.parts} onValue=${set('parts')} />
    <${Input} id="repair-technician" label=${t('service.technician')} value=${v.technician} onValue=${set('technician')} required />
    <${Input} id="repair-technician-phone" label=${t('service.technician_phone')} value=${v.technician_phone} onValue=${set('technician_phone')} />
  </${ActionDialog}>`;
}

function FinishDialog({ repair, onClose, onDone }) {
  const [outcome, setOutcome] = useState('fixed');
  const [parts, setParts] = useState(repair.parts || '');
  return html`<${ActionDialog} id="finish-form" open=${true} onClose=${onClose} title=${t('service.finish_title', { id: repair.id })} submitLabel=${t('service.finish')}
      onSubmit=${async () => {
        const r = await act(() => api.put(`/admin/repairs/${repair.id}`, { outcome, parts: parts.trim() || undefined }), t('common.saved'));
        if (r) onDone();
        return !!r;
      }}>
    <${Select} id="finish-outcome" label=${t('service.outcome')} value=${outcome} onValue=${setOutcome}
      options=${OUTCOMES.map((o) => ({ value: o, label: t(`service.outcome_${o}`) }))} />
    <${Input} id="finish-parts" label=${t('service.parts')} value=${parts} onValue=${setParts} />
  </${ActionDialog}>`;
}

function Repairs({ st }) {
  const f = useFilters({ station_id: '', device: '', technician: '', state: '', from: '', to: '' });
  const q = trim(f.query);
  const list = useList('/admin/repairs', 'repairs', q, 20);
  const [dialog, setDialog] = useState(null); // {kind: 'new'} | {kind: 'finish', repair}
  const write = can('service.write');
  const close = () => setDialog(null);
  return html`
    ${write && html`<p><button type="button" class="primary" id="repair-new" onClick=${() => setDialog({ kind: 'new' })}>${t('service.repair_create')}</button></p>`}
    <${ListView} list=${list} onSearch=${() => f.apply()} exportPath="/admin/exports/repairs" exportQuery=${q} exportName="repairs"
      filters=${html`<${Select} id="repairs-station" label=${t('common.station')} value=${f.draft.station_id} onValue=${f.set('station_id')} options=${st.options} />
        <${Input} id="repairs-device" label=${t('service.device')} value=${f.draft.device} onValue=${f.set('device')} />
        <${Input} id="repairs-technician" label=${t('service.technician')} value=${f.draft.technician} onValue=${f.set('technician')} />
        <${WordSelect} id="repairs-state" label=${t('common.state')} value=${f.draft.state} onValue=${f.set('state')} words=${['open', 'finished']} prefix="service.repair_state" />
        <${DateRange} f=${f} idPrefix="repairs" />`}
      columns=${[
        { key: 'id', label: t('service.id'), class: 'num' },
        { key: 'started_at', label: t('service.started_at'), render: (r) => fmtTime(r.started_at) },
        { key: 'device_id', label: t('service.device'), render: (r) => `${r.device_id}${r.n ? ` #${r.n}` : ''}` },
        { key: 'station_id', label: t('common.station'), render: (r) => st.name(r.station_id) },
        { key: 'description', label: t('service.description') },
        { key: 'parts', label: t('service.parts') },
        { key: 'technician', label: t('service.technician') },
        { key: 'fault_report_id', label: t('service.fault_report_id'), class: 'num' },
        { key: 'finished_at', label: t('service.finished_at'), render: (r) => (r.finished_at ? fmtTime(r.finished_at) : html`<${Badge} value="open" />`) },
        { key: 'outcome', label: t('service.outcome'), render: (r) => (r.outcome ? t(`service.outcome_${r.outcome}`) : '—') },
        ...(write ? [{ key: 'actions', label: t('common.actions'), render: (r) => (r.finished_at ? '—' : html`<button type="button" class="link" data-action="finish" onClick=${() => setDialog({ kind: 'finish', repair: r })}>${t('service.finish')}</button>`) }] : []),
      ]} />
    ${dialog?.kind === 'new' && html`<${RepairDialog} onClose=${close} onDone=${list.reload} />`}
    ${dialog?.kind === 'finish' && html`<${FinishDialog} repair=${dialog.repair} onClose=${close} onDone=${list.reload} />`}`;
}

export function ServicePage({ query }) {
  const [tab, setTab] = useState(query?.get('tab') || 'reports');
  const st = useStationOptions();
  const Body = { reports: Reports, calls: Calls, repairs: Repairs }[tab] || Reports;
  return html`<${Page} title=${t('service.title')}>
    <${Tabs} value=${tab} onChange=${setTab} tabs=${['reports', 'calls', 'repairs'].map((x) => ({ value: x, label: t(`service.tab_${x}`) }))} />
    <${Body} key=${tab} st=${st} />
  </${Page}>`;
}

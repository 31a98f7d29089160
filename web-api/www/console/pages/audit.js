// The audit log (GET /admin/audit-log, audit.read): every operator change and login, who, when,
// which route, with its target and status.
import { html } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtTime } from '../../static/lib/fmt.js';
import { Input, ListView, Page, useList } from '../../static/lib/ui.js';
import { DateRange, useFilters } from './listkit.js';

export function AuditPage() {
  const f = useFilters({ username: '', action: '', from: '', to: '' });
  const q = { ...f.query, username: f.query.username.trim(), action: f.query.action.trim() };
  const list = useList('/admin/audit-log', 'entries', q, 50);
  return html`<${Page} title=${t('monitor.audit_title')}>
    <${ListView} list=${list} onSearch=${() => f.apply()}
      filters=${html`<${Input} id="audit-username" label=${t('monitor.operator')} value=${f.draft.username} onValue=${f.set('username')} />
        <${Input} id="audit-action" label=${t('monitor.action')} value=${f.draft.action} onValue=${f.set('action')} />
        <${DateRange} f=${f} idPrefix="audit" />`}
      columns=${[
        { key: 'at', label: t('common.time'), render: (r) => fmtTime(r.at) },
        { key: 'username', label: t('monitor.operator') },
        { key: 'action', label: t('monitor.action') },
        { key: 'method', label: t('monitor.method') },
        { key: 'path', label: t('monitor.path'), class: 'path' },
        { key: 'target', label: t('monitor.target') },
        { key: 'status', label: t('monitor.status'), class: 'num' },
        { key: 'detail', label: t('monitor.body'), render: (r) => (r.detail && Object.keys(r.detail).length ? html`<code>${JSON.stringify(r.detail)}</code>` : '—') },
        { key: 'ip', label: t('monitor.ip') },
      ]} />
  </${Page}>`;
}

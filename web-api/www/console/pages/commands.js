// The command log (seed 004 指令列表): every command sent to a device, who asked, its reply and
// latency or its time-out, newest first (GET /admin/commands), with its CSV / XLSX export.
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { can } from '../api.js';
import { Input, ListView, Page, Select, useList } from '../../static/lib/ui.js';
import { commandColumns } from './device-detail.js';

const OUTCOMES = ['ok', 'rejected', 'failed', 'timeout', 'expired', 'unsupported', 'invalid', 'busy', 'superseded', 'pending'];

export function CommandsPage({ query }) {
  const start = { device: (query && query.get('device')) || '', name: '', outcome: '', from: '', to: '' };
  const [f, setF] = useState(start);
  const [applied, setApplied] = useState(start);
  const list = useList('/admin/commands', 'commands', applied, 20);
  const set = (k) => (v) => setF({ ...f, [k]: v });
  const filters = html`
    <${Input} id="cmd-device" label=${t('devices.id')} value=${f.device} onValue=${set('device')} />
    <${Input} id="cmd-name-filter" label=${t('devices.command')} value=${f.name} onValue=${set('name')} placeholder="start_port" />
    <${Select} id="cmd-outcome" label=${t('devices.outcome')} value=${f.outcome} onValue=${set('outcome')}
      options=${[{ value: '', label: t('common.all') }, ...OUTCOMES.map((o) => ({ value: o, label: t(`devices.outcomes.${o}`) }))]} />
    <${Input} id="cmd-from" type="date" label=${t('common.from')} value=${f.from} onValue=${set('from')} />
    <${Input} id="cmd-to" type="date" label=${t('common.to')} value=${f.to} onValue=${set('to')} />`;
  return html`<${Page} title=${t('devices.command_log')}>
    <${ListView} list=${list} columns=${commandColumns(true)} filters=${filters} rowKey="rid"
      onSearch=${() => setApplied({ ...f })}
      exportPath=${can('exports.read') ? '/admin/exports/commands' : ''} exportQuery=${applied} exportName="commands" />
  </${Page}>`;
}

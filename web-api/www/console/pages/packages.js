// Recharge packages (seed 002 §4: pay X, get a bonus Y): the list, creating one, changing its name,
// price and bonus, enabling and disabling it. Prices are typed in yuan (parseYuan, integer fen).
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fenToYuanText, parseYuan } from '../../static/lib/fmt.js';
import { ErrorBox, Form, Input, Modal, Page, Table, act, money, useFetch } from '../../static/lib/ui.js';
import { api, can } from '../api.js';
import { Word } from './counter-common.js';

// The form of a new package (pkg null) or of a change to one.
function PackageForm({ pkg, onDone }) {
  const [name, setName] = useState(pkg ? pkg.name : '');
  const [pay, setPay] = useState(pkg ? fenToYuanText(pkg.pay_fen) : '');
  const [bonus, setBonus] = useState(pkg ? fenToYuanText(pkg.bonus_fen) : '');
  const [bad, setBad] = useState(null);
  return html`<${Form} class="package-form" submitLabel=${pkg ? t('common.save') : t('counter.new_package')} onSubmit=${async () => {
    const pay_fen = parseYuan(pay);
    const bonus_fen = String(bonus).trim() === '' ? 0 : parseYuan(bonus);
    if (!pay_fen || bonus_fen === null) {
      setBad({ code: 'invalid_amount', message: t('counter.bad_amount') });
      return;
    }
    setBad(null);
    const body = { name: name.trim(), pay_fen, bonus_fen };
    const r = await act(() => (pkg ? api.put(`/admin/packages/${pkg.id}`, body) : api.post('/admin/packages', body)), t('common.saved'));
    if (r) onDone();
  }}>
    <${Input} label=${t('common.name')} value=${name} onValue=${setName} required autocomplete="off" />
    <${Input} label=${t('counter.pay_yuan')} value=${pay} onValue=${setPay} required inputmode="decimal" placeholder="0.00" />
    <${Input} label=${t('counter.bonus_yuan')} value=${bonus} onValue=${setBonus} inputmode="decimal" placeholder="0.00" />
    <${ErrorBox} error=${bad} />
  </${Form}>`;
}

export function PackagesPage() {
  const list = useFetch('/admin/packages');
  const [editing, setEditing] = useState(null); // null: closed, {}: new, a package: change it
  const write = can('packages.write');
  const done = () => {
    setEditing(null);
    list.reload();
  };
  const columns = [
    { key: 'id', label: 'ID' },
    { key: 'name', label: t('common.name') },
    money('pay_fen', t('counter.pay')),
    money('bonus_fen', t('counter.bonus')),
    { key: 'enabled', label: t('common.state'), render: (r) => html`<${Word} value=${r.enabled ? 'enabled' : 'disabled'} />` },
    {
      key: 'act',
      label: t('common.actions'),
      render: (r) =>
        write
          ? html`<div class="row-actions">
              <button type="button" class="edit" onClick=${() => setEditing(r)}>${t('counter.edit')}</button>
              <button type="button" class="toggle" onClick=${() =>
                act(() => api.put(`/admin/packages/${r.id}`, { enabled: !r.enabled }), t('common.saved')).then(list.reload)}>
                ${r.enabled ? t('counter.disable') : t('counter.enable')}</button>
            </div>`
          : '—',
    },
  ];
  return html`<${Page} title=${t('counter.packages_title')}
      actions=${write && html`<button type="button" class="primary" id="new-package" onClick=${() => setEditing({})}>${t('counter.new_package')}</button>`}>
    <${ErrorBox} error=${list.error} />
    <div id="packages"><${Table} columns=${columns} rows=${(list.data && list.data.packages) || []} /></div>
    <${Modal} open=${!!editing} title=${editing && editing.id ? t('counter.edit') : t('counter.new_package')} onClose=${() => setEditing(null)}>
      ${editing && html`<${PackageForm} key=${editing.id || 'new'} pkg=${editing.id ? editing : null} onDone=${done} />`}
    </${Modal}>
  </${Page}>`;
}

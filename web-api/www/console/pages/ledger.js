// The ledger across accounts (unscoped operators): every wallet movement with its real and bonus
// money apart, filtered by account, kind and dates, with its export.
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { Input, ListView, Page, Select, useList } from '../../static/lib/ui.js';
import { can } from '../api.js';
import { LEDGER_KINDS, dayAfter, kindText, ledgerColumns, options } from './counter-common.js';

export function LedgerPage() {
  const [account, setAccount] = useState('');
  const [kind, setKind] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [query, setQuery] = useState({});
  const list = useList('/admin/ledger', 'entries', query);
  return html`<${Page} title=${t('counter.ledger_title')}>
    <${ListView} list=${list} columns=${ledgerColumns({ withAccount: true })}
      onSearch=${() => setQuery({ account_id: account.trim(), kind, from, to: dayAfter(to) })}
      exportPath=${can('exports.read') ? '/admin/exports/ledger' : null} exportQuery=${query} exportName="ledger"
      filters=${html`
        <${Input} id="ledger-account" label=${t('counter.account_id')} value=${account} onValue=${setAccount} inputmode="numeric" />
        <${Select} id="ledger-kind" label=${t('common.kind')} value=${kind} onValue=${setKind} options=${options(LEDGER_KINDS, kindText)} />
        <${Input} id="ledger-from" type="date" label=${t('common.from')} value=${from} onValue=${setFrom} />
        <${Input} id="ledger-to" type="date" label=${t('common.to')} value=${to} onValue=${setTo} />`} />
  </${Page}>`;
}

// Balance refunds (docs/wallets.md "Refunds"): the list with its filters and export, and one refund
// with its parts (each channel the money goes back through).
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtMoney, fmtTime } from '../../static/lib/fmt.js';
import { Card, ErrorBox, Input, Link, ListView, Page, Select, Table, money, time, useFetch, useList } from '../../static/lib/ui.js';
import { can } from '../api.js';
import { Word, dayAfter, wordOptions } from './counter-common.js';

const STATES = ['processing', 'succeeded', 'failed', 'partial'];

export function partColumns() {
  return [
    { key: 'id', label: 'ID' },
    { key: 'payment_id', label: t('counter.payment'), render: (r) => (r.payment_id ? html`<${Link} to=${`/payments/${r.payment_id}`}>${r.payment_id}</${Link}>` : '—') },
    { key: 'channel', label: t('counter.channel'), render: (r) => html`<${Word} value=${r.channel} />` },
    money('amount_fen', t('common.amount')),
    { key: 'state', label: t('common.state'), render: (r) => html`<${Word} value=${r.state} />` },
    { key: 'provider_refund_id', label: t('counter.provider_ref') },
    { key: 'detail', label: t('counter.detail') },
    { key: 'attempts', label: t('counter.attempts'), class: 'num' },
    time('created_at', t('counter.created_at')),
    time('settled_at', t('counter.settled_at')),
  ];
}

export function RefundsPage({ query: hashQuery }) {
  const [state, setState] = useState('');
  const [account, setAccount] = useState((hashQuery && hashQuery.get('account_id')) || '');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [query, setQuery] = useState({ account_id: account });
  const list = useList('/admin/refunds', 'refunds', query);
  const columns = [
    { key: 'id', label: 'ID', render: (r) => html`<${Link} to=${`/refunds/${r.id}`}>${r.id}</${Link}>` },
    { key: 'account_id', label: t('counter.account'), render: (r) => html`<${Link} to=${`/users/${r.account_id}`}>${r.phone || r.account_id}</${Link}>` },
    money('amount_fen', t('common.amount')),
    { key: 'reason', label: t('counter.reason') },
    { key: 'state', label: t('common.state'), render: (r) => html`<${Word} value=${r.state} />` },
    { key: 'channels', label: t('counter.channel'), render: (r) => (r.parts || []).map((p) => html`<${Word} value=${p.channel} /> `) },
    { key: 'operator', label: t('counter.operator') },
    time('created_at', t('counter.created_at')),
    time('settled_at', t('counter.settled_at')),
  ];
  return html`<${Page} title=${t('counter.refunds_title')}>
    <${ListView} list=${list} columns=${columns}
      onSearch=${() => setQuery({ state, account_id: account.trim(), from, to: dayAfter(to) })}
      exportPath=${can('exports.read') ? '/admin/exports/refunds' : null} exportQuery=${query} exportName="refunds"
      filters=${html`
        <${Select} id="refunds-state" label=${t('common.state')} value=${state} onValue=${setState} options=${wordOptions(STATES)} />
        <${Input} id="refunds-account" label=${t('counter.account_id')} value=${account} onValue=${setAccount} inputmode="numeric" />
        <${Input} id="refunds-from" type="date" label=${t('common.from')} value=${from} onValue=${setFrom} />
        <${Input} id="refunds-to" type="date" label=${t('common.to')} value=${to} onValue=${setTo} />`} />
  </${Page}>`;
}

export function RefundDetailPage({ params }) {
  const r = useFetch(`/admin/refunds/${encodeURIComponent(params.id)}`);
  const f = r.data && (r.data.refund || r.data);
  return html`<${Page} title=${t('counter.refund_title', { id: params.id })} actions=${html`<${Link} to="/refunds">${t('common.back')}</${Link}>`}>
    <${ErrorBox} error=${r.error} />
    ${f &&
    html`<${Card}>
        <dl class="kv" id="refund-kv">
          <dt>${t('counter.account')}</dt><dd><${Link} to=${`/users/${f.account_id}`}>${f.phone || f.account_id}</${Link}></dd>
          <dt>${t('common.amount')}</dt><dd id="refund-amount">${fmtMoney(f.amount_fen)}</dd>
          <dt>${t('common.state')}</dt><dd><${Word} value=${f.state} /></dd>
          <dt>${t('counter.reason')}</dt><dd>${f.reason || '—'}</dd>
          <dt>${t('counter.operator')}</dt><dd>${f.operator || '—'}</dd>
          <dt>${t('counter.created_at')}</dt><dd>${fmtTime(f.created_at)}</dd>
          <dt>${t('counter.settled_at')}</dt><dd>${fmtTime(f.settled_at)}</dd>
        </dl>
      </${Card}>
      <${Card} title=${t('counter.parts')}><div id="refund-parts"><${Table} columns=${partColumns()} rows=${f.parts || []} /></div></${Card}>`}
  </${Page}>`;
}

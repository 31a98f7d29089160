// Payment orders (docs/wallets.md §3): the list with its filters (state, channel, anomaly, account,
// dates) and export, and one order with every notification and query answer of its provider, its
// refund parts and the button that asks the provider about it now.
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtMoney, fmtTime } from '../../static/lib/fmt.js';
import { Card, Checkbox, ErrorBox, Input, Link, ListView, Page, Select, Table, act, money, time, useFetch, useList } from '../../static/lib/ui.js';
import { api, can } from '../api.js';
import { Word, dayAfter, wordOptions } from './counter-common.js';
import { partColumns } from './refunds.js';

const STATES = ['pending', 'paid', 'failed', 'expired'];
const CHANNELS = ['wechat', 'alipay', 'sandbox'];

export function PaymentsPage({ query: hashQuery }) {
  const [state, setState] = useState('');
  const [channel, setChannel] = useState('');
  const [anomaly, setAnomaly] = useState(false);
  const [account, setAccount] = useState((hashQuery && hashQuery.get('account_id')) || '');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [query, setQuery] = useState({ account_id: account });
  const list = useList('/admin/payments', 'payments', query);
  const columns = [
    { key: 'id', label: 'ID', render: (r) => html`<${Link} to=${`/payments/${r.id}`}>${r.id}</${Link}>` },
    { key: 'account_id', label: t('counter.account'), render: (r) => html`<${Link} to=${`/users/${r.account_id}`}>${r.account_id}</${Link}>` },
    { key: 'channel', label: t('counter.channel'), render: (r) => html`<${Word} value=${r.channel} />` },
    money('amount_fen', t('common.amount')),
    money('bonus_fen', t('counter.bonus')),
    { key: 'state', label: t('common.state'), render: (r) => html`<${Word} value=${r.state} />` },
    money('refunded_fen', t('counter.refunded_amount')),
    { key: 'anomaly', label: t('counter.anomaly'), render: (r) => (r.anomaly ? html`<span class="badge badge-failed">${r.anomaly}</span>` : '—') },
    time('created_at', t('counter.created_at')),
    time('paid_at', t('counter.paid_at')),
  ];
  return html`<${Page} title=${t('counter.payments_title')}>
    <${ListView} list=${list} columns=${columns}
      onSearch=${() => setQuery({ state, channel, anomaly: anomaly ? 'true' : '', account_id: account.trim(), from, to: dayAfter(to) })}
      exportPath=${can('exports.read') ? '/admin/exports/payments' : null} exportQuery=${query} exportName="payments"
      filters=${html`
        <${Select} id="payments-state" label=${t('common.state')} value=${state} onValue=${setState} options=${wordOptions(STATES)} />
        <${Select} id="payments-channel" label=${t('counter.channel')} value=${channel} onValue=${setChannel} options=${wordOptions(CHANNELS)} />
        <${Input} id="payments-account" label=${t('counter.account_id')} value=${account} onValue=${setAccount} inputmode="numeric" />
        <${Input} id="payments-from" type="date" label=${t('common.from')} value=${from} onValue=${setFrom} />
        <${Input} id="payments-to" type="date" label=${t('common.to')} value=${to} onValue=${setTo} />
        <${Checkbox} id="payments-anomaly" label=${t('counter.anomaly_only')} checked=${anomaly} onValue=${setAnomaly} />`} />
  </${Page}>`;
}

// One value of a provider's answer: objects as their JSON.
const show = (v) => (v === null || v === undefined || v === '' ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));

function Callbacks({ items }) {
  if (!items.length) return html`<p class="muted">${t('common.empty')}</p>`;
  return html`<ol class="callbacks" id="callbacks">
    ${items.map((c) => html`<li><dl class="kv">${Object.entries(c).map(([k, v]) => html`<dt>${k}</dt><dd class="mono">${/_at$|^at$/.test(k) ? fmtTime(v) : show(v)}</dd>`)}</dl></li>`)}
  </ol>`;
}

export function PaymentDetailPage({ params }) {
  const r = useFetch(`/admin/payments/${encodeURIComponent(params.id)}`);
  const [answer, setAnswer] = useState(null);
  const p = r.data && r.data.payment;
  const ask = async () => {
    const a = await act(() => api.post(`/admin/payments/${encodeURIComponent(params.id)}/query`, {}));
    if (a) {
      setAnswer(a);
      r.reload();
    }
  };
  return html`<${Page} title=${t('counter.payment_title', { id: params.id })}
      actions=${html`<${Link} to="/payments">${t('common.back')}</${Link}>
        ${p && p.state === 'pending' && can('wallet.recharge') && html`<button type="button" class="primary" id="payment-query" onClick=${ask}>${t('counter.query')}</button>`}`}>
    <${ErrorBox} error=${r.error} />
    ${answer &&
    html`<div class="notice notice-ok" id="query-answer" role="status">${t('counter.query_answer', { verdict: answer.verdict, detail: answer.detail || '' })}</div>`}
    ${p &&
    html`<${Card}>
        <dl class="kv" id="payment-kv">
          <dt>${t('counter.account')}</dt><dd><${Link} to=${`/users/${p.account_id}`}>${p.account_id}</${Link}></dd>
          <dt>${t('counter.channel')}</dt><dd><${Word} value=${p.channel} /></dd>
          <dt>${t('common.amount')}</dt><dd id="payment-amount">${fmtMoney(p.amount_fen)}</dd>
          <dt>${t('counter.bonus')}</dt><dd>${fmtMoney(p.bonus_fen)}</dd>
          <dt>${t('common.state')}</dt><dd id="payment-state"><${Word} value=${p.state} /></dd>
          <dt>${t('counter.anomaly')}</dt><dd>${p.anomaly || '—'}</dd>
          <dt>${t('counter.provider_txn')}</dt><dd>${p.provider_txn || '—'}</dd>
          <dt>${t('counter.provider_ref')}</dt><dd>${p.provider_ref || '—'}</dd>
          <dt>${t('counter.refunded_amount')}</dt><dd>${fmtMoney(p.refunded_fen)}</dd>
          <dt>${t('counter.created_at')}</dt><dd>${fmtTime(p.created_at)}</dd>
          <dt>${t('counter.paid_at')}</dt><dd>${fmtTime(p.paid_at)}</dd>
          <dt>${t('counter.queried_at')}</dt><dd id="payment-queried">${fmtTime(p.queried_at)}</dd>
          <dt>${t('counter.closed_at')}</dt><dd>${fmtTime(p.closed_at)}</dd>
        </dl>
      </${Card}>
      <${Card} title=${t('counter.callbacks')}><${Callbacks} items=${r.data.callbacks || []} /></${Card}>
      <${Card} title=${t('counter.parts')}><${Table} columns=${partColumns()} rows=${r.data.refund_parts || []} /></${Card}>`}
  </${Page}>`;
}

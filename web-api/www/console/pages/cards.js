// IC cards (seed 002 §3): the list with its filters, issuing a card (bound at once to an account
// by id or phone, its fee debited), and each card's actions: bind, unbind, replace, report lost.
// The card routes that debit a fee are money routes: one Idempotency-Key per intended operation.
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { parseYuan } from '../../static/lib/fmt.js';
import { idempotencyKey } from '../../static/lib/api.js';
import { ErrorBox, Form, Input, Link, ListView, Modal, Page, Select, act, money, time, useList } from '../../static/lib/ui.js';
import { api, can } from '../api.js';
import { ConfirmButton, Word, wordOptions } from './counter-common.js';
import { useStationOptions } from './users.js';

const STATUSES = ['active', 'lost', 'unbound', 'replaced'];

// A fee typed in yuan: '' is no fee (0), otherwise parseYuan; null when it is not an amount.
function feeFen(text) {
  return String(text).trim() === '' ? 0 : parseYuan(text);
}

// Issues a card. With accountId the card is bound to that account; otherwise to the phone typed
// (or to nobody). onDone(card) after success.
export function IssueCard({ accountId, onDone }) {
  const [cardNo, setCardNo] = useState('');
  const [fee, setFee] = useState('');
  const [phone, setPhone] = useState('');
  const [station, setStation] = useState('');
  const [bad, setBad] = useState(null);
  const [key, setKey] = useState(idempotencyKey);
  const stations = useStationOptions(t('counter.no_station'));
  const change = (set) => (v) => {
    set(v);
    setKey(idempotencyKey());
  };
  return html`<${Form} class="issue-card" submitLabel=${t('counter.issue_card')} onSubmit=${async () => {
    const fee_fen = feeFen(fee);
    if (fee_fen === null) {
      setBad({ code: 'invalid_amount' });
      return;
    }
    setBad(null);
    const body = { card_no: cardNo.trim(), fee_fen, station_id: station ? Number(station) : undefined };
    if (accountId) body.account_id = Number(accountId);
    else if (phone.trim()) body.phone = phone.trim();
    const card = await act(() => api.post('/admin/cards', body, { 'Idempotency-Key': key }), t('counter.card_issued'));
    if (card) {
      setCardNo('');
      setKey(idempotencyKey());
      onDone && onDone(card);
    }
  }}>
    <div class="row">
      <${Input} label=${t('counter.card_no')} value=${cardNo} onValue=${change(setCardNo)} required autocomplete="off" />
      <${Input} label=${t('counter.card_fee_yuan')} value=${fee} onValue=${change(setFee)} inputmode="decimal" placeholder="0.00" />
      ${!accountId && html`<${Input} label=${t('counter.bind_phone')} value=${phone} onValue=${change(setPhone)} inputmode="tel" />`}
      <${Select} label=${t('counter.issuing_station')} value=${station} onValue=${change(setStation)} options=${stations.options} />
    </div>
    <${ErrorBox} error=${bad} />
  </${Form}>`;
}

// Binds an issued card (by number) to an account.
export function BindCard({ accountId, onDone }) {
  const [cardNo, setCardNo] = useState('');
  const [key, setKey] = useState(idempotencyKey);
  return html`<${Form} class="bind-card" submitLabel=${t('counter.bind')} onSubmit=${async () => {
    const r = await act(
      () => api.post(`/admin/cards/${encodeURIComponent(cardNo.trim())}/bind`, { account_id: Number(accountId) }, { 'Idempotency-Key': key }),
      t('counter.card_bound'),
    );
    if (r) {
      setCardNo('');
      setKey(idempotencyKey());
      onDone && onDone(r);
    }
  }}>
    <${Input} label=${t('counter.bind_card_no')} value=${cardNo} onValue=${(v) => {
      setCardNo(v);
      setKey(idempotencyKey());
    }} required autocomplete="off" />
  </${Form}>`;
}

// Binds a card with no account to the account of a phone (cards page).
function BindToPhone({ card, onDone }) {
  const [phone, setPhone] = useState('');
  const [key, setKey] = useState(idempotencyKey);
  return html`<${Form} class="bind-phone" submitLabel=${t('counter.bind')} onSubmit=${async () => {
    const r = await act(
      () => api.post(`/admin/cards/${encodeURIComponent(card.card_no)}/bind`, { phone: phone.trim() }, { 'Idempotency-Key': key }),
      t('counter.card_bound'),
    );
    if (r) onDone(r);
  }}>
    <${Input} label=${t('counter.bind_phone')} value=${phone} onValue=${(v) => {
      setPhone(v);
      setKey(idempotencyKey());
    }} required inputmode="tel" autocomplete="off" />
  </${Form}>`;
}

function ReplaceCard({ card, onDone }) {
  const [newNo, setNewNo] = useState('');
  const [fee, setFee] = useState('');
  const [bad, setBad] = useState(null);
  const [key, setKey] = useState(idempotencyKey);
  return html`<${Form} class="replace-card" submitLabel=${t('counter.replace')} onSubmit=${async () => {
    const fee_fen = feeFen(fee);
    if (fee_fen === null) {
      setBad({ code: 'invalid_amount' });
      return;
    }
    const r = await act(
      () => api.post(`/admin/cards/${encodeURIComponent(card.card_no)}/replace`, { new_card_no: newNo.trim(), fee_fen }, { 'Idempotency-Key': key }),
      t('counter.card_replaced'),
    );
    if (r) onDone(r);
  }}>
    <p>${t('counter.replace_note', { card: card.card_no })}</p>
    <${Input} label=${t('counter.new_card_no')} value=${newNo} onValue=${(v) => {
      setNewNo(v);
      setKey(idempotencyKey());
    }} required autocomplete="off" />
    <${Input} label=${t('counter.card_fee_yuan')} value=${fee} onValue=${(v) => {
      setFee(v);
      setKey(idempotencyKey());
    }} inputmode="decimal" placeholder="0.00" />
    <${ErrorBox} error=${bad} />
  </${Form}>`;
}

// The actions of one card row: report lost, unbind, replace (each only where it applies).
export function CardActions({ card, onChange }) {
  const [replacing, setReplacing] = useState(false);
  const [binding, setBinding] = useState(false);
  if (!can('cards.write')) return '—';
  const post = (what, okText) => act(() => api.post(`/admin/cards/${encodeURIComponent(card.card_no)}/${what}`, {}), okText).then((r) => r && onChange());
  const live = card.status === 'active';
  return html`<div class="row-actions">
    ${live &&
    html`<${ConfirmButton} class="danger report-lost" label=${t('counter.report_lost')}
      question=${t('counter.report_lost_q', { card: card.card_no })} onConfirm=${() => post('report-lost', t('counter.card_lost'))} />`}
    ${live && card.account_id && html`<${ConfirmButton} class="unbind" label=${t('counter.unbind')}
      question=${t('counter.unbind_q', { card: card.card_no })} onConfirm=${() => post('unbind', t('counter.card_unbound'))} />`}
    ${(live || card.status === 'lost') && card.account_id &&
    html`<button type="button" class="replace" onClick=${() => setReplacing(true)}>${t('counter.replace')}</button>
      <${Modal} open=${replacing} title=${t('counter.replace')} onClose=${() => setReplacing(false)}>
        <${ReplaceCard} card=${card} onDone=${() => {
          setReplacing(false);
          onChange();
        }} />
      </${Modal}>`}
    ${!card.account_id && (live || card.status === 'unbound') &&
    html`<button type="button" class="bind" onClick=${() => setBinding(true)}>${t('counter.bind')}</button>
      <${Modal} open=${binding} title=${t('counter.bind')} onClose=${() => setBinding(false)}>
        <${BindToPhone} card=${card} onDone=${() => {
          setBinding(false);
          onChange();
        }} />
      </${Modal}>`}
  </div>`;
}

export function cardColumns(reload) {
  return [
    { key: 'card_no', label: t('counter.card_no') },
    { key: 'name', label: t('common.name') },
    { key: 'status', label: t('common.state'), render: (r) => html`<${Word} value=${r.status} />` },
    { key: 'account_id', label: t('counter.account'), render: (r) => (r.account_id ? html`<${Link} to=${`/users/${r.account_id}`}>${r.account_id}</${Link}>` : '—') },
    money('fee_fen', t('counter.card_fee')),
    time('issued_at', t('counter.issued_at')),
    time('bound_at', t('counter.bound_at')),
    { key: 'act', label: t('common.actions'), render: (r) => html`<${CardActions} card=${r} onChange=${reload} />` },
  ];
}

export function CardsPage() {
  const [status, setStatus] = useState('');
  const [account, setAccount] = useState('');
  const [query, setQuery] = useState({});
  const [issuing, setIssuing] = useState(false);
  const list = useList('/admin/cards', 'cards', query);
  return html`<${Page} title=${t('counter.cards_title')}
      actions=${can('cards.write') && html`<button type="button" class="primary" id="issue-card" onClick=${() => setIssuing(true)}>${t('counter.issue_card')}</button>`}>
    <${ListView} list=${list} columns=${cardColumns(list.reload)} rowKey="card_no"
      onSearch=${() => setQuery({ status, account_id: account.trim() })}
      filters=${html`
        <${Select} id="cards-status" label=${t('common.state')} value=${status} onValue=${setStatus} options=${wordOptions(STATUSES)} />
        <${Input} id="cards-account" label=${t('counter.account_id')} value=${account} onValue=${setAccount} inputmode="numeric" />`} />
    <${Modal} open=${issuing} title=${t('counter.issue_card')} onClose=${() => setIssuing(false)}>
      <${IssueCard} onDone=${() => {
        setIssuing(false);
        list.reload();
      }} />
    </${Modal}>
  </${Page}>`;
}


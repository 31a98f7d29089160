// What the counter and money pages share (not a route): state words of cards, payments and
// refunds as badges, the ledger's kinds and columns, a confirmation dialog, date filters.
import { html, useState } from '../../static/lib/preact.js';
import { has, t } from '../../static/lib/i18n.js';
import { fmtMoney } from '../../static/lib/fmt.js';
import { Link, Modal, time } from '../../static/lib/ui.js';

// A state word of this area (card status, payment or refund state, channel) as a badge:
// counter.words.<value>, the raw value when the dictionary has no word for it.
export function Word({ value }) {
  if (value === null || value === undefined || value === '') return '—';
  const text = has(`counter.words.${value}`) ? t(`counter.words.${value}`) : String(value);
  return html`<span class=${`badge badge-${String(value).replace(/[^a-z_]/gi, '')}`}>${text}</span>`;
}

export const LEDGER_KINDS = ['recharge', 'bonus', 'charge', 'refund', 'adjust', 'card_fee', 'parking', 'arrears', 'refund_order', 'refund_reversal'];

export const kindText = (k) => (has(`counter.kinds.${k}`) ? t(`counter.kinds.${k}`) : k);

// {value, label} options of a filter, "all" first.
export function options(values, label) {
  return [{ value: '', label: t('common.all') }, ...values.map((v) => ({ value: v, label: label(v) }))];
}
export const wordOptions = (values) => options(values, (v) => t(`counter.words.${v}`));

// A signed amount of a ledger line ('' when the line moved none of that money).
const signed = (fen) => (fen ? fmtMoney(fen) : '');

// The statement's columns: real and bonus money apart, each with its balance after the line.
export function ledgerColumns({ withAccount = false } = {}) {
  return [
    time('at', t('common.time')),
    ...(withAccount
      ? [{ key: 'account_id', label: t('counter.account'), render: (r) => html`<${Link} to=${`/users/${r.account_id}`}>${r.phone || r.account_id}</${Link}>` }]
      : []),
    { key: 'kind', label: t('common.kind'), render: (r) => kindText(r.kind) },
    { key: 'real_fen', label: t('counter.real'), class: 'num col-real', render: (r) => signed(r.real_fen) },
    { key: 'bonus_fen', label: t('counter.bonus'), class: 'num col-bonus', render: (r) => signed(r.bonus_fen) },
    { key: 'real_after', label: t('counter.real_after'), class: 'num', render: (r) => fmtMoney(r.real_after) },
    { key: 'bonus_after', label: t('counter.bonus_after'), class: 'num', render: (r) => fmtMoney(r.bonus_after) },
    { key: 'operator', label: t('counter.operator') },
    { key: 'note', label: t('common.note'), render: (r) => [r.note, r.ref].filter(Boolean).join(' · ') || '—' },
  ];
}

// The API's `to` is exclusive ("before"): a date picked as the last day becomes the next day.
export function dayAfter(ymd) {
  if (!ymd) return '';
  const d = new Date(`${ymd}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

// A button that asks first: a dialog with the question, confirm runs onConfirm (async).
export function ConfirmButton({ label, question, onConfirm, id, class: cls, disabled }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  return html`<button type="button" id=${id} class=${cls} disabled=${disabled} onClick=${() => setOpen(true)}>${label}</button>
    <${Modal} open=${open} title=${label} onClose=${() => setOpen(false)}>
      <p class="confirm-question">${question}</p>
      <div class="form-actions">
        <button type="button" onClick=${() => setOpen(false)}>${t('common.cancel')}</button>
        <button type="button" class="primary confirm-yes" disabled=${busy} onClick=${async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            setBusy(false);
            setOpen(false);
          }
        }}>${t('common.confirm')}</button>
      </div>
    </${Modal}>`;
}

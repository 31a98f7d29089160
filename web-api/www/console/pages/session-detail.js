// One charging order (GET /admin/sessions/{id}): its facts, the power curve, the bill lines as
// billing priced them, the transitions and order refunds; force stop and order refund.
import { html, useState } from '../../static/lib/preact.js';
import { has, t } from '../../static/lib/i18n.js';
import { fenToYuanText, fmtDuration, fmtEnergy, fmtMoney, fmtPower, fmtTime, parseYuan } from '../../static/lib/fmt.js';
import { idempotencyKey } from '../../static/lib/api.js';
import { usePoll } from '../../static/lib/poll.js';
import { Badge, Card, ErrorBox, Input, errorText, Link, Modal, Page, Table, act, notify, useFetch } from '../../static/lib/ui.js';
import { api, can } from '../api.js';
import { ActionDialog } from './listkit.js';
import { LIVE_STATES, stopReason } from './sessions.js';
import { Chart } from '../../static/lib/charts.js';

function Facts({ s }) {
  const rows = [
    ['state', html`<${Badge} value=${s.state} />`],
    ['kind', t(`common.${s.kind}`)],
    ['socket', s.socket],
    ['device', html`<${Link} to=${`/devices/${s.device_id}`}>${s.device_id}</${Link}>`],
    ['account', s.account_id ? `${s.phone || ''} (#${s.account_id})` : '—'],
    ['method', t(`orders.method_${s.method}`)],
    ['mode', t(`orders.mode_${s.mode}`)],
    ['max_fen', fmtMoney(s.max_fen)],
    ['created_at', fmtTime(s.created_at)],
    ['started_at', fmtTime(s.started_at)],
    ['ended_at', fmtTime(s.ended_at)],
    ['duration', fmtDuration(s.duration_s)],
    ['energy', fmtEnergy(s.energy_wh)],
    ['power', fmtPower(s.power_w)],
    ['max_power', fmtPower(s.max_power_w)],
    ['cost', fmtMoney(s.cost_fen)],
    ['electricity', fmtMoney(s.electricity_fen)],
    ['service', fmtMoney(s.service_fen)],
    ['stop_reason', s.stop_reason ? stopReason(s.stop_reason) : '—'],
  ];
  return html`<dl class="kv" id="session-facts">
    ${rows.map(([k, v]) => html`<dt>${t(`orders.${k}`)}</dt><dd data-fact=${k}>${v}</dd>`)}
  </dl>`;
}

// The bill: what billing priced (settlement once settled, the running quote before), line by line.
function Bill({ bill }) {
  if (!bill) return html`<p class="muted">${t('orders.no_bill')}</p>`;
  const d = bill.detail || {};
  return html`<p class="muted" id="bill-source">${t(`orders.bill_${bill.source}`)}
      ${bill.settled_at ? ` · ${fmtTime(bill.settled_at)}` : ''}</p>
    <${Table} rowKey="i" rows=${(d.lines || []).map((l, i) => ({ ...l, i }))} columns=${[
      { key: 'kind', label: t('common.kind'), render: (l) => lineKind(l.kind) },
      { key: 'text', label: t('orders.line_text') },
      { key: 'fen', label: t('common.amount'), class: 'num', render: (l) => fmtMoney(l.fen) },
    ]} />
    <dl class="kv" id="bill-totals">
      <dt>${t('orders.electricity')}</dt><dd data-fact="electricity_fen">${fmtMoney(d.electricity_fen)}</dd>
      <dt>${t('orders.service')}</dt><dd data-fact="service_fen">${fmtMoney(d.service_fen)}</dd>
      <dt>${t('orders.cost')}</dt><dd data-fact="cost_fen">${fmtMoney(d.cost_fen)}</dd>
      ${bill.debited_fen !== undefined && html`<dt>${t('orders.debited')}</dt><dd data-fact="debited_fen">${fmtMoney(bill.debited_fen)}</dd>`}
      ${bill.shortfall_fen ? html`<dt>${t('orders.shortfall')}</dt><dd>${fmtMoney(bill.shortfall_fen)}</dd>` : null}
    </dl>`;
}

const lineKind = (k) => (has(`orders.line_${k}`) ? t(`orders.line_${k}`) : k);

function Curve({ curve }) {
  if (!curve || !curve.length) return html`<p class="muted">${t('orders.no_curve')}</p>`;
  return html`<${Chart} kind="line" label=${t('orders.curve')} y="W"
    labels=${curve.map((p) => fmtTime(p.t).slice(11))}
    series=${[{ label: t('orders.power'), data: curve.map((p) => p.power_w) }]} />`;
}

function RefundDialog({ s, open, onClose, onDone }) {
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  // One key per intended refund: a retry after a lost answer repeats it; an amount the API refused
  // and then changed is a new refund with a new key.
  const [key, setKey] = useState(idempotencyKey);
  const fen = parseYuan(amount);
  const max = s.refunds?.refundable_fen ?? 0;
  return html`<${ActionDialog} id="refund-form" open=${open} title=${t('orders.refund')} onClose=${onClose}
      submitLabel=${t('orders.refund_confirm')} onSubmit=${async () => {
        if (fen === null || fen < 1 || fen > max) {
          notify(t('orders.refund_bad_amount', { max: fenToYuanText(max) }), 'error');
          return false;
        }
        try {
          await api.post(`/admin/sessions/${s.id}/refund`, { amount_fen: fen, reason: reason.trim() }, { 'Idempotency-Key': key });
        } catch (e) {
          if (e.status >= 400 && e.status < 500) setKey(idempotencyKey());
          notify(errorText(e), 'error');
          return false;
        }
        notify(t('orders.refunded'), 'ok');
        onDone();
        return true;
      }}>
    <p>${t('orders.refundable', { amount: fmtMoney(max) })}</p>
    <${Input} id="refund-amount" label=${t('orders.refund_amount')} value=${amount} onValue=${setAmount} inputmode="decimal" required />
    <${Input} id="refund-reason" label=${t('orders.refund_reason')} value=${reason} onValue=${setReason} required />
    ${fen !== null && html`<p id="refund-confirm-text" class="muted">${t('orders.refund_question', { amount: fmtMoney(fen), phone: s.phone || '' })}</p>`}
  </${ActionDialog}>`;
}

export function SessionDetailPage({ params }) {
  const d = useFetch(`/admin/sessions/${encodeURIComponent(params.id)}`);
  const s = d.data;
  const live = !!s && LIVE_STATES.includes(s.state);
  usePoll(() => (live ? d.reload() : null), 2000, [live, d.reload]);
  const [stopOpen, setStopOpen] = useState(false);
  const [refundOpen, setRefundOpen] = useState(false);
  const actions = s && html`
    ${live && can('sessions.stop') && html`<button type="button" class="danger" id="force-stop" onClick=${() => setStopOpen(true)}>${t('orders.force_stop')}</button>`}
    ${s.state === 'completed' && can('wallet.refund') && (s.refunds?.refundable_fen ?? 0) > 0 &&
      html`<button type="button" id="refund-open" onClick=${() => setRefundOpen(true)}>${t('orders.refund')}</button>`}`;
  return html`<${Page} title=${`${t('orders.detail_title')} ${params.id}`} actions=${actions}>
    <p><${Link} to="/sessions">← ${t('orders.title')}</${Link}></p>
    <${ErrorBox} error=${d.error} />
    ${s && html`
      <div class="grid-2">
        <${Card} title=${t('orders.facts')}><${Facts} s=${s} /></${Card}>
        <${Card} title=${t('orders.curve')} class="curve-card"><${Curve} curve=${s.curve} /></${Card}>
      </div>
      <${Card} title=${t('orders.bill')} class="bill-card"><${Bill} bill=${s.bill} /></${Card}>
      <${Card} title=${t('orders.events')}>
        <${Table} rowKey="i" rows=${(s.events || []).map((e, i) => ({ ...e, i }))} columns=${[
          { key: 'at', label: t('common.time'), render: (e) => fmtTime(e.at) },
          { key: 'from', label: t('orders.from_state'), render: (e) => (e.from ? html`<${Badge} value=${e.from} />` : '—') },
          { key: 'to', label: t('orders.to_state'), render: (e) => html`<${Badge} value=${e.to} />` },
          { key: 'reason', label: t('orders.event_reason') },
          { key: 'actor', label: t('orders.actor') },
        ]} />
      </${Card}>
      <${Card} title=${t('orders.refunds')}>
        <p class="muted" id="refund-summary">${t('orders.refund_summary', { refunded: fmtMoney(s.refunds?.refunded_fen ?? 0), refundable: fmtMoney(s.refunds?.refundable_fen ?? 0) })}</p>
        <${Table} rows=${s.refunds?.entries || []} columns=${[
          { key: 'at', label: t('common.time'), render: (r) => fmtTime(r.at) },
          { key: 'amount_fen', label: t('common.amount'), class: 'num', render: (r) => fmtMoney(r.amount_fen) },
          { key: 'real_fen', label: t('orders.real'), class: 'num', render: (r) => fmtMoney(r.real_fen) },
          { key: 'bonus_fen', label: t('orders.bonus'), class: 'num', render: (r) => fmtMoney(r.bonus_fen) },
          { key: 'reason', label: t('orders.refund_reason') },
          { key: 'operator', label: t('orders.operator') },
        ]} />
      </${Card}>
      <${Modal} open=${stopOpen} title=${t('orders.force_stop')} onClose=${() => setStopOpen(false)}>
        <p>${t('orders.force_stop_question', { id: s.id, socket: s.socket })}</p>
        <div class="form-actions">
          <button type="button" onClick=${() => setStopOpen(false)}>${t('common.cancel')}</button>
          <button type="button" class="danger" id="force-stop-confirm" onClick=${async () => {
            const r = await act(() => api.post(`/admin/sessions/${s.id}/stop`, {}), t('orders.stop_sent'));
            setStopOpen(false);
            if (r) d.reload();
          }}>${t('orders.force_stop')}</button>
        </div>
      </${Modal}>
      ${refundOpen && html`<${RefundDialog} s=${s} open=${refundOpen} onClose=${() => setRefundOpen(false)} onDone=${d.reload} />`}`}
  </${Page}>`;
}

// The counter desk of one account (seed 002 §3-6): the account and its wallet (real and bonus
// money, arrears), recharge (amount buttons, a free amount in yuan, the recharge packages),
// freeze/unfreeze, the balance refund, the account's cards, and its statement.
// Money routes carry one Idempotency-Key per intended operation, kept while the same operation
// is retried and renewed when the operator changes what is asked.
import { html, useEffect, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtMoney, fmtTime, parseYuan } from '../../static/lib/fmt.js';
import { idempotencyKey } from '../../static/lib/api.js';
import {
  Card, ErrorBox, ExportButtons, Form, Input, Link, Modal, Page, Pager, Select, Stat, Table, act, useFetch, useList,
} from '../../static/lib/ui.js';
import { api, can, operator } from '../api.js';
import { ConfirmButton, LEDGER_KINDS, Word, dayAfter, kindText, ledgerColumns, options } from './counter-common.js';
import { BindCard, IssueCard, cardColumns } from './cards.js';
import { useStationOptions } from './users.js';

// Amount buttons of the recharge (yuan).
const PRESETS = [10, 20, 50, 100, 200];

function Rename({ user, onDone }) {
  const [name, setName] = useState(user.name || '');
  return html`<${Form} id="rename-form" submitLabel=${t('common.save')} onSubmit=${async () => {
    const r = await act(() => api.put(`/admin/users/${user.id}`, { name: name.trim() }), t('common.saved'));
    if (r) onDone();
  }}>
    <${Input} id="rename-name" label=${t('counter.rider_name')} value=${name} onValue=${setName} required autocomplete="off" />
  </${Form}>`;
}

function Account({ user, stationName, onChange }) {
  const w = user.wallet;
  const [renaming, setRenaming] = useState(false);
  const rename =
    can('users.write') &&
    html`<button type="button" class="link" id="rename" onClick=${() => setRenaming(true)}>${t('counter.rename')}</button>
      <${Modal} open=${renaming} title=${t('counter.rename')} onClose=${() => setRenaming(false)}>
        <${Rename} user=${user} onDone=${() => {
          setRenaming(false);
          onChange();
        }} />
      </${Modal}>`;
  return html`<${Card} title=${t('counter.account')} class="account">
    <dl class="kv" id="account-kv">
      <dt>ID</dt><dd>${user.id}</dd>
      <dt>${t('common.phone')}</dt><dd id="account-phone">${user.phone}</dd>
      <dt>${t('counter.rider_name')}</dt><dd><span id="account-name">${user.name || '—'}</span> ${rename}</dd>
      <dt>${t('common.state')}</dt><dd id="account-state"><${Word} value=${user.frozen ? 'frozen' : 'normal'} /></dd>
      <dt>${t('counter.home_station')}</dt><dd>${stationName(user.home_station_id)}</dd>
      <dt>${t('counter.opened_at')}</dt><dd>${fmtTime(user.created_at)}</dd>
      <dt>${t('counter.card')}</dt><dd>${user.card ? html`${user.card.card_no} <${Word} value=${user.card.status} />` : '—'}</dd>
    </dl>
    <div class="stats" id="wallet">
      <${Stat} id="balance_fen" label=${t('counter.real_balance')} value=${fmtMoney(w.balance_fen)} />
      <${Stat} id="bonus_fen" label=${t('counter.bonus_balance')} value=${fmtMoney(w.bonus_fen)} />
      <${Stat} id="arrears_fen" label=${t('counter.arrears')} value=${fmtMoney(w.arrears_fen)} />
      <${Stat} id="refundable_fen" label=${t('counter.refundable')} value=${fmtMoney(user.refundable_fen)} />
    </div>
  </${Card}>`;
}

function Recharge({ user, onDone }) {
  const [amount, setAmount] = useState('');
  const [note, setNote] = useState('');
  const [bad, setBad] = useState(null);
  const [key, setKey] = useState(idempotencyKey);
  const [pkgKey, setPkgKey] = useState({});
  const pk = useFetch('/admin/packages');
  const packages = ((pk.data && pk.data.packages) || []).filter((p) => p.enabled);
  const set = (v) => {
    setAmount(v);
    setBad(null);
    setKey(idempotencyKey());
  };
  const byPackage = async (p) => {
    // One key per package chosen; kept if the same package is retried after an error.
    const k = pkgKey[p.id] || idempotencyKey();
    setPkgKey({ ...pkgKey, [p.id]: k });
    const r = await act(
      () => api.post(`/admin/users/${user.id}/recharge`, { package_id: p.id }, { 'Idempotency-Key': k }),
      t('counter.recharged', { amount: fmtMoney(p.pay_fen + p.bonus_fen) }),
    );
    if (r) {
      setPkgKey({});
      onDone();
    }
  };
  return html`<${Card} title=${t('counter.recharge')} class="recharge">
    ${user.frozen && html`<p class="muted" id="recharge-frozen">${t('counter.frozen_no_recharge')}</p>`}
    <div class="amount-buttons" role="group" aria-label=${t('counter.preset_amounts')}>
      ${PRESETS.map((y) => html`<button type="button" class=${parseYuan(amount) === y * 100 ? 'preset active' : 'preset'}
        data-yuan=${y} onClick=${() => set(String(y))}>${fmtMoney(y * 100)}</button>`)}
    </div>
    <${Form} id="recharge-form" submitLabel=${t('counter.recharge_submit')} onSubmit=${async () => {
      const fen = parseYuan(amount);
      if (!fen) {
        setBad({ code: 'invalid_amount', message: t('counter.bad_amount') });
        return;
      }
      const r = await act(
        () => api.post(`/admin/users/${user.id}/recharge`, { amount_fen: fen, note: note.trim() || undefined }, { 'Idempotency-Key': key }),
        t('counter.recharged', { amount: fmtMoney(fen) }),
      );
      if (r) {
        setAmount('');
        setNote('');
        setKey(idempotencyKey());
        onDone();
      }
    }}>
      <div class="row">
        <${Input} id="recharge-amount" label=${t('counter.amount_yuan')} value=${amount} onValue=${set} inputmode="decimal" autocomplete="off" placeholder="0.00" />
        <${Input} id="recharge-note" label=${t('common.note')} value=${note} onValue=${(v) => {
          setNote(v);
          setKey(idempotencyKey());
        }} autocomplete="off" />
      </div>
      <${ErrorBox} error=${bad} />
    </${Form}>
    <h3>${t('counter.packages')}</h3>
    <div class="package-buttons" id="package-buttons">
      ${packages.length === 0 && html`<p class="muted">${t('counter.no_packages')}</p>`}
      ${packages.map((p) => html`<button type="button" class="package" data-package=${p.id} onClick=${() => byPackage(p)}>
        <strong>${p.name}</strong>
        <span>${t('counter.pay_get', { pay: fmtMoney(p.pay_fen), bonus: fmtMoney(p.bonus_fen) })}</span>
      </button>`)}
    </div>
  </${Card}>`;
}

function Refund({ user, onDone }) {
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [bad, setBad] = useState(null);
  const [key, setKey] = useState(idempotencyKey);
  const fen = parseYuan(amount);
  const change = (setter) => (v) => {
    setter(v);
    setBad(null);
    setKey(idempotencyKey());
  };
  return html`<${Card} title=${t('counter.balance_refund')} class="refund">
    <p class="muted">${t('counter.refund_note', { amount: fmtMoney(user.refundable_fen) })}</p>
    <div class="row">
      <${Input} id="refund-amount" label=${t('counter.amount_yuan')} value=${amount} onValue=${change(setAmount)} inputmode="decimal" autocomplete="off" placeholder="0.00" />
      <${Input} id="refund-reason" label=${t('counter.reason')} value=${reason} onValue=${change(setReason)} autocomplete="off" />
    </div>
    <${ErrorBox} error=${bad} />
    <div class="form-actions">
      <${ConfirmButton} id="refund-submit" class="danger" label=${t('counter.refund_submit')}
        disabled=${!fen || !reason.trim()}
        question=${t('counter.refund_q', { amount: fmtMoney(fen || 0), phone: user.phone })}
        onConfirm=${async () => {
          const r = await act(
            () => api.post(`/admin/users/${user.id}/refund`, { amount_fen: fen, reason: reason.trim() }, { 'Idempotency-Key': key }),
            t('counter.refunded', { amount: fmtMoney(fen) }),
          );
          if (r) {
            setAmount('');
            setReason('');
            setKey(idempotencyKey());
            onDone(r);
          }
        }} />
    </div>
  </${Card}>`;
}

function Cards({ user, onChange }) {
  const list = useList('/admin/cards', 'cards', { account_id: user.id }, 50);
  const reload = () => {
    list.reload();
    onChange();
  };
  return html`<${Card} title=${t('counter.cards_of_account')} class="account-cards">
    <div id="account-cards"><${Table} columns=${cardColumns(reload)} rows=${list.rows} rowKey="card_no" /></div>
    ${can('cards.write') &&
    html`<div class="grid-2">
      <div><h3>${t('counter.issue_card')}</h3><${IssueCard} accountId=${user.id} onDone=${reload} /></div>
      <div><h3>${t('counter.bind')}</h3><${BindCard} accountId=${user.id} onDone=${reload} /></div>
    </div>`}
  </${Card}>`;
}

// The statement. Unscoped operators get the kind and date filters (GET /admin/ledger?account_id=);
// a station-scoped operator reads the account's own route, which has no filters.
function Statement({ user, version }) {
  // Whether the operator is unscoped: stored by the frame when the console loads, asked here when
  // the operator signed in since.
  const known = (operator() || {}).all_stations;
  const me = useFetch(known === undefined ? '/admin/me' : '');
  if (known === undefined && !me.data && !me.error) return html`<p class="loading">${t('common.loading')}</p>`;
  const unscoped = known === undefined ? !!(me.data && (me.data.admin || me.data).all_stations) : !!known;
  return html`<${StatementOf} user=${user} version=${version} unscoped=${unscoped} />`;
}

function StatementOf({ user, version, unscoped }) {
  const [kind, setKind] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [query, setQuery] = useState({});
  const path = unscoped ? '/admin/ledger' : `/admin/users/${user.id}/ledger`;
  const list = useList(path, 'entries', unscoped ? { account_id: user.id, ...query } : {}, 20);
  useEffect(() => {
    if (version) list.reload();
  }, [version]);
  return html`<${Card} title=${t('counter.statement')} class="statement">
    ${unscoped &&
    html`<form class="filters" role="search" id="statement-filters" onSubmit=${(e) => {
      e.preventDefault();
      setQuery({ kind, from, to: dayAfter(to) });
    }}>
      <${Select} id="statement-kind" label=${t('common.kind')} value=${kind} onValue=${setKind} options=${options(LEDGER_KINDS, kindText)} />
      <${Input} id="statement-from" type="date" label=${t('common.from')} value=${from} onValue=${setFrom} />
      <${Input} id="statement-to" type="date" label=${t('common.to')} value=${to} onValue=${setTo} />
      <div class="field field-button"><button type="submit">${t('common.search')}</button></div>
    </form>`}
    ${can('exports.read') &&
    html`<${ExportButtons} path="/admin/exports/ledger" query=${{ account_id: user.id, ...query }} name=${`ledger-${user.id}`} />`}
    <${ErrorBox} error=${list.error} />
    <div id="statement"><${Table} columns=${ledgerColumns()} rows=${list.rows} empty=${list.loading ? t('common.loading') : undefined} /></div>
    ${unscoped && html`<${Pager} offset=${list.offset} limit=${list.limit} count=${list.rows.length} onOffset=${list.setOffset} />`}
  </${Card}>`;
}

export function UserDetailPage({ params }) {
  const u = useFetch(`/admin/users/${params.id}`);
  const stations = useStationOptions('');
  const [version, setVersion] = useState(0);
  const stationName = (id) => (stations.list.find((s) => s.id === id) || {}).name || '—';
  const changed = () => {
    u.reload();
    setVersion((v) => v + 1);
  };
  const user = u.data;
  const freezeButton =
    user && can('users.write') &&
    (user.frozen
      ? html`<${ConfirmButton} id="unfreeze" label=${t('counter.unfreeze')} question=${t('counter.unfreeze_q', { phone: user.phone })}
          onConfirm=${() => act(() => api.post(`/admin/users/${user.id}/unfreeze`, {}), t('counter.unfrozen')).then(changed)} />`
      : html`<${ConfirmButton} id="freeze" class="danger" label=${t('counter.freeze')} question=${t('counter.freeze_q', { phone: user.phone })}
          onConfirm=${() => act(() => api.post(`/admin/users/${user.id}/freeze`, {}), t('counter.frozen')).then(changed)} />`);
  return html`<${Page} title=${user ? t('counter.desk_title', { phone: user.phone }) : t('counter.desk')}
      actions=${html`<${Link} to="/users">${t('common.back')}</${Link}>
        ${user && html`<${Link} to=${`/payments?account_id=${user.id}`}>${t('counter.payments_title')}</${Link}>`}
        ${freezeButton}`}>
    <${ErrorBox} error=${u.error} />
    ${user &&
    html`<div class="grid-2">
        <${Account} user=${user} stationName=${stationName} onChange=${changed} />
        ${can('wallet.recharge') && html`<${Recharge} user=${user} onDone=${changed} />`}
      </div>
      ${can('wallet.refund') && html`<${Refund} user=${user} onDone=${changed} />`}
      ${can('cards.read') && html`<${Cards} user=${user} onChange=${changed} />`}
      <${Statement} user=${user} version=${version} />`}
  </${Page}>`;
}

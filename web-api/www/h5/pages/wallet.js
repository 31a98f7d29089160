// The wallet: real and bonus balances, recharge (an amount or a package) through a payment order
// (in development mode the sandbox: a "pay" step confirms it), and the ledger, real and bonus.
import { html, useEffect, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fenToYuanText, fmtMoney, fmtTime, parseYuan } from '../../static/lib/fmt.js';
import { ErrorBox, errorText, notify, Stat, Tabs, useFetch } from '../../static/lib/ui.js';
import { api, apiPath } from '../api.js';
import { H5Page, word } from '../ui.js';

const PRESETS_FEN = [1000, 2000, 5000, 10000];
const LEDGER_PAGE = 20;

function Recharge({ wallet, onPaid }) {
  const [amount, setAmount] = useState('');
  const [pkg, setPkg] = useState(null);
  const [order, setOrder] = useState(null); // the payment order waiting for its pay step
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const channel = (wallet.channels || [])[0];

  async function create(e) {
    e.preventDefault();
    setError('');
    const body = { channel };
    if (pkg) body.package_id = pkg;
    else {
      const fen = parseYuan(amount);
      if (!fen) {
        setError(t('h5.wallet.bad_amount'));
        return;
      }
      body.amount_fen = fen;
    }
    setBusy(true);
    try {
      setOrder(await api.post('/wallet/recharge', body));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  async function pay() {
    setBusy(true);
    setError('');
    try {
      const path = order.pay_params?.confirm_path || `/pay/sandbox/${encodeURIComponent(order.payment_id)}/confirm`;
      await api.post(apiPath(path), {});
      notify(t('h5.wallet.paid', { p: fmtMoney(order.amount_fen) }));
      setOrder(null);
      setAmount('');
      setPkg(null);
      onPaid();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  if (!wallet.online_recharge || !channel) return html`<p class="muted">${t('h5.wallet.no_online')}</p>`;
  if (order) {
    return html`<div class="pay-step" id="pay-step">
      <p>${t('h5.wallet.order', { p: fmtMoney(order.amount_fen) })}${order.payment?.bonus_fen ? ` + ${t('h5.wallet.bonus')} ${fmtMoney(order.payment.bonus_fen)}` : ''}</p>
      ${order.channel === 'sandbox'
        ? html`<p class="muted">${t('h5.wallet.sandbox')}</p>
            <button type="button" class="primary big wide" id="pay" disabled=${busy} onClick=${pay}>${t('h5.wallet.pay', { p: fmtMoney(order.amount_fen) })}</button>`
        : html`<p class="muted">${t('h5.wallet.pay_in_app', { app: word('channels', order.channel) })}</p>`}
      <button type="button" class="big wide" onClick=${() => setOrder(null)}>${t('common.cancel')}</button>
      ${error && html`<div class="error-box" role="alert">${error}</div>`}
    </div>`;
  }
  return html`<form id="recharge-form" onSubmit=${create}>
    ${wallet.packages?.length
      ? html`<fieldset class="choices"><legend>${t('h5.wallet.packages')}</legend>
          ${wallet.packages.map(
            (p) => html`<button type="button" class=${`choice ${pkg === p.id ? 'chosen' : ''}`} aria-pressed=${pkg === p.id}
              onClick=${() => (setPkg(p.id), setAmount(''))}>
              ${fmtMoney(p.amount_fen ?? p.pay_fen)}${p.bonus_fen ? html`<small>${t('h5.wallet.gift', { p: fmtMoney(p.bonus_fen) })}</small>` : null}</button>`,
          )}</fieldset>`
      : null}
    <fieldset class="choices"><legend>${t('h5.wallet.amounts')}</legend>
      ${PRESETS_FEN.map(
        (f) => html`<button type="button" class=${`choice ${!pkg && parseYuan(amount) === f ? 'chosen' : ''}`}
          aria-pressed=${!pkg && parseYuan(amount) === f} data-fen=${f}
          onClick=${() => (setPkg(null), setAmount(fenToYuanText(f)))}>${fmtMoney(f)}</button>`,
      )}
    </fieldset>
    <div class="field">
      <label for="recharge-amount">${t('h5.wallet.amount')}</label>
      <input id="recharge-amount" inputmode="decimal" autocomplete="off" value=${amount}
        onInput=${(e) => (setPkg(null), setAmount(e.currentTarget.value))} />
    </div>
    ${error && html`<div class="error-box" role="alert" id="recharge-error">${error}</div>`}
    <button type="submit" class="primary big wide" id="recharge" disabled=${busy}>${t('h5.wallet.recharge')}</button>
  </form>`;
}

function Ledger({ version }) {
  const [which, setWhich] = useState('real');
  const [entries, setEntries] = useState([]);
  const [more, setMore] = useState(false);
  const [error, setError] = useState(null);
  async function load(before) {
    try {
      const r = await api.get('/wallet/ledger', { limit: LEDGER_PAGE, before_id: before });
      const got = r.entries || [];
      setEntries((xs) => (before ? [...xs, ...got] : got));
      setMore(got.length === LEDGER_PAGE);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    load();
  }, [version]);
  const field = which === 'real' ? 'real_fen' : 'bonus_fen';
  const after = which === 'real' ? 'real_after' : 'bonus_after';
  const shown = entries.filter((e) => e[field]);
  return html`<section class="card" id="ledger">
    <h2>${t('h5.wallet.ledger')}</h2>
    <${Tabs} value=${which} onChange=${setWhich} tabs=${[
      { value: 'real', label: t('h5.wallet.real') },
      { value: 'bonus', label: t('h5.wallet.bonus') },
    ]} />
    <${ErrorBox} error=${error} />
    ${shown.length
      ? html`<ul class="ledger">
          ${shown.map(
            (e) => html`<li data-entry=${e.id}>
              <div class="ledger-top"><span>${word('ledger', e.kind)}</span>
                <strong class=${e[field] < 0 ? 'minus' : 'plus'}>${e[field] > 0 ? '+' : ''}${fmtMoney(e[field])}</strong></div>
              <div class="muted ledger-sub"><span>${fmtTime(e.at)}</span><span>${t('h5.wallet.after', { p: fmtMoney(e[after]) })}</span></div>
              ${e.note ? html`<div class="muted">${e.note}</div>` : null}
            </li>`,
          )}
        </ul>`
      : html`<p class="muted">${t('common.empty')}</p>`}
    ${more && html`<button type="button" class="big wide" onClick=${() => load(entries[entries.length - 1].id)}>${t('h5.wallet.more')}</button>`}
  </section>`;
}

export function WalletPage() {
  const { data: w, error, reload } = useFetch('/wallet');
  const [version, setVersion] = useState(0);
  return html`<${H5Page} title=${t('h5.wallet.title')} back="/me" id="wallet">
    <${ErrorBox} error=${error} />
    ${w &&
    html`<div class="stats wallet-stats">
        <${Stat} id="balance" label=${t('h5.wallet.real')} value=${fmtMoney(w.balance_fen)} />
        <${Stat} id="bonus" label=${t('h5.wallet.bonus')} value=${fmtMoney(w.bonus_fen)} />
        ${w.arrears_fen ? html`<${Stat} id="arrears" label=${t('h5.wallet.arrears')} value=${fmtMoney(w.arrears_fen)} />` : null}
      </div>
      ${w.frozen ? html`<div class="error-box" role="alert">${t('errors.account_frozen')}</div>` : null}
      <section class="card"><h2>${t('h5.wallet.recharge')}</h2>
        <${Recharge} wallet=${w} onPaid=${() => (reload(), setVersion((v) => v + 1))} /></section>
      <${Ledger} version=${version} />`}
  <//>`;
}

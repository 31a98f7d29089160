// "Me": the profile (phone, name), the wallet's balances, links to cards, plates, orders, contact
// and the agreement, the language and sign-out; and those small pages themselves.
import { html, useEffect, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtMoney } from '../../static/lib/fmt.js';
import { act, Badge, ErrorBox, errorText, LangSwitch, notify, useFetch } from '../../static/lib/ui.js';
import { api, signOut, signedIn } from '../api.js';
import { ActiveBanner, H5Page, word } from '../ui.js';

function NameForm({ me, onSaved }) {
  const [name, setName] = useState(me.name || '');
  useEffect(() => setName(me.name || ''), [me.name]);
  return html`<form class="inline-form" id="name-form" onSubmit=${async (e) => {
    e.preventDefault();
    if (await act(() => api.put('/me', { name: name.trim() }), t('h5.me.saved'))) onSaved();
  }}>
    <div class="field">
      <label for="me-name">${t('h5.me.name')}</label>
      <input id="me-name" maxlength="64" autocomplete="nickname" value=${name} onInput=${(e) => setName(e.currentTarget.value)} />
    </div>
    <button type="submit" class="big">${t('common.save')}</button>
  </form>`;
}

export function MePage() {
  const { data: me, error, reload } = useFetch('/me');
  const links = [
    ['/wallet', 'h5.wallet.title'],
    ['/orders', 'h5.orders.title'],
    ['/cards', 'h5.cards.title'],
    ['/plates', 'h5.plates.title'],
    ['/contact', 'h5.contact.title'],
    ['/agreement', 'h5.agreement.title'],
  ];
  return html`<${H5Page} title=${t('h5.me.title')} id="me">
    <${ErrorBox} error=${error} />
    ${me &&
    html`<section class="card profile">
        <div class="profile-phone" id="me-phone">${me.phone}</div>
        ${me.frozen ? html`<div class="error-box" role="alert">${t('errors.account_frozen')}</div>` : null}
        <a class="wallet-line" href="#/wallet">
          <span>${t('h5.wallet.real')} <strong id="me-balance">${fmtMoney(me.wallet?.balance_fen)}</strong></span>
          <span>${t('h5.wallet.bonus')} <strong>${fmtMoney(me.wallet?.bonus_fen)}</strong></span>
        </a>
        ${me.wallet?.arrears_fen ? html`<p class="error-box">${t('h5.wallet.arrears')}: ${fmtMoney(me.wallet.arrears_fen)}</p>` : null}
        <${NameForm} me=${me} onSaved=${reload} />
      </section>
      <${ActiveBanner} me=${me} />`}
    <nav class="card link-list" aria-label=${t('h5.me.title')}>
      ${links.map(([to, key]) => html`<a href=${`#${to}`}>${t(key)}<span aria-hidden="true">›</span></a>`)}
    </nav>
    <section class="card">
      <${LangSwitch} id="me-lang" />
      <button type="button" class="danger big wide" id="logout" onClick=${() => signOut()}>${t('h5.me.logout')}</button>
    </section>
  <//>`;
}

export function CardsPage() {
  const { data: me, error, reload } = useFetch('/me');
  const [cardNo, setCardNo] = useState('');
  const [name, setName] = useState('');
  const card = me?.card;
  const cardAct = async (path, okKey, confirmKey) => {
    if (confirmKey && !confirm(t(confirmKey))) return;
    if (await act(() => api.post(path, {}), t(okKey))) reload();
  };
  return html`<${H5Page} title=${t('h5.cards.title')} back="/me" id="cards">
    <${ErrorBox} error=${error} />
    ${me &&
    (card
      ? html`<section class="card" id="my-card">
          <dl class="kv">
            <dt>${t('h5.cards.card_no')}</dt><dd id="card-no">${card.card_no}</dd>
            ${card.name ? html`<dt>${t('h5.cards.name')}</dt><dd>${card.name}</dd>` : null}
            <dt>${t('h5.cards.status')}</dt><dd><${Badge} value=${card.status} /></dd>
          </dl>
          <div class="button-row">
            ${card.status !== 'lost'
              ? html`<button type="button" class="danger big" id="card-lost"
                  onClick=${() => cardAct('/cards/report-lost', 'h5.cards.lost_done', 'h5.cards.lost_confirm')}>${t('h5.cards.report_lost')}</button>`
              : null}
            <button type="button" class="big" id="card-unbind"
              onClick=${() => cardAct('/cards/unbind', 'h5.cards.unbound', 'h5.cards.unbind_confirm')}>${t('h5.cards.unbind')}</button>
          </div>
        </section>`
      : html`<form class="card" id="bind-form" onSubmit=${async (e) => {
          e.preventDefault();
          const body = { card_no: cardNo.trim() };
          if (name.trim()) body.name = name.trim();
          if (await act(() => api.post('/cards/bind', body), t('h5.cards.bound'))) reload();
        }}>
          <p class="muted">${t('h5.cards.none')}</p>
          <div class="field"><label for="card-no-in">${t('h5.cards.card_no')}</label>
            <input id="card-no-in" required maxlength="32" autocomplete="off" value=${cardNo} onInput=${(e) => setCardNo(e.currentTarget.value)} /></div>
          <div class="field"><label for="card-name-in">${t('h5.cards.name')}</label>
            <input id="card-name-in" maxlength="64" value=${name} onInput=${(e) => setName(e.currentTarget.value)} /></div>
          <p class="muted">${t('h5.cards.fee_note')}</p>
          <button type="submit" class="primary big wide">${t('h5.cards.bind')}</button>
        </form>`)}
  <//>`;
}

const COLORS = ['blue', 'green', 'yellow_green', 'yellow', 'white', 'black'];

export function PlatesPage() {
  const { data, error, reload } = useFetch('/me/plates');
  const [plate, setPlate] = useState('');
  const [color, setColor] = useState('blue');
  return html`<${H5Page} title=${t('h5.plates.title')} back="/me" id="plates">
    <${ErrorBox} error=${error} />
    <ul class="plate-list">
      ${(data?.plates || []).map(
        (p) => html`<li class="card plate" data-plate=${p.plate}>
          <span class=${`plate-no plate-${p.color}`}>${p.plate}</span>
          <span class="muted">${word('colors', p.color)} · ${p.certified ? t('h5.plates.certified') : t('h5.plates.uncertified')}</span>
          <button type="button" class="danger" onClick=${async () => {
            if (confirm(t('h5.plates.remove_confirm', { plate: p.plate })) &&
              (await act(() => api.del(`/me/plates/${encodeURIComponent(p.plate)}`), t('h5.plates.removed')))) reload();
          }}>${t('h5.plates.remove')}</button>
        </li>`,
      )}
    </ul>
    ${data && !data.plates?.length ? html`<p class="muted">${t('h5.plates.none')}</p>` : null}
    <form class="card" id="plate-form" onSubmit=${async (e) => {
      e.preventDefault();
      if (await act(() => api.post('/me/plates', { plate: plate.trim().toUpperCase(), color }), t('h5.plates.added'))) {
        setPlate('');
        reload();
      }
    }}>
      <div class="field"><label for="plate-in">${t('h5.plates.plate')}</label>
        <input id="plate-in" required maxlength="16" autocomplete="off" placeholder="粤B12345" value=${plate}
          onInput=${(e) => setPlate(e.currentTarget.value)} /></div>
      <div class="field"><label for="plate-color">${t('h5.plates.color')}</label>
        <select id="plate-color" value=${color} onChange=${(e) => setColor(e.currentTarget.value)}>
          ${COLORS.map((c) => html`<option value=${c} selected=${c === color}>${word('colors', c)}</option>`)}
        </select></div>
      <button type="submit" class="primary big wide">${t('h5.plates.add')}</button>
    </form>
  <//>`;
}

const CATEGORIES = ['no_power', 'cannot_start', 'cannot_stop', 'damaged', 'billing', 'other'];

// Service: how to reach the operator, and a fault report on a socket (POST /fault-reports).
export function ContactPage({ query }) {
  const [socket, setSocket] = useState(query?.get('socket') || '');
  const [category, setCategory] = useState('other');
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  const sessionId = query?.get('session') || '';
  const { data: reports, reload } = useFetch('/fault-reports');
  async function submit(e) {
    e.preventDefault();
    setError('');
    const body = { text: text.trim(), category };
    if (socket.trim()) body.socket_code = socket.trim();
    if (sessionId) body.session_id = sessionId;
    try {
      await api.post('/fault-reports', body);
      notify(t('h5.contact.sent'));
      setText('');
      reload();
    } catch (err) {
      setError(errorText(err));
    }
  }
  return html`<${H5Page} title=${t('h5.contact.title')} back="/me" id="contact">
    <section class="card"><p>${t('h5.contact.intro')}</p></section>
    <form class="card" id="report-form" onSubmit=${submit}>
      <h2>${t('h5.contact.report')}</h2>
      <div class="field"><label for="report-socket">${t('h5.scan.code')}</label>
        <input id="report-socket" autocomplete="off" value=${socket} onInput=${(e) => setSocket(e.currentTarget.value)} /></div>
      <div class="field"><label for="report-category">${t('h5.contact.category')}</label>
        <select id="report-category" value=${category} onChange=${(e) => setCategory(e.currentTarget.value)}>
          ${CATEGORIES.map((c) => html`<option value=${c} selected=${c === category}>${word('categories', c)}</option>`)}
        </select></div>
      <div class="field"><label for="report-text">${t('h5.contact.text')}</label>
        <textarea id="report-text" rows="4" required maxlength="500" value=${text} onInput=${(e) => setText(e.currentTarget.value)}></textarea></div>
      ${error && html`<div class="error-box" role="alert">${error}</div>`}
      <button type="submit" class="primary big wide">${t('h5.contact.send')}</button>
    </form>
    ${reports?.reports?.length
      ? html`<section class="card"><h2>${t('h5.contact.mine')}</h2><ul class="ledger">
          ${reports.reports.map((r) => html`<li><div class="ledger-top"><span>${r.socket_code || r.device_id || ''} · ${word('categories', r.category)}</span><${Badge} value=${r.state || r.status} /></div>
            <div class="muted">${r.text}</div></li>`)}</ul></section>`
      : null}
  <//>`;
}

export function AgreementPage() {
  const paras = t('h5.agreement.body').split('\n');
  return html`<${H5Page} title=${t('h5.agreement.title')} back=${signedIn() ? '/me' : '/login'} id="agreement">
    <section class="card agreement">${paras.map((p) => html`<p>${p}</p>`)}</section>
  <//>`;
}

// A socket (or EV gun) by its code: its state and station, the modes its tariff offers with their
// prices, the rider's balance, and the start button (POST /sessions) that opens the live session.
import { html, useEffect, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtMoney, fmtPower } from '../../static/lib/fmt.js';
import { navigate } from '../../static/lib/router.js';
import { ErrorBox, errorText, useFetch } from '../../static/lib/ui.js';
import { api } from '../api.js';
import { ActiveBanner, H5Page, ModePrices, StateBadge, word } from '../ui.js';

export function SocketPage({ params }) {
  const code = params.code;
  const { data: s, error } = useFetch(`/sockets/${encodeURIComponent(code)}`);
  const { data: wallet } = useFetch('/wallet');
  const { data: me } = useFetch('/me');
  const [mode, setMode] = useState('');
  const [minutes, setMinutes] = useState('');
  const [maxFen, setMaxFen] = useState('');
  const [startError, setStartError] = useState(null);
  const [busy, setBusy] = useState(false);

  const modes = s?.modes || [];
  const isGun = s?.kind === 'ev_gun';
  useEffect(() => {
    if (modes.length && !modes.some((m) => m.mode === mode)) setMode(modes[0].mode);
  }, [s]);
  const chosen = modes.find((m) => m.mode === mode);
  useEffect(() => {
    if (chosen?.mode === 'time' && chosen.options?.length && !minutes) setMinutes(String(chosen.options[0].minutes));
  }, [mode, s]);

  async function start() {
    setStartError(null);
    setBusy(true);
    try {
      const body = { socket: code, mode };
      if (mode === 'time' && minutes) body.minutes = Number(minutes);
      if (maxFen) body.max_fen = Number(maxFen);
      const r = await api.post('/sessions', body);
      navigate(`/session/${encodeURIComponent(r.session.id)}`);
    } catch (e) {
      setStartError(e);
    } finally {
      setBusy(false);
    }
  }

  return html`<${H5Page} title=${t('h5.socket.title', { code })} back="/scan" id="socket">
    <${ErrorBox} error=${error} />
    ${me && html`<${ActiveBanner} me=${me} />`}
    ${s &&
    html`<section class="card socket-head">
        <div class="socket-state"><span class="muted">${t('h5.socket.state')}</span> <span id="socket-state"><${StateBadge} value=${s.state} /></span></div>
        <div><span class="muted">${t('h5.socket.kind')}</span> ${isGun ? t('h5.stations.guns') : t('h5.stations.sockets')}
          ${s.rated_power_w || s.power_w ? html` · ${fmtPower(s.rated_power_w || s.power_w)}` : null}</div>
        <div><span class="muted">${t('h5.socket.station')}</span> <a href=${`#/station/${s.station?.id}`}>${s.station?.name}</a></div>
        ${s.tariff?.name && html`<div class="muted">${s.tariff.name}</div>`}
      </section>
      <form class="card" id="start-form" onSubmit=${(e) => {
        e.preventDefault();
        if (!busy) start();
      }}>
        <fieldset class="modes">
          <legend>${t('h5.socket.mode')}</legend>
          ${modes.map(
            (m) => html`<div class=${`mode-option ${m.mode === mode ? 'chosen' : ''}`}>
              <input type="radio" name="mode" id=${`mode-${m.mode}`} value=${m.mode} checked=${m.mode === mode}
                onChange=${() => setMode(m.mode)} />
              <label for=${`mode-${m.mode}`}><strong>${word('modes', m.mode)}</strong>
                <span class="muted mode-hint">${t(`h5.mode_hint.${m.mode}`)}</span></label>
              <${ModePrices} m=${m} />
            </div>`,
          )}
        </fieldset>
        ${chosen?.mode === 'time' && chosen.options?.length
          ? html`<div class="field">
              <label for="minutes">${t('h5.socket.minutes')}</label>
              <select id="minutes" value=${minutes} onChange=${(e) => setMinutes(e.currentTarget.value)}>
                ${chosen.options.map((o) => html`<option value=${o.minutes} selected=${String(o.minutes) === minutes}>
                  ${t('h5.prices.option', { min: o.minutes, p: fmtMoney(o.price_fen) })}</option>`)}
              </select>
            </div>`
          : null}
        ${isGun && s.prepaid_amounts_fen?.length
          ? html`<div class="field">
              <label for="max-fen">${t('h5.socket.prepaid')}</label>
              <select id="max-fen" value=${maxFen} onChange=${(e) => setMaxFen(e.currentTarget.value)}>
                <option value="">${t('h5.socket.no_prepaid')}</option>
                ${s.prepaid_amounts_fen.map((f) => html`<option value=${f} selected=${String(f) === maxFen}>${fmtMoney(f)}</option>`)}
              </select>
            </div>`
          : null}
        <p class="balance-line">${t('h5.socket.balance')}: <strong id="socket-balance">${wallet ? fmtMoney(wallet.available_fen ?? wallet.balance_fen) : '—'}</strong>
          <a href="#/wallet">${t('h5.wallet.recharge')}</a></p>
        ${s.min_start_balance_fen ? html`<p class="muted">${t('h5.prices.min_start', { p: fmtMoney(s.min_start_balance_fen) })}</p>` : null}
        ${startError && html`<div class="error-box" role="alert" id="start-error">${errorText(startError)}
          ${startError.code === 'balance_too_low' || startError.code === 'arrears' ? html` <a href="#/wallet">${t('h5.wallet.recharge')}</a>` : null}</div>`}
        <button type="submit" class="primary big" id="start" disabled=${busy || s.state !== 'free' || !mode}>
          ${s.state === 'free' ? t('h5.socket.start') : t('h5.socket.not_free')}</button>
      </form>`}
  <//>`;
}

// A session, live while it runs (GET /sessions/{id} every 2 s: power, energy, time, cost and the
// power curve), with its stop button; once settled, the bill and the wallet's balance after it.
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { Chart } from '../../static/lib/charts.js';
import { fmtDuration, fmtEnergy, fmtMoney, fmtPower, fmtTime } from '../../static/lib/fmt.js';
import { usePoll } from '../../static/lib/poll.js';
import { Badge, ErrorBox, act, Stat } from '../../static/lib/ui.js';
import { api } from '../api.js';
import { H5Page, word } from '../ui.js';

const LIVE = ['starting', 'charging', 'stopping', 'suspended', 'settling'];
const STOPPABLE = ['starting', 'charging', 'suspended'];

export function SessionPage({ params }) {
  const id = params.id;
  const [s, setS] = useState(null);
  const [error, setError] = useState(null);
  const [points, setPoints] = useState([]); // [{t, power_w}] seen while polling
  const [wallet, setWallet] = useState(null);
  const [stopping, setStopping] = useState(false);
  const done = s && !LIVE.includes(s.state) && s.settled !== false;

  usePoll(
    async () => {
      if (done && wallet) return;
      try {
        const r = await api.get(`/sessions/${encodeURIComponent(id)}`);
        setS(r);
        setError(null);
        if (LIVE.includes(r.state) && r.started_at) {
          setPoints((ps) => [...ps, { s: r.duration_s, power_w: r.power_w }].slice(-300));
        }
        if (!LIVE.includes(r.state) && r.settled !== false) setWallet(await api.get('/wallet'));
      } catch (e) {
        setError(e);
      }
    },
    2000,
    [id, done && !!wallet],
  );

  async function stop() {
    setStopping(true);
    const r = await act(() => api.post(`/sessions/${encodeURIComponent(id)}/stop`, {}), t('h5.session.stop_sent'));
    if (r?.session) setS((old) => ({ ...old, ...r.session }));
    setStopping(false);
  }

  // The API's curve (the samples the platform kept) when it has more points than this page polled;
  // the x axis is the time since the start either way.
  const start = s?.started_at ? Date.parse(s.started_at) : NaN;
  const kept = (s?.curve || []).map((c) => ({ s: (Date.parse(c.t) - start) / 1000, power_w: c.power_w }));
  const curve = (kept.length >= points.length ? kept : points).map((p) => ({ t: fmtDuration(p.s), power_w: p.power_w }));
  const live = s && LIVE.includes(s.state);
  return html`<${H5Page} title=${t('h5.session.title')} back="/orders" id="session">
    <${ErrorBox} error=${error} />
    ${!s && !error && html`<p class="loading">${t('common.loading')}</p>`}
    ${s &&
    html`<section class="card">
        <div class="session-head">
          <span id="session-state"><${Badge} value=${s.state} /></span>
          <a href=${`#/socket/${encodeURIComponent(s.socket)}`}>${s.socket}</a>
          <span class="muted">${word('modes', s.mode)}</span>
        </div>
        <div class="stats live-stats">
          <${Stat} id="power" label=${t('h5.session.power')} value=${fmtPower(s.power_w)} />
          <${Stat} id="energy" label=${t('h5.session.energy')} value=${fmtEnergy(s.energy_wh)} />
          <${Stat} id="duration" label=${t('h5.session.duration')} value=${fmtDuration(s.duration_s)} />
          <${Stat} id="cost" label=${t('h5.session.cost')} value=${fmtMoney(s.cost_fen)} />
        </div>
        ${s.soc_pct !== null && s.soc_pct !== undefined ? html`<p>${t('h5.session.soc')}: ${s.soc_pct}%</p>` : null}
        ${s.max_fen ? html`<p class="muted">${t('h5.socket.prepaid')}: ${fmtMoney(s.max_fen)}</p>` : null}
      </section>
      ${curve.length
        ? html`<section class="card"><h2>${t('h5.session.curve')}</h2>
            <${Chart} kind="line" height=${180} labels=${curve.map((p) => p.t)} y="W" label=${t('h5.session.curve')}
              series=${[{ label: t('h5.session.power'), data: curve.map((p) => p.power_w) }]} /></section>`
        : null}
      ${live && STOPPABLE.includes(s.state)
        ? html`<button type="button" class="danger big wide" id="stop" disabled=${stopping} onClick=${stop}>${t('h5.session.stop')}</button>`
        : null}
      ${live && !STOPPABLE.includes(s.state) ? html`<p class="muted" id="settling">${t('h5.session.settling')}</p>` : null}
      ${done &&
      html`<section class="card bill" id="bill">
        <h2>${t('h5.session.bill')}</h2>
        <dl class="kv">
          <dt>${t('h5.session.total')}</dt><dd id="bill-total"><strong>${fmtMoney(s.cost_fen)}</strong></dd>
          ${s.electricity_fen !== null && s.electricity_fen !== undefined
            ? html`<dt>${t('h5.session.electricity')}</dt><dd>${fmtMoney(s.electricity_fen)}</dd>
                <dt>${t('h5.session.service')}</dt><dd>${fmtMoney(s.service_fen)}</dd>`
            : null}
          <dt>${t('h5.session.energy')}</dt><dd>${fmtEnergy(s.energy_wh)}</dd>
          <dt>${t('h5.session.duration')}</dt><dd>${fmtDuration(s.duration_s)}</dd>
          <dt>${t('h5.session.started')}</dt><dd>${fmtTime(s.started_at)}</dd>
          <dt>${t('h5.session.ended')}</dt><dd>${fmtTime(s.ended_at)}</dd>
          <dt>${t('h5.session.reason')}</dt><dd id="bill-reason">${word('reasons', s.stop_reason)}</dd>
          ${wallet ? html`<dt>${t('h5.session.balance_after')}</dt><dd id="bill-balance">${fmtMoney(wallet.balance_fen)}</dd>` : null}
        </dl>
        <a class="button-link" href=${`#/contact?session=${encodeURIComponent(s.id)}&socket=${encodeURIComponent(s.socket)}`}>${t('h5.contact.report')}</a>
      </section>`}`}
  <//>`;
}

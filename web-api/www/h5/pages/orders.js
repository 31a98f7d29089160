// The rider's sessions, newest first (running ones or all), each opening its live view or bill.
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtDuration, fmtEnergy, fmtMoney, fmtTime } from '../../static/lib/fmt.js';
import { Badge, ErrorBox, Pager, Tabs, useList } from '../../static/lib/ui.js';
import { H5Page, word } from '../ui.js';

export function OrdersPage() {
  const [state, setState] = useState('all');
  const list = useList('/sessions', 'sessions', { state }, 10);
  return html`<${H5Page} title=${t('h5.orders.title')} id="orders">
    <${Tabs} value=${state} onChange=${setState} tabs=${[
      { value: 'all', label: t('common.all') },
      { value: 'active', label: t('h5.orders.active') },
    ]} />
    <${ErrorBox} error=${list.error} />
    ${list.loading && !list.rows.length ? html`<p class="loading">${t('common.loading')}</p>` : null}
    ${!list.loading && !list.rows.length ? html`<p class="muted">${t('h5.orders.none')}</p>` : null}
    <ul class="order-list">
      ${list.rows.map(
        (s) => html`<li class="card order" data-session=${s.id}>
          <a href=${`#/session/${encodeURIComponent(s.id)}`}>
            <div class="order-top"><strong>${s.socket}</strong><${Badge} value=${s.state} /></div>
            <div class="muted">${fmtTime(s.started_at || s.created_at)} · ${word('modes', s.mode)}</div>
            <div class="order-figures">
              <span>${fmtEnergy(s.energy_wh)}</span><span>${fmtDuration(s.duration_s)}</span>
              <strong class="order-cost">${fmtMoney(s.cost_fen)}</strong>
            </div>
          </a>
        </li>`,
      )}
    </ul>
    <${Pager} offset=${list.offset} limit=${list.limit} count=${list.rows.length} onOffset=${list.setOffset} />
  <//>`;
}

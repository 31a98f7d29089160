// Riders' accounts (seed 002 §2): search by phone or name, the frozen filter, paging, and opening
// an account at the counter (POST /admin/users), which then opens its counter desk.
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtMoney } from '../../static/lib/fmt.js';
import { navigate } from '../../static/lib/router.js';
import { Form, Input, Link, ListView, Modal, Page, Select, act, time, useFetch, useList } from '../../static/lib/ui.js';
import { api, can } from '../api.js';
import { Word } from './counter-common.js';

// The stations the operator sees, as select options (first: none / all).
export function useStationOptions(first) {
  const st = useFetch('/admin/stations');
  const list = (st.data && st.data.stations) || [];
  return { list, options: [{ value: '', label: first }, ...list.map((s) => ({ value: s.id, label: s.name }))] };
}

function OpenAccount({ onClose }) {
  const [phone, setPhone] = useState('');
  const [name, setName] = useState('');
  const [station, setStation] = useState('');
  const stations = useStationOptions(t('counter.no_station'));
  return html`<${Form} id="open-account-form" submitLabel=${t('counter.open_account')} onSubmit=${async () => {
    const u = await act(
      () => api.post('/admin/users', { phone: phone.trim(), name: name.trim() || undefined, station_id: station ? Number(station) : undefined }),
      t('counter.account_opened'),
    );
    if (u) {
      onClose();
      navigate(`/users/${u.id}`);
    }
  }}>
    <${Input} id="open-phone" label=${t('common.phone')} value=${phone} onValue=${setPhone} required inputmode="tel" autocomplete="off" />
    <${Input} id="open-name" label=${t('counter.rider_name')} value=${name} onValue=${setName} autocomplete="off" />
    <${Select} id="open-station" label=${t('counter.home_station')} value=${station} onValue=${setStation} options=${stations.options} />
  </${Form}>`;
}

export function UsersPage() {
  const [q, setQ] = useState('');
  const [frozen, setFrozen] = useState('');
  const [query, setQuery] = useState({});
  const [opening, setOpening] = useState(false);
  const list = useList('/admin/users', 'users', query);
  const stations = useStationOptions('');
  const stationName = (id) => (stations.list.find((s) => s.id === id) || {}).name || '—';
  const columns = [
    { key: 'id', label: 'ID', render: (r) => html`<${Link} to=${`/users/${r.id}`}>${r.id}</${Link}>` },
    { key: 'phone', label: t('common.phone'), render: (r) => html`<${Link} to=${`/users/${r.id}`}>${r.phone}</${Link}>` },
    { key: 'name', label: t('counter.rider_name') },
    { key: 'balance', label: t('counter.real_balance'), class: 'num', render: (r) => fmtMoney(r.wallet.balance_fen) },
    { key: 'bonus', label: t('counter.bonus_balance'), class: 'num', render: (r) => fmtMoney(r.wallet.bonus_fen) },
    { key: 'arrears', label: t('counter.arrears'), class: 'num', render: (r) => fmtMoney(r.wallet.arrears_fen) },
    { key: 'frozen', label: t('common.state'), render: (r) => html`<${Word} value=${r.frozen ? 'frozen' : 'normal'} />` },
    { key: 'home_station_id', label: t('counter.home_station'), render: (r) => stationName(r.home_station_id) },
    time('created_at', t('counter.opened_at')),
    { key: 'act', label: t('common.actions'), render: (r) => html`<${Link} to=${`/users/${r.id}`}>${t('counter.desk')}</${Link}>` },
  ];
  return html`<${Page} title=${t('counter.users_title')}
      actions=${can('users.write') && html`<button type="button" class="primary" id="open-account" onClick=${() => setOpening(true)}>${t('counter.open_account')}</button>`}>
    <${ListView} list=${list} columns=${columns}
      onSearch=${() => setQuery({ q: q.trim(), frozen })}
      filters=${html`
        <${Input} id="users-q" label=${t('counter.search_users')} value=${q} onValue=${setQ} />
        <${Select} id="users-frozen" label=${t('common.state')} value=${frozen} onValue=${setFrozen}
          options=${[{ value: '', label: t('common.all') }, { value: 'false', label: t('counter.words.normal') }, { value: 'true', label: t('counter.words.frozen') }]} />`} />
    <${Modal} open=${opening} title=${t('counter.open_account')} onClose=${() => setOpening(false)}>
      <${OpenAccount} onClose=${() => setOpening(false)} />
    </${Modal}>
  </${Page}>`;
}

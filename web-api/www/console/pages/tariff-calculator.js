// The billing calculator (/tariff-calculator): POST /admin/tariff-quote prices a session with a
// tariff (a station's version in force, or a library scheme) by the same engine that settles
// sessions. The session is described by its mode, start time, duration, energy and highest power;
// the page sends two meter samples (start: 0 Wh, end: the energy) and shows the quote's lines and total.
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fmtMoney, parseYuan } from '../../static/lib/fmt.js';
import { Card, ErrorBox, Form, Input, Page, Select, Stat, Table, useFetch } from '../../static/lib/ui.js';
import { api } from '../api.js';
import { storedDraft } from './tariff-form.js';

// "+08:00" for a fixed-offset IANA zone (the zones a tariff may use have no daylight saving).
export function zoneOffset(zone, at = new Date()) {
  try {
    const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
      .formatToParts(at)
      .find((p) => p.type === 'timeZoneName').value;
    const m = /GMT([+-]\d{2}:\d{2})?/.exec(name);
    return m && m[1] ? m[1] : '+00:00';
  } catch {
    return '+08:00';
  }
}

// kWh typed with up to 3 decimals as integer Wh; null when not a number.
export function parseKwh(text) {
  const m = /^\s*(\d{1,6})(?:\.(\d{0,3}))?\s*$/.exec(String(text ?? ''));
  return m ? Number(m[1]) * 1000 + Number((m[2] ?? '').padEnd(3, '0')) : null;
}

// The local date and time `YYYY-MM-DDTHH:MM` plus `minutes` (wall clock arithmetic, no zone).
function addMinutes(local, minutes) {
  const d = new Date(`${local}:00Z`);
  return new Date(d.getTime() + minutes * 60000).toISOString().slice(0, 19);
}

// The quote request of the form's values, or {error}.
export function quoteRequest(tariff, f) {
  const minutes = Number.parseInt(f.duration, 10);
  const wh = parseKwh(f.energy);
  const power = Number.parseInt(f.power, 10);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(f.start) || !(minutes > 0) || wh === null || !(power >= 0)) return { error: true };
  const off = zoneOffset(tariff.timezone || 'Asia/Shanghai');
  const body = {
    tariff,
    mode: f.mode,
    samples: [
      { t: `${f.start}:00${off}`, energy_wh: 0, power_w: power },
      { t: `${addMinutes(f.start, minutes)}${off}`, energy_wh: wh, power_w: power },
    ],
  };
  if (f.mode === 'time') body.minutes = Number.parseInt(f.option || minutes, 10);
  if (f.max_yuan.trim()) {
    const fen = parseYuan(f.max_yuan);
    if (fen === null) return { error: true };
    body.max_fen = fen;
  }
  if (f.stop_reason) body.stop_reason = f.stop_reason;
  return { body };
}

export function QuoteResult({ q }) {
  return html`<div id="quote-result">
    <div class="stats">
      <${Stat} id="cost_fen" label=${t('calc.total')} value=${fmtMoney(q.cost_fen)} />
      <${Stat} id="electricity_fen" label=${t('calc.electricity')} value=${fmtMoney(q.electricity_fen)} />
      <${Stat} id="service_fen" label=${t('calc.service')} value=${fmtMoney(q.service_fen)} />
      <${Stat} id="charged_s" label=${t('calc.charged_min')} value=${String(Math.floor(q.charged_s / 60))} />
    </div>
    <${Table} rows=${q.lines.map((l, i) => ({ ...l, i }))} rowKey="i" caption=${t('calc.lines')} columns=${[
      { key: 'kind', label: t('common.kind') },
      { key: 'text', label: t('calc.line') },
      { key: 'fen', label: t('common.amount'), class: 'num', render: (l) => fmtMoney(l.fen) },
    ]} />
    <p class="muted" id="quote-flags">
      ${['cap_applied', 'prepaid_applied', 'waived', 'overload', 'time_limited'].filter((k) => q[k]).map((k) => t(`calc.${k}`)).join(' · ')}
      ${(q.warnings || []).join(' · ')}
    </p>
  </div>`;
}

export function TariffCalculatorPage({ query }) {
  const stations = useFetch('/admin/stations');
  const schemes = useFetch('/admin/tariff-schemes');
  const [draft] = useState(() => (query.get('source') === 'draft' ? storedDraft() : null));
  const [source, setSource] = useState(draft ? 'draft:' : '');
  const list = (stations.data && stations.data.stations) || [];
  const src = source || (list[0] ? `station:${list[0].id}` : '');
  const [kind, id] = src.split(':');
  const tariffReply = useFetch(kind === 'station' ? `/admin/stations/${id}/tariff` : '');
  const tariff =
    kind === 'draft'
      ? draft
      : kind === 'scheme'
      ? ((schemes.data && schemes.data.schemes) || []).find((s) => String(s.id) === id)?.tariff
      : tariffReply.data && tariffReply.data.in_force && tariffReply.data.in_force.tariff;
  const today = new Date();
  const p = (x) => String(x).padStart(2, '0');
  const [f, setF] = useState({
    mode: '',
    start: `${today.getFullYear()}-${p(today.getMonth() + 1)}-${p(today.getDate())}T10:00`,
    duration: '60',
    energy: '1',
    power: '200',
    option: '',
    max_yuan: '',
    stop_reason: '',
  });
  const set = (patch) => setF((x) => ({ ...x, ...patch }));
  const [quote, setQuote] = useState(null);
  const [error, setError] = useState(null);
  const modes = (tariff && tariff.modes) || [];
  const mode = modes.includes(f.mode) ? f.mode : modes.includes('energy') ? 'energy' : modes[0] || '';
  const sourceOptions = [
    ...(draft ? [{ value: 'draft:', label: `${t('calc.draft')}: ${draft.name}` }] : []),
    ...list.map((s) => ({ value: `station:${s.id}`, label: `${t('common.station')}: ${s.name}` })),
    ...((schemes.data && schemes.data.schemes) || []).map((s) => ({ value: `scheme:${s.id}`, label: `${t('tariffs.scheme')}: ${s.name}` })),
  ];

  async function submit() {
    setError(null);
    if (!tariff) return setError({ message: t('tariffs.none') });
    const r = quoteRequest(tariff, { ...f, mode });
    if (r.error) return setError({ code: 'invalid_request', message: t('tariffs.fix_fields') });
    try {
      setQuote(await api.post('/admin/tariff-quote', r.body));
    } catch (e) {
      setQuote(null);
      setError(e);
    }
  }

  return html`<${Page} title=${t('calc.title')}>
    <div class="row">
      <${Card} title=${t('calc.session')}>
        <${Form} id="calc-form" onSubmit=${submit} submitLabel=${t('calc.quote')}>
          <div class="filters">
            <${Select} id="calc-source" label=${t('calc.tariff')} value=${src} onValue=${setSource} options=${sourceOptions} />
            <${Select} id="calc-mode" label=${t('tariffs.modes')} value=${mode} onValue=${(v) => set({ mode: v })}
              options=${modes.map((m) => ({ value: m, label: t(`tariffs.mode_${m}`) }))} />
            ${mode === 'time' &&
            html`<${Select} id="calc-option" label=${t('calc.option')} value=${f.option} onValue=${(v) => set({ option: v })}
              options=${[{ value: '', label: t('calc.option_duration') }, ...(tariff.time ? tariff.time.options_minutes : []).map((m) => ({ value: m, label: String(m) }))]} />`}
          </div>
          <div class="filters">
            <${Input} id="calc-start" type="datetime-local" label=${t('calc.start')} value=${f.start} onValue=${(v) => set({ start: v })} />
            <${Input} id="calc-duration" label=${t('calc.duration')} inputmode="numeric" value=${f.duration} onValue=${(v) => set({ duration: v })} />
            <${Input} id="calc-energy" label=${t('calc.energy')} inputmode="decimal" value=${f.energy} onValue=${(v) => set({ energy: v })} />
            <${Input} id="calc-power" label=${t('calc.power')} inputmode="numeric" value=${f.power} onValue=${(v) => set({ power: v })} />
            <${Input} id="calc-max" label=${t('calc.max_yuan')} inputmode="decimal" value=${f.max_yuan} onValue=${(v) => set({ max_yuan: v })} />
            <${Select} id="calc-stop" label=${t('calc.stop_reason')} value=${f.stop_reason} onValue=${(v) => set({ stop_reason: v })}
              options=${['', 'full', 'no_load', 'quota_reached'].map((v) => ({ value: v, label: v ? v : '—' }))} />
          </div>
        </${Form}>
        <div id="calc-error"><${ErrorBox} error=${error || tariffReply.error} /></div>
      </${Card}>
      <${Card} title=${t('calc.quote_title')}>
        ${quote ? html`<${QuoteResult} q=${quote} />` : html`<p class="muted">${t('calc.hint')}</p>`}
      </${Card}>
    </div>
  </${Page}>`;
}

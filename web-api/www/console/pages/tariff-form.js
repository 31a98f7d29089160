// The tariff document editor (BILLING.md §1, common/tariff.hpp), shared by the station tariff
// editor (tariffs.js) and the tariff library (tariff-schemes.js). Every mode of the document has its
// fields: time, power tiers, energy with TOU periods (the 48 half-hour slots as a day strip painted
// with a period), the service fee by energy / by hour / by power tier, free minutes, caps, parking,
// the balance limits and when the version takes effect. Prices are typed as yuan text: per hour in
// fen (parseYuan), per kWh in 0.0001 yuan (parseE4); no amount ever passes through a float.
import { html, useEffect, useRef, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { fenToYuanText, parseYuan } from '../../static/lib/fmt.js';
import { Checkbox, ErrorBox, Form, Input, Select } from '../../static/lib/ui.js';
import { navigate } from '../../static/lib/router.js';

export const PERIODS = ['sharp', 'peak', 'flat', 'valley'];
export const MODES = ['time', 'power', 'energy'];
const SLOTS = 48;

// "HH:MM" of half-hour slot i.
export const slotTime = (i) => `${String(Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`;

// 0.0001 yuan as exact text: 12000 -> "1.2000".
export function e4ToYuanText(e4) {
  const n = Math.trunc(Number(e4));
  const digits = String(Math.abs(n)).padStart(5, '0');
  return `${n < 0 ? '-' : ''}${digits.slice(0, -4)}.${digits.slice(-4)}`;
}
// Yuan per kWh typed with up to 4 decimals as integer 0.0001 yuan; null when not an amount.
export function parseE4(text) {
  const m = /^\s*(\d{1,7})(?:\.(\d{0,4}))?\s*$/.exec(String(text ?? ''));
  if (!m) return null;
  return Number(m[1]) * 10000 + Number((m[2] ?? '').padEnd(4, '0'));
}
const yuan = (fen) => (fen === null || fen === undefined ? '' : fenToYuanText(fen));
const intText = (v) => (v === null || v === undefined ? '' : String(v));
const parseIntText = (s) => (/^\s*\d{1,9}\s*$/.test(String(s ?? '')) ? Number(String(s).trim()) : null);

// A fresh document for a new scheme: time and power as in BILLING.md's example.
export function blankTariff() {
  return {
    name: '',
    timezone: 'Asia/Shanghai',
    modes: ['time'],
    time: { fen_per_hour: 100, options_minutes: [60, 120, 240, 480] },
    free_minutes: 0,
    cap: {},
  };
}

// The editable draft of a document: prices as yuan text, counts as text.
export function toDraft(doc) {
  const d = doc || blankTariff();
  const e = d.energy;
  const periods = {};
  for (const p of PERIODS) {
    const pp = e && e.periods && e.periods[p];
    periods[p] = { on: !!pp, elec: pp ? e4ToYuanText(pp.elec_e4) : '', service: pp ? e4ToYuanText(pp.service_e4) : '' };
  }
  if (!e) periods.flat = { on: true, elec: '1.0000', service: '0.0000' };
  return {
    name: d.name || '',
    timezone: d.timezone || 'Asia/Shanghai',
    free: !!d.free,
    free_minutes: intText(d.free_minutes ?? 0),
    modes: [...(d.modes || [])],
    time_price: yuan(d.time ? d.time.fen_per_hour : 100),
    time_options: (d.time ? d.time.options_minutes : [60, 120, 240, 480]).join(', '),
    tiers: (d.power ? d.power.tiers : [{ up_to_w: 300, fen_per_hour: 30 }]).map((x) => ({ up_to_w: intText(x.up_to_w), price: yuan(x.fen_per_hour) })),
    ignore_first_s: intText(d.power ? d.power.ignore_first_s : 60),
    periods,
    slots: e && e.slots && e.slots.length === SLOTS ? [...e.slots] : Array(SLOTS).fill(e ? 'flat' : 'flat'),
    service_by: e ? e.service_by || 'energy' : 'energy',
    service_hour: yuan(e && e.service_fen_per_hour !== undefined ? e.service_fen_per_hour : 0),
    cap_minutes: intText(d.cap && d.cap.max_minutes),
    cap_yuan: yuan(d.cap && d.cap.max_fen),
    parking_on: !!d.parking,
    p_free_minutes: intText(d.parking ? d.parking.free_minutes : 30),
    p_price: yuan(d.parking ? d.parking.fen_per_hour : 0),
    p_max: yuan(d.parking && d.parking.max_fen),
    p_raise: intText(d.parking ? d.parking.raise_delay_s : 30),
    p_hold: intText(d.parking ? d.parking.reservation_hold_minutes : 120),
    min_start: yuan(d.min_start_balance_fen ?? 200),
    stop_below: yuan(d.stop_below_balance_fen ?? 200),
    eff: 'default',
    eff_at: '',
  };
}

// The document of a draft: {doc} or {errors: {field: text}} (fields named as in the form).
export function fromDraft(dr) {
  const errors = {};
  const need = (field, v) => {
    if (v === null) errors[field] = t('tariffs.invalid');
    return v;
  };
  const doc = { name: dr.name.trim(), timezone: dr.timezone.trim(), modes: MODES.filter((m) => dr.modes.includes(m)) };
  if (!doc.name) errors.name = t('tariffs.required');
  if (dr.free) doc.free = true;
  doc.free_minutes = need('free_minutes', parseIntText(dr.free_minutes));
  if (doc.modes.includes('time')) {
    const opts = dr.time_options.split(/[,，\s]+/).filter(Boolean).map(parseIntText);
    doc.time = { fen_per_hour: need('time_price', parseYuan(dr.time_price)), options_minutes: opts };
    if (!opts.length || opts.some((x) => x === null)) errors.time_options = t('tariffs.invalid');
  }
  const energy = doc.modes.includes('energy');
  if (doc.modes.includes('power') || (energy && dr.service_by === 'power')) {
    doc.power = {
      tiers: dr.tiers.map((x, i) => ({ up_to_w: need(`tier_w_${i}`, parseIntText(x.up_to_w)), fen_per_hour: need(`tier_price_${i}`, parseYuan(x.price)) })),
      ignore_first_s: need('ignore_first_s', parseIntText(dr.ignore_first_s)),
    };
  }
  if (energy) {
    const periods = {};
    for (const p of PERIODS) {
      if (!dr.periods[p].on) continue;
      periods[p] = {
        elec_e4: need(`elec_${p}`, parseE4(dr.periods[p].elec)),
        service_e4: dr.service_by === 'energy' ? need(`service_${p}`, parseE4(dr.periods[p].service)) : 0,
      };
    }
    doc.energy = { periods, slots: [...dr.slots], service_by: dr.service_by };
    if (dr.service_by === 'hour') doc.energy.service_fen_per_hour = need('service_hour', parseYuan(dr.service_hour));
    if (dr.slots.some((s) => !dr.periods[s] || !dr.periods[s].on)) errors.slots = t('tariffs.slot_undefined');
  }
  doc.cap = {};
  if (dr.cap_minutes.trim()) doc.cap.max_minutes = need('cap_minutes', parseIntText(dr.cap_minutes));
  if (dr.cap_yuan.trim()) doc.cap.max_fen = need('cap_yuan', parseYuan(dr.cap_yuan));
  if (dr.parking_on) {
    doc.parking = {
      free_minutes: need('p_free_minutes', parseIntText(dr.p_free_minutes)),
      fen_per_hour: need('p_price', parseYuan(dr.p_price)),
      raise_delay_s: need('p_raise', parseIntText(dr.p_raise)),
      reservation_hold_minutes: need('p_hold', parseIntText(dr.p_hold)),
    };
    if (dr.p_max.trim()) doc.parking.max_fen = need('p_max', parseYuan(dr.p_max));
  }
  doc.min_start_balance_fen = need('min_start', parseYuan(dr.min_start));
  doc.stop_below_balance_fen = need('stop_below', parseYuan(dr.stop_below));
  if (dr.eff === 'now') doc.effective_from = 'now';
  if (dr.eff === 'at') {
    if (!dr.eff_at.trim()) errors.eff_at = t('tariffs.required');
    else doc.effective_from = dr.eff_at.trim();
  }
  return Object.keys(errors).length ? { errors } : { doc };
}

// An unsaved document handed to the calculator (tariff-calculator.js reads it as its "draft" source).
const DRAFT_KEY = 'pilehub.console.tariff-draft';
export function quoteDraft(doc) {
  sessionStorage.setItem(DRAFT_KEY, JSON.stringify(doc));
  navigate('/tariff-calculator?source=draft');
}
export function storedDraft() {
  try {
    return JSON.parse(sessionStorage.getItem(DRAFT_KEY));
  } catch {
    return null;
  }
}

// The day strip: 48 buttons (00:00..23:30) coloured by period. Click, Enter or Space paints a slot
// with the picked period; dragging over slots with the pointer pressed paints them all; the arrow
// keys move along the strip (with Shift they paint as they move).
export function SlotStrip({ slots, periods, onSlots }) {
  const enabled = PERIODS.filter((p) => periods[p].on);
  const [pick, setPick] = useState(enabled[0] || 'flat');
  const painting = useRef(false);
  const refs = useRef([]);
  useEffect(() => {
    if (!enabled.includes(pick) && enabled.length) setPick(enabled[0]);
  }, [enabled.join()]);
  useEffect(() => {
    const up = () => (painting.current = false);
    addEventListener('pointerup', up);
    return () => removeEventListener('pointerup', up);
  }, []);
  const paint = (i) => {
    if (slots[i] === pick) return;
    const next = [...slots];
    next[i] = pick;
    onSlots(next);
  };
  const key = (e, i) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    e.preventDefault();
    const j = Math.min(SLOTS - 1, Math.max(0, i + step));
    if (e.shiftKey) {
      const next = [...slots];
      next[i] = pick;
      next[j] = pick;
      onSlots(next);
    }
    refs.current[j] && refs.current[j].focus();
  };
  return html`<div class="tou">
    <div class="tou-picker" role="group" aria-label=${t('tariffs.period_picker')}>
      <span class="muted">${t('tariffs.period_picker')}</span>
      ${enabled.map(
        (p) => html`<button type="button" class=${`period-pick slot-${p}`} aria-pressed=${pick === p} data-period=${p}
          onClick=${() => setPick(p)}>${t(`tariffs.period_${p}`)}</button>`,
      )}
    </div>
    <div class="tou-strip" id="tou-strip" role="group" aria-label=${t('tariffs.slots')}>
      ${slots.map(
        (s, i) => html`<button type="button" ref=${(el) => (refs.current[i] = el)} class=${`slot slot-${s}`} data-slot=${i}
          data-period=${s} title=${`${slotTime(i)} ${t(`tariffs.period_${s}`)}`}
          aria-label=${`${slotTime(i)}–${slotTime(i + 1 === SLOTS ? 0 : i + 1)} ${t(`tariffs.period_${s}`)}`}
          onClick=${() => paint(i)} onKeyDown=${(e) => key(e, i)}
          onPointerDown=${(e) => {
            painting.current = true;
            if (e.currentTarget.releasePointerCapture) e.currentTarget.releasePointerCapture(e.pointerId);
            paint(i);
          }}
          onPointerEnter=${() => painting.current && paint(i)}></button>`,
      )}
    </div>
    <div class="tou-hours" aria-hidden="true">${Array.from({ length: 12 }, (_, h) => html`<span>${slotTime(h * 4)}</span>`)}</div>
  </div>`;
}

// One labelled input bound to a draft field, with its client-side error beside it.
function Field({ dr, set, errors, k, label, type, inputmode, id }) {
  return html`<div class=${errors[k] ? 'has-error' : ''}>
    <${Input} id=${id} label=${label} value=${dr[k]} onValue=${(v) => set({ [k]: v })} type=${type} inputmode=${inputmode} />
    ${errors[k] && html`<div class="field-error" role="alert">${errors[k]}</div>`}
  </div>`;
}

// The editor: `value` is a document (or null for a new one); onSave(doc) is async and may throw an
// ApiError, shown beside the form. `extra` renders more fields (a scheme's name, apply_to_assigned).
export function TariffForm({ value, onSave, submitLabel, extra, showEffective = true, idPrefix = 'tf' }) {
  const [dr, setDr] = useState(() => toDraft(value));
  const [errors, setErrors] = useState({});
  const [apiError, setApiError] = useState(null);
  useEffect(() => {
    setDr(toDraft(value));
    setErrors({});
    setApiError(null);
  }, [value]);
  const set = (patch) => setDr((d) => ({ ...d, ...patch }));
  const fp = { dr, set, errors };
  const hasMode = (m) => dr.modes.includes(m);
  const toggleMode = (m, on) => set({ modes: on ? [...dr.modes, m] : dr.modes.filter((x) => x !== m) });
  const setPeriod = (p, patch) => set({ periods: { ...dr.periods, [p]: { ...dr.periods[p], ...patch } } });
  const setTier = (i, patch) => set({ tiers: dr.tiers.map((x, j) => (j === i ? { ...x, ...patch } : x)) });

  // The document of the form, or null with the fields marked.
  function checked() {
    const r = fromDraft(dr);
    setErrors(r.errors || {});
    setApiError(r.errors ? { code: 'invalid_request', message: t('tariffs.fix_fields') } : null);
    return r.errors ? null : r.doc;
  }
  async function submit() {
    const doc = checked();
    if (!doc) return;
    try {
      await onSave(doc);
    } catch (e) {
      setApiError(e);
    }
  }

  return html`<${Form} id=${`${idPrefix}-form`} class="tariff-form" onSubmit=${submit} submitLabel=${submitLabel || t('common.save')}>
    ${extra}
    <fieldset><legend>${t('tariffs.basics')}</legend>
      <div class="filters">
        <${Field} ...${fp} k="name" id=${`${idPrefix}-name`} label=${t('tariffs.name')} />
        <${Field} ...${fp} k="timezone" id=${`${idPrefix}-tz`} label=${t('tariffs.timezone')} />
        <${Field} ...${fp} k="free_minutes" id=${`${idPrefix}-free-minutes`} label=${t('tariffs.free_minutes')} inputmode="numeric" />
        <${Checkbox} label=${t('tariffs.free')} checked=${dr.free} onValue=${(v) => set({ free: v })} />
      </div>
      <div class="filters" role="group" aria-label=${t('tariffs.modes')}>
        <span class="muted">${t('tariffs.modes')}</span>
        ${MODES.map((m) => html`<${Checkbox} id=${`${idPrefix}-mode-${m}`} label=${t(`tariffs.mode_${m}`)} checked=${hasMode(m)} onValue=${(v) => toggleMode(m, v)} />`)}
      </div>
    </fieldset>

    ${hasMode('time') &&
    html`<fieldset id=${`${idPrefix}-time`}><legend>${t('tariffs.mode_time')}</legend>
      <div class="filters">
        <${Field} ...${fp} k="time_price" id=${`${idPrefix}-time-price`} label=${t('tariffs.yuan_per_hour')} inputmode="decimal" />
        <${Field} ...${fp} k="time_options" id=${`${idPrefix}-time-options`} label=${t('tariffs.options_minutes')} />
      </div>
    </fieldset>`}

    ${(hasMode('power') || (hasMode('energy') && dr.service_by === 'power')) &&
    html`<fieldset id=${`${idPrefix}-power`}><legend>${t('tariffs.power_tiers')}</legend>
      <table class="tier-table"><thead><tr><th scope="col">#</th><th scope="col">${t('tariffs.up_to_w')}</th>
        <th scope="col">${t('tariffs.yuan_per_hour')}</th><th scope="col">${t('common.actions')}</th></tr></thead>
        <tbody>${dr.tiers.map(
          (x, i) => html`<tr data-tier=${i}><td>${i + 1}</td>
            <td><label class="sr-only" for=${`${idPrefix}-tier-w-${i}`}>${t('tariffs.tier_w', { n: i + 1 })}</label>
              <input id=${`${idPrefix}-tier-w-${i}`} inputmode="numeric" value=${x.up_to_w} onInput=${(e) => setTier(i, { up_to_w: e.currentTarget.value })} />
              ${errors[`tier_w_${i}`] && html`<div class="field-error">${errors[`tier_w_${i}`]}</div>`}</td>
            <td><label class="sr-only" for=${`${idPrefix}-tier-p-${i}`}>${t('tariffs.tier_price', { n: i + 1 })}</label>
              <input id=${`${idPrefix}-tier-p-${i}`} inputmode="decimal" value=${x.price} onInput=${(e) => setTier(i, { price: e.currentTarget.value })} />
              ${errors[`tier_price_${i}`] && html`<div class="field-error">${errors[`tier_price_${i}`]}</div>`}</td>
            <td><button type="button" class="link" onClick=${() => set({ tiers: dr.tiers.filter((_, j) => j !== i) })}>${t('tariffs.remove')}</button></td>
          </tr>`,
        )}</tbody></table>
      <div class="filters">
        <button type="button" onClick=${() => set({ tiers: [...dr.tiers, { up_to_w: '', price: '' }] })}>${t('tariffs.add_tier')}</button>
        <${Field} ...${fp} k="ignore_first_s" id=${`${idPrefix}-ignore`} label=${t('tariffs.ignore_first_s')} inputmode="numeric" />
      </div>
    </fieldset>`}

    ${hasMode('energy') &&
    html`<fieldset id=${`${idPrefix}-energy`}><legend>${t('tariffs.mode_energy')}</legend>
      <div class="filters">
        <${Select} id=${`${idPrefix}-service-by`} label=${t('tariffs.service_by')} value=${dr.service_by} onValue=${(v) => set({ service_by: v })}
          options=${['energy', 'hour', 'power'].map((v) => ({ value: v, label: t(`tariffs.service_by_${v}`) }))} />
        ${dr.service_by === 'hour' && html`<${Field} ...${fp} k="service_hour" id=${`${idPrefix}-service-hour`} label=${t('tariffs.service_yuan_per_hour')} inputmode="decimal" />`}
      </div>
      <table class="tier-table" id=${`${idPrefix}-periods`}><thead><tr><th scope="col">${t('tariffs.period')}</th><th scope="col">${t('tariffs.defined')}</th>
        <th scope="col">${t('tariffs.elec_yuan_kwh')}</th>${dr.service_by === 'energy' && html`<th scope="col">${t('tariffs.service_yuan_kwh')}</th>`}</tr></thead>
        <tbody>${PERIODS.map(
          (p) => html`<tr data-period=${p}><td><span class=${`swatch slot-${p}`}></span>${t(`tariffs.period_${p}`)}</td>
            <td><input type="checkbox" id=${`${idPrefix}-on-${p}`} aria-label=${t('tariffs.defined_p', { p: t(`tariffs.period_${p}`) })}
              checked=${dr.periods[p].on} onChange=${(e) => setPeriod(p, { on: e.currentTarget.checked })} /></td>
            <td><label class="sr-only" for=${`${idPrefix}-elec-${p}`}>${t('tariffs.elec_p', { p: t(`tariffs.period_${p}`) })}</label>
              <input id=${`${idPrefix}-elec-${p}`} inputmode="decimal" disabled=${!dr.periods[p].on} value=${dr.periods[p].elec}
                onInput=${(e) => setPeriod(p, { elec: e.currentTarget.value })} />
              ${errors[`elec_${p}`] && html`<div class="field-error">${errors[`elec_${p}`]}</div>`}</td>
            ${dr.service_by === 'energy' &&
            html`<td><label class="sr-only" for=${`${idPrefix}-service-${p}`}>${t('tariffs.service_p', { p: t(`tariffs.period_${p}`) })}</label>
              <input id=${`${idPrefix}-service-${p}`} inputmode="decimal" disabled=${!dr.periods[p].on} value=${dr.periods[p].service}
                onInput=${(e) => setPeriod(p, { service: e.currentTarget.value })} />
              ${errors[`service_${p}`] && html`<div class="field-error">${errors[`service_${p}`]}</div>`}</td>`}
          </tr>`,
        )}</tbody></table>
      <${SlotStrip} slots=${dr.slots} periods=${dr.periods} onSlots=${(slots) => set({ slots })} />
      ${errors.slots && html`<div class="field-error" role="alert">${errors.slots}</div>`}
    </fieldset>`}

    <fieldset><legend>${t('tariffs.limits')}</legend>
      <div class="filters">
        <${Field} ...${fp} k="cap_minutes" id=${`${idPrefix}-cap-minutes`} label=${t('tariffs.cap_minutes')} inputmode="numeric" />
        <${Field} ...${fp} k="cap_yuan" id=${`${idPrefix}-cap-yuan`} label=${t('tariffs.cap_yuan')} inputmode="decimal" />
        <${Field} ...${fp} k="min_start" id=${`${idPrefix}-min-start`} label=${t('tariffs.min_start')} inputmode="decimal" />
        <${Field} ...${fp} k="stop_below" id=${`${idPrefix}-stop-below`} label=${t('tariffs.stop_below')} inputmode="decimal" />
      </div>
    </fieldset>

    <fieldset><legend>${t('tariffs.parking')}</legend>
      <${Checkbox} id=${`${idPrefix}-parking-on`} label=${t('tariffs.parking_on')} checked=${dr.parking_on} onValue=${(v) => set({ parking_on: v })} />
      ${dr.parking_on &&
      html`<div class="filters">
        <${Field} ...${fp} k="p_free_minutes" id=${`${idPrefix}-p-free`} label=${t('tariffs.p_free_minutes')} inputmode="numeric" />
        <${Field} ...${fp} k="p_price" id=${`${idPrefix}-p-price`} label=${t('tariffs.yuan_per_hour')} inputmode="decimal" />
        <${Field} ...${fp} k="p_max" id=${`${idPrefix}-p-max`} label=${t('tariffs.p_max')} inputmode="decimal" />
        <${Field} ...${fp} k="p_raise" id=${`${idPrefix}-p-raise`} label=${t('tariffs.p_raise')} inputmode="numeric" />
        <${Field} ...${fp} k="p_hold" id=${`${idPrefix}-p-hold`} label=${t('tariffs.p_hold')} inputmode="numeric" />
      </div>`}
    </fieldset>

    ${showEffective &&
    html`<fieldset><legend>${t('tariffs.effective')}</legend>
      <div class="filters">
        <${Select} id=${`${idPrefix}-eff`} label=${t('tariffs.effective')} value=${dr.eff} onValue=${(v) => set({ eff: v })}
          options=${['default', 'now', 'at'].map((v) => ({ value: v, label: t(`tariffs.eff_${v}`) }))} />
        ${dr.eff === 'at' && html`<${Field} ...${fp} k="eff_at" id=${`${idPrefix}-eff-at`} label=${t('tariffs.eff_at')} />`}
      </div>
    </fieldset>`}
    <div id=${`${idPrefix}-error`}><${ErrorBox} error=${apiError} /></div>
    <div class="form-actions"><button type="button" id=${`${idPrefix}-quote`} onClick=${() => {
      const doc = checked();
      if (doc) quoteDraft(doc);
    }}>${t('tariffs.quote_draft')}</button></div>
  </${Form}>`;
}

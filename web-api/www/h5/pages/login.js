// Rider sign-in: phone and SMS code (development mode shows the code it sent), the WeChat or Alipay
// button inside their apps, and the user agreement to accept first.
import { html, useEffect, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { errorText, LangSwitch, notify } from '../../static/lib/ui.js';
import { api, setRider } from '../api.js';

// 'wechat' | 'alipay' | null: the host app the page runs in.
export function hostApp() {
  const ua = navigator.userAgent || '';
  if (/MicroMessenger/i.test(ua)) return 'wechat';
  if (/AlipayClient/i.test(ua)) return 'alipay';
  return null;
}

// The host app's login code from its JS bridge, or null when the bridge is missing.
function bridgeCode(host) {
  return new Promise((ok, fail) => {
    const g = globalThis;
    if (host === 'wechat' && typeof g.wx?.login === 'function') {
      g.wx.login({ success: (r) => ok(r.code), fail: (e) => fail(new Error(e?.errMsg || 'wx.login')) });
    } else if (host === 'alipay' && typeof g.my?.getAuthCode === 'function') {
      g.my.getAuthCode({ scopes: 'auth_base', success: (r) => ok(r.authCode), fail: (e) => fail(new Error(e?.errorMessage || 'getAuthCode')) });
    } else {
      ok(null);
    }
  });
}

export function LoginPage() {
  const [phone, setPhone] = useState('');
  const [code, setCode] = useState('');
  const [devCode, setDevCode] = useState('');
  const [agreed, setAgreed] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [wait, setWait] = useState(0);
  const host = hostApp();

  useEffect(() => {
    document.title = `${t('h5.login.title')} · PileHub`;
    if (wait <= 0) return undefined;
    const id = setTimeout(() => setWait((w) => w - 1), 1000);
    return () => clearTimeout(id);
  }, [wait]);

  async function sendCode() {
    setError('');
    if (!/^1\d{10}$/.test(phone.trim())) {
      setError(t('h5.login.bad_phone'));
      return;
    }
    try {
      const r = await api.post('/auth/sms-code', { phone: phone.trim() });
      setDevCode(r.dev_code || '');
      setWait(60);
      if (!r.dev_code) notify(t('h5.login.sent')); // (in development mode the code itself is shown)
    } catch (e) {
      if (e.status === 429) setError(t('h5.login.throttled', { s: e.retryAfter || '?' }));
      else setError(errorText(e));
    }
  }

  async function submit(e) {
    e.preventDefault();
    setError('');
    if (!agreed) {
      setError(t('h5.login.must_agree'));
      return;
    }
    setBusy(true);
    try {
      const r = await api.post('/auth/login', { phone: phone.trim(), code: code.trim() });
      setRider(r.token);
    } catch (err) {
      if (err.status === 401) setError(t('h5.login.wrong_code'));
      else if (err.status === 429) setError(t('h5.login.throttled', { s: err.retryAfter || '?' }));
      else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  async function hostLogin() {
    setError('');
    if (!agreed) {
      setError(t('h5.login.must_agree'));
      return;
    }
    try {
      const c = await bridgeCode(host);
      if (!c) {
        setError(t('h5.login.no_bridge', { app: t(`h5.login.${host}`) }));
        return;
      }
      const r = host === 'wechat' ? await api.post('/auth/wechat', { code: c }) : await api.post('/auth/alipay', { auth_code: c });
      setRider(r.token);
    } catch (err) {
      setError(errorText(err));
    }
  }

  return html`<div class="h5-login">
    <form class="card login-form" onSubmit=${submit} aria-labelledby="login-title">
      <h1 id="login-title">PileHub <span>${t('h5.login.title')}</span></h1>
      <div class="field">
        <label for="login-phone">${t('h5.login.phone')}</label>
        <input id="login-phone" type="tel" inputmode="numeric" autocomplete="tel" maxlength="11" required
          value=${phone} onInput=${(e) => setPhone(e.currentTarget.value)} />
      </div>
      <div class="code-row">
        <div class="field">
          <label for="login-code">${t('h5.login.code')}</label>
          <input id="login-code" inputmode="numeric" autocomplete="one-time-code" maxlength="8" required
            value=${code} onInput=${(e) => setCode(e.currentTarget.value)} />
        </div>
        <button type="button" id="send-code" class="big" disabled=${wait > 0} onClick=${sendCode}>
          ${wait > 0 ? t('h5.login.resend', { s: wait }) : t('h5.login.send')}</button>
      </div>
      ${devCode && html`<p class="dev-code" id="dev-code">${t('h5.login.dev_code')}: <strong>${devCode}</strong></p>`}
      <div class="field field-check">
        <input id="login-agree" type="checkbox" checked=${agreed} onChange=${(e) => setAgreed(e.currentTarget.checked)} />
        <label for="login-agree">${t('h5.login.agree')} <a href="#/agreement">${t('h5.agreement.title')}</a></label>
      </div>
      ${error && html`<div class="error-box" role="alert" id="login-error">${error}</div>`}
      <button id="login-submit" class="primary big" type="submit" disabled=${busy}>${t('h5.login.submit')}</button>
      ${host && html`<button type="button" id="host-login" class=${`big host-${host}`} onClick=${hostLogin}>
        ${t('h5.login.with', { app: t(`h5.login.${host}`) })}</button>`}
      <${LangSwitch} id="login-lang" />
    </form>
  </div>`;
}

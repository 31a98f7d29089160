// Operator sign-in (POST /admin/login). Repeated failures are throttled by the API (429 with
// Retry-After), which the form says in words.
import { html, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { errorText, LangSwitch } from '../../static/lib/ui.js';
import { api, setOperator } from '../api.js';

export function LoginPage() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const r = await api.post('/admin/login', { username, password });
      setOperator(r.token, r.admin);
    } catch (err) {
      if (err.status === 429) setError(t('login.throttled', { s: err.retryAfter || '?' }));
      else if (err.status === 401) setError(t('login.wrong'));
      else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return html`<div class="login">
    <form class="login-card" onSubmit=${submit} aria-labelledby="login-title">
      <h1 id="login-title">PileHub <span>${t('login.title')}</span></h1>
      <div class="field">
        <label for="login-username">${t('login.username')}</label>
        <input id="login-username" autocomplete="username" required value=${username}
          onInput=${(e) => setUsername(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="login-password">${t('login.password')}</label>
        <input id="login-password" type="password" autocomplete="current-password" required value=${password}
          onInput=${(e) => setPassword(e.currentTarget.value)} />
      </div>
      ${error && html`<div class="error-box" role="alert" id="login-error">${error}</div>`}
      <button id="login-submit" class="primary" type="submit" disabled=${busy}>${t('login.submit')}</button>
      <${LangSwitch} id="login-lang" />
    </form>
  </div>`;
}

// Scan a socket's QR with the camera (where the browser has BarcodeDetector and getUserMedia) or
// type the code printed under it (demo-e00001-3); either opens the socket's page.
import { html, useEffect, useRef, useState } from '../../static/lib/preact.js';
import { t } from '../../static/lib/i18n.js';
import { navigate } from '../../static/lib/router.js';
import { ActiveBanner, H5Page } from '../ui.js';

// The socket code in what a QR holds: the bare code, or a link ending in it / carrying ?code=.
export function codeFromQr(text) {
  const s = String(text || '').trim();
  try {
    const u = new URL(s);
    const q = u.searchParams.get('code') || u.searchParams.get('socket');
    if (q) return q;
    const m = /([A-Za-z0-9_.]+(?:-[A-Za-z0-9_.]+)*-\d+)\/?$/.exec(decodeURIComponent(u.hash || u.pathname));
    if (m) return m[1];
  } catch {
    /* not a link: the code itself */
  }
  return s;
}

export function cameraScanAvailable() {
  return typeof globalThis.BarcodeDetector === 'function' && !!navigator.mediaDevices?.getUserMedia;
}

function Camera({ onCode }) {
  const video = useRef(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let stream = null;
    let stopped = false;
    (async () => {
      try {
        const detector = new globalThis.BarcodeDetector({ formats: ['qr_code'] });
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
        if (stopped) return;
        video.current.srcObject = stream;
        await video.current.play();
        while (!stopped) {
          const found = await detector.detect(video.current);
          if (found.length) {
            onCode(codeFromQr(found[0].rawValue));
            return;
          }
          await new Promise((ok) => setTimeout(ok, 300));
        }
      } catch (e) {
        setError(t('h5.scan.camera_failed', { why: e.message || e.name }));
      }
    })();
    return () => {
      stopped = true;
      for (const tr of stream?.getTracks() || []) tr.stop();
    };
  }, []);
  return html`<div class="camera">
    <video ref=${video} playsinline muted aria-label=${t('h5.scan.camera')}></video>
    ${error && html`<div class="error-box" role="alert">${error}</div>`}
  </div>`;
}

export function ScanPage() {
  const [code, setCode] = useState('');
  const [scanning, setScanning] = useState(false);
  const canScan = cameraScanAvailable();
  const open = (c) => c && navigate(`/socket/${encodeURIComponent(c.trim())}`);
  return html`<${H5Page} title=${t('h5.scan.title')} id="scan">
    <${ActiveBanner} />
    <section class="card">
      <h2>${t('h5.scan.by_camera')}</h2>
      ${canScan
        ? scanning
          ? html`<${Camera} onCode=${open} /><button type="button" class="big" onClick=${() => setScanning(false)}>${t('common.cancel')}</button>`
          : html`<button type="button" class="primary big" id="scan-start" onClick=${() => setScanning(true)}>${t('h5.scan.start')}</button>`
        : html`<p class="muted" id="scan-unavailable">${t('h5.scan.unavailable')}</p>`}
    </section>
    <form class="card" id="code-form" onSubmit=${(e) => {
      e.preventDefault();
      open(code);
    }}>
      <h2>${t('h5.scan.by_code')}</h2>
      <div class="field">
        <label for="socket-code">${t('h5.scan.code')}</label>
        <input id="socket-code" autocomplete="off" autocapitalize="off" required placeholder="demo-e00001-3"
          value=${code} onInput=${(e) => setCode(e.currentTarget.value)} />
      </div>
      <button type="submit" class="primary big" id="code-open">${t('h5.scan.open')}</button>
    </form>
  <//>`;
}

// The harness itself: the stack answers, the page guards catch what they promise to catch and let
// through what a test declares, and (once pilehub-api serves the pages) the console and the vendored
// libraries are served with the headers CONTRACT.md part H relies on.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO } from './stack.mjs';
import {
    PHONE,
    URL_BASE,
    WEB_ROOT,
    adminToken,
    api,
    consoleLogin,
    guard,
    riderToken,
    shot,
    waitUntil,
    withPage,
} from './harness.mjs';

test('smoke: the API health answers 200 ok in development mode, to fetch and to a page', async (t) => {
    const health = await api('/api/v1/health');
    assert.equal(health.status, 'ok');
    assert.equal(health.dev_mode, true);
    await withPage(t, {}, async (page) => {
        const res = await page.goto(`${URL_BASE}/api/v1/health`);
        assert.equal(res.status(), 200);
        assert.equal(JSON.parse(await res.text()).status, 'ok');
    });
});

test('smoke: the admin and a rider log in through the API helpers, each with its own access', async () => {
    const admin = await adminToken();
    const stations = await api('/api/v1/admin/stations', { token: admin });
    assert.ok(JSON.stringify(stations).includes('Demo Garden Station'), 'the admin sees the demo station');
    const phone = '13800000001';
    const me = await api('/api/v1/me', { token: await riderToken(phone) });
    assert.equal(me.phone, phone);
    const refused = await api('/api/v1/admin/stations', { token: await riderToken(phone), expectStatus: [401, 403] });
    assert.ok([401, 403].includes(refused.status), 'a rider token is refused on an admin route');
});

test('smoke: a request from a page to another host is recorded by the guard and never sent', async (t) => {
    await withPage(t, {}, async (page) => {
        await page.goto(`${URL_BASE}/api/v1/health`);
        // Another origin on the loopback: if the guard let it through, it would still stay on the machine.
        const elsewhere = 'http://127.0.0.2:9/probe.js';
        const outcome = await page.evaluate((u) => fetch(u).then(() => 'sent', () => 'blocked'), elsewhere);
        assert.equal(outcome, 'blocked');
        const g = guard(page);
        await waitUntil(() => g.foreign.length > 0, { what: 'the guard records the request' });
        assert.deepEqual(g.foreign, [`GET ${elsewhere}`]);
        g.clear();
    });
});

test('smoke: the guard records console errors, page errors and unexpected HTTP statuses', async (t) => {
    await withPage(t, {}, async (page) => {
        await page.goto(`${URL_BASE}/api/v1/health`);
        await page.evaluate(() => {
            console.error('smoke: a console error');
            setTimeout(() => {
                throw new Error('smoke: an uncaught error');
            });
            return fetch('/api/v1/no-such-route').then((r) => r.status);
        });
        const g = guard(page);
        await waitUntil(() => g.problems.length >= 3, { what: 'three problems recorded' });
        const all = g.all().join('\n');
        assert.match(all, /console error: smoke: a console error/);
        assert.match(all, /page error: smoke: an uncaught error/);
        assert.match(all, /HTTP 404: GET .*\/api\/v1\/no-such-route/);
        g.clear();
    });
});

test('smoke: an expected 404 is not a failure', async (t) => {
    await withPage(t, { expectStatus: [{ status: 404, url: '/api/v1/no-such-route' }] }, async (page) => {
        await page.goto(`${URL_BASE}/api/v1/health`);
        const status = await page.evaluate(() => fetch('/api/v1/no-such-route').then((r) => r.status));
        assert.equal(status, 404);
        // The response event comes after fetch resolves in the page; give it its moment to arrive.
        await page.waitForLoadState('networkidle');
        assert.deepEqual(guard(page).all(), []);
    });
});

test('smoke: shot() writes a full-page PNG to docs/screenshots/', async (t) => {
    await withPage(t, { ...PHONE, viewport: { width: 390, height: 300 } }, async (page) => {
        await page.goto(`${URL_BASE}/api/v1/health`);
        // Taller than the viewport: a full-page shot is taller than 300 px.
        await page.evaluate(() => {
            document.body.innerHTML = '<p lang="zh-CN" style="height:900px;font-size:32px">充电桩 运营后台</p>';
        });
        const path = await shot(page, 'smoke-harness');
        try {
            const png = readFileSync(path);
            assert.equal(png.subarray(1, 4).toString(), 'PNG');
            assert.ok(png.readUInt32BE(20) >= 900 * PHONE.deviceScaleFactor, `the shot is the whole page (height ${png.readUInt32BE(20)})`);
        } finally {
            rmSync(path, { force: true }); // the harness's own picture is no documentation
        }
    });
});

const consoleIndex = join(REPO, 'web-api/www/console/index.html');
const noConsole = !existsSync(consoleIndex) ? `no ${consoleIndex} in this tree yet` :
    !WEB_ROOT ? "this build's pilehub-api has no pilehub-api.web_root (static serving not built yet)" : false;
test('smoke: /console/ answers 200 text/html with a CSP allowing scripts from the installation only', {
    skip: noConsole,
}, async (t) => {
    await withPage(t, {}, async (page) => {
        const res = await page.goto(`${URL_BASE}/console/`);
        assert.equal(res.status(), 200);
        const headers = res.headers();
        assert.match(headers['content-type'] ?? '', /^text\/html/);
        assert.match(headers['content-security-policy'] ?? '', /script-src 'self'/);
        await page.waitForLoadState('networkidle');
    });
});

test('smoke: consoleLogin() logs the first admin in to the console', { skip: noConsole }, async (t) => {
    await withPage(t, {}, async (page) => {
        await consoleLogin(page);
        await assert.rejects(page.locator('#login-username').waitFor({ state: 'visible', timeout: 1000 }),
            'the login form is gone');
        await page.waitForLoadState('networkidle');
    });
});

const vendored = 'static/vendor/htm-3.1.1/standalone.module.js';
test('smoke: a vendored library is served with Cache-Control immutable', {
    skip: !existsSync(join(REPO, 'web-api/www', vendored)) ? `no web-api/www/${vendored} in this tree` :
        !WEB_ROOT ? "this build's pilehub-api has no pilehub-api.web_root (static serving not built yet)" : false,
}, async () => {
    const res = await fetch(`${URL_BASE}/${vendored}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /javascript/);
    assert.match(res.headers.get('cache-control') ?? '', /immutable/);
    assert.ok((await res.text()).includes('useState'), 'the file served is htm + Preact');
});

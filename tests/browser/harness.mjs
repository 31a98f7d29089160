// What every browser test uses: Debian's Chromium driven by npm playwright-core, pages whose guards
// record everything that would be a defect a person could see or that leaves the installation, the
// API to compare the page with, and screenshots. Tests run through tests/browser/run.mjs, which
// starts the stack and passes its address in PILEHUB_TEST_URL (README.md).
//
//   test('devices: ...', (t) => withPage(t, {}, async (page) => { ...; }));
//
// withPage opens a fresh page (its own browser context: no cookies or storage shared between
// tests), runs the body, fails the test if the guards recorded anything, and closes the page.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { chromium } from 'playwright-core';
import { REPO } from './stack.mjs';

function required(name) {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set: run the browser tests with node tests/browser/run.mjs`);
    return v;
}

/** The stack's address, e.g. http://127.0.0.1:40123 (no trailing slash). */
export const URL_BASE = required('PILEHUB_TEST_URL').replace(/\/$/, '');
export const ORIGIN = new URL(URL_BASE).origin;
/** The stack's data directory (sim/control drives the simulator, log/ has every daemon's log). */
export const DATA_DIR = required('PILEHUB_TEST_DATA_DIR');
/** The directory pilehub-api serves the pages from; empty when the build has no static serving yet. */
export const WEB_ROOT = process.env.PILEHUB_TEST_WEB_ROOT ?? '';
export const ADMIN_USER = 'admin';
export const ADMIN_PASSWORD = required('PILEHUB_TEST_ADMIN_PASSWORD');
export const SCREENSHOT_DIR = join(REPO, 'docs/screenshots');

/** Debian's Chromium, headless. */
export function launch() {
    return chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], headless: true });
}

// One browser per test file, launched on first use and closed after the file's last test.
let shared = null;
export function sharedBrowser() {
    shared ??= launch();
    return shared;
}
after(async () => {
    if (shared) await (await shared).close();
});

/** Viewports: the console on a desktop; the H5 page on a phone (spread PHONE into the options). */
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

// ---- the guards ----

const guards = new WeakMap();

function statusExpected(entries, status, url) {
    return entries.some((e) =>
        typeof e === 'number' ? e === status : e.status === status && (!e.url || url.includes(e.url)));
}

function isOwn(url) {
    if (!/^(https?|wss?):/.test(url)) return true; // data:, blob:, about: never leave the page
    return new URL(url.replace(/^ws/, 'http')).origin === ORIGIN;
}

/**
 * A fresh page (in its own browser context) whose guards record: console messages of type error,
 * uncaught page errors, failed requests, responses with status >= 400 not listed in `expectStatus`
 * (each entry a status, or {status, url: substring}), and every request to a host other than the
 * stack's origin (aborted, so it never leaves the machine). Options: viewport (default DESKTOP),
 * locale (default zh-CN), timezoneId (default Asia/Shanghai), expectStatus (default []); any other
 * option goes to playwright's browser.newContext (e.g. PHONE's isMobile and hasTouch).
 */
export async function openPage(browser, { viewport = DESKTOP, locale = 'zh-CN', timezoneId = 'Asia/Shanghai', expectStatus = [], ...more } = {}) {
    const context = await browser.newContext({ viewport, locale, timezoneId, ...more });
    const page = await context.newPage();
    const g = {
        expected: [...expectStatus],
        problems: [],
        foreign: [],
        aborted: new Set(), // URLs this guard aborted: their requestfailed is not a second problem
        /** Also accept these statuses (same form as the expectStatus option) from now on. */
        expect(...entries) {
            g.expected.push(...entries);
        },
        /** Forget what was recorded (a test that provoked a problem on purpose, after checking it). */
        clear() {
            g.problems.length = 0;
            g.foreign.length = 0;
        },
        all() {
            return [...g.problems, ...g.foreign.map((f) => `request to another host: ${f}`)];
        },
    };
    guards.set(page, g);
    await context.route('**/*', (route) => {
        const req = route.request();
        if (isOwn(req.url())) return route.continue();
        g.aborted.add(req.url());
        g.foreign.push(`${req.method()} ${req.url()}`);
        return route.abort('blockedbyclient');
    });
    page.on('websocket', (ws) => {
        if (!isOwn(ws.url())) g.foreign.push(`WebSocket ${ws.url()}`);
    });
    page.on('console', (msg) => {
        if (msg.type() !== 'error') return;
        const where = msg.location()?.url ?? '';
        // Chromium also logs every response >= 400 and every failed load as "Failed to load
        // resource: ..."; the response and requestfailed guards judge those (expected or not).
        if (/^Failed to load resource/.test(msg.text())) return;
        g.problems.push(`console error: ${msg.text()}${where ? ` (${where})` : ''}`);
    });
    page.on('pageerror', (err) => g.problems.push(`page error: ${err.message}`));
    page.on('requestfailed', (req) => {
        const why = req.failure()?.errorText ?? '';
        // ERR_ABORTED: Chromium cancelled the load itself (a navigation away, a closed stream).
        if (g.aborted.has(req.url()) || why === 'net::ERR_ABORTED') return;
        g.problems.push(`request failed: ${req.method()} ${req.url()} (${why})`);
    });
    page.on('response', (res) => {
        const status = res.status();
        if (status >= 400 && !statusExpected(g.expected, status, res.url())) {
            g.problems.push(`HTTP ${status}: ${res.request().method()} ${res.url()}`);
        }
    });
    return page;
}

/** The guard of a page from openPage: expect(...), clear(), all(), problems, foreign. */
export function guard(page) {
    const g = guards.get(page);
    if (!g) throw new Error('guard: not a page from openPage()');
    return g;
}

/** Waits (polling, up to `timeout` ms) until `pred()` is true; fails with `what` otherwise. */
export async function waitUntil(pred, { timeout = 5000, what = 'condition' } = {}) {
    const end = Date.now() + timeout;
    while (!(await pred())) {
        if (Date.now() > end) throw new Error(`waitUntil: ${what} not met in ${timeout} ms`);
        await new Promise((ok) => setTimeout(ok, 50));
    }
}

/** Fails listing everything the page's guards recorded. */
export function assertClean(page) {
    const all = guard(page).all();
    assert.deepEqual(all, [], `the page's guards recorded:\n  ${all.join('\n  ')}`);
}

/**
 * Runs `body(page)` on a fresh page of the shared browser, then assertClean, and closes the page
 * whatever happens. `t` is the node:test context (the guards' record is written to its diagnostics
 * when the body fails). Options as openPage; `withPage(t, body)` takes the defaults.
 */
export async function withPage(t, opts, body) {
    if (typeof opts === 'function') [opts, body] = [{}, opts];
    const page = await openPage(await sharedBrowser(), opts);
    try {
        await body(page);
        assertClean(page);
    } catch (e) {
        const all = guards.get(page)?.all() ?? [];
        if (all.length && t?.diagnostic) t.diagnostic(`guards recorded: ${all.join(' | ')}`);
        throw e;
    } finally {
        await page.context().close();
    }
}

// ---- the API, to compare the page with ----

export class ApiError extends Error {
    constructor(method, path, status, body) {
        super(`${method} ${path}: HTTP ${status} ${JSON.stringify(body)}`);
        this.status = status;
        this.body = body;
    }
}

/**
 * Calls the stack's API and returns the parsed JSON (or the text when the answer is not JSON).
 * `path` is absolute (/api/v1/...) or relative to /api/v1/. Throws ApiError for a status >= 400
 * (its .status and .body), unless the status is in `expectStatus`: then returns {status, body}.
 */
export async function api(path, { method = 'GET', token, body, expectStatus = [] } = {}) {
    const full = path.startsWith('/') ? path : `/api/v1/${path}`;
    const headers = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${URL_BASE}${full}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed = text;
    try {
        parsed = text ? JSON.parse(text) : null;
    } catch {
        // not JSON: the text itself
    }
    if (res.status >= 400) {
        if (expectStatus.includes(res.status)) return { status: res.status, body: parsed };
        throw new ApiError(method, full, res.status, parsed);
    }
    return parsed;
}

let adminTokenP = null;
/** The first admin's token (POST /api/v1/admin/login), one per test process. */
export function adminToken() {
    adminTokenP ??= api('/api/v1/admin/login', {
        method: 'POST',
        body: { username: ADMIN_USER, password: ADMIN_PASSWORD },
    }).then((r) => r.token);
    return adminTokenP;
}

const riderTokens = new Map();
/**
 * A rider's token for `phone` (development mode: POST /auth/sms-code answers dev_code, then
 * POST /auth/login; the first login opens the account). One per phone per test process, since
 * SMS codes are rate limited per phone.
 */
export function riderToken(phone) {
    if (!riderTokens.has(phone)) {
        riderTokens.set(phone, (async () => {
            const sent = await api('/api/v1/auth/sms-code', { method: 'POST', body: { phone } });
            if (!sent.dev_code) throw new Error('riderToken: no dev_code in the answer (is the stack in development mode?)');
            const login = await api('/api/v1/auth/login', { method: 'POST', body: { phone, code: sent.dev_code } });
            return login.token;
        })());
    }
    return riderTokens.get(phone);
}

// ---- pages ----

/** Writes a full-page screenshot to docs/screenshots/<name>.png and returns its path. */
export async function shot(page, name) {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const path = join(SCREENSHOT_DIR, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
}

/**
 * Opens the console and logs in (the login form's #login-username, #login-password and
 * #login-submit), as `username`/`password` (default: the first admin); returns when the form is gone.
 */
export async function consoleLogin(page, { username = ADMIN_USER, password = ADMIN_PASSWORD } = {}) {
    await page.goto(`${URL_BASE}/console/`);
    await page.locator('#login-username').fill(username);
    await page.locator('#login-password').fill(password);
    await page.locator('#login-submit').click();
    await page.locator('#login-submit').waitFor({ state: 'hidden', timeout: 15000 });
}

// ---- money as the pages show it ----

/** Integer fen as the zh-CN page writes it (¥1,234.56): Intl.NumberFormat of the exact yuan text. */
export function yuanZh(fen) {
    const n = BigInt(fen);
    const a = n < 0n ? -n : n;
    const text = `${n < 0n ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
    return new Intl.NumberFormat('zh-CN', { style: 'currency', currency: 'CNY', currencyDisplay: 'narrowSymbol', minimumFractionDigits: 2 }).format(text);
}

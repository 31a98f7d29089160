// The rider's H5 page on a phone: sign-in with the development SMS code, nearby stations, a socket
// by its code, a live session stopped with its bill, the wallet (sandbox recharge, ledger), and
// the smaller pages (cards, plates, profile, language, sign-out, the WeChat button). What the page
// shows is compared with what the API says for the same rider.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PHONE, URL_BASE, adminToken, api, riderToken, shot, waitUntil, withPage, yuanZh } from './harness.mjs';

// Phones of this file: 13900015xxx.
let phoneSeq = 100 + (Date.now() % 800);
const nextPhone = () => `13900015${String(phoneSeq++).padStart(3, '0')}`;

// A pile priced per second with no free minutes, so that a session of a few seconds costs money.
const PRICEY_DEVICE = 'demo-e00019';
let priceyP = null;
function priceyPile() {
    priceyP ??= (async () => {
        const token = await adminToken();
        const scheme = await api('/api/v1/admin/tariff-schemes', {
            method: 'POST',
            token,
            body: {
                name: `h5-test-${Date.now()}`,
                tariff: {
                    name: 'H5 test per second',
                    timezone: 'Asia/Shanghai',
                    modes: ['time', 'power'],
                    time: { fen_per_hour: 100000, options_minutes: [60, 120] },
                    power: { tiers: [{ up_to_w: 2000, fen_per_hour: 100000 }] },
                    free_minutes: 0,
                    min_start_balance_fen: 200,
                    stop_below_balance_fen: 0,
                },
            },
        });
        await api(`/api/v1/admin/tariff-schemes/${scheme.id}/assign`, { method: 'POST', token, body: { device_ids: [PRICEY_DEVICE] } });
    })();
    return priceyP;
}

/** Nothing is wider than a 360 px phone: document.scrollWidth <= 360 (then back to PHONE's size). */
async function fits360(page, what) {
    await page.setViewportSize({ width: 360, height: 740 });
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    await page.setViewportSize(PHONE.viewport);
    assert.ok(w <= 360, `${what}: the page is ${w} px wide at 360 px`);
}

/** Logs in through the form with the development code the page shows; returns the rider's token. */
async function h5Login(page, phone, { screenshot } = {}) {
    await page.goto(`${URL_BASE}/h5/`);
    await page.getByLabel('手机号').fill(phone);
    await page.locator('#send-code').click();
    if (screenshot) {
        await page.locator('#dev-code').waitFor();
        await fits360(page, 'login');
        await shot(page, screenshot);
    }
    const code = (await page.locator('#dev-code strong').innerText()).trim();
    assert.match(await page.locator('#dev-code').innerText(), /^开发模式验证码: \d{4,8}$/);
    await page.getByLabel('验证码', { exact: true }).fill(code);
    await page.locator('#login-agree').check();
    await page.locator('#login-submit').click();
    await page.locator('#stations').waitFor();
    return page.evaluate(() => localStorage.getItem('pilehub.h5.token'));
}

const statText = (page, id) => page.locator(`[data-stat=${id}] .stat-value`).innerText();

test('h5: the flow from login to a started and stopped session with the wallet debited', async (t) => {
    await priceyPile();
    const phone = nextPhone();
    await withPage(t, { ...PHONE }, async (page) => {
        // Login with the code the page shows (development mode).
        const token = await h5Login(page, phone, { screenshot: 'h5-login' });
        assert.ok(token, 'the rider token is kept');

        // Nearby stations: the page's list is the API's, nearest first, with e-bike and car counts.
        await page.locator('#stations .station').first().waitFor();
        const near = await api('/api/v1/stations/nearby?lat=22.543096&lon=114.057865&radius_m=50000', { token });
        const names = await page.locator('#stations .station-name').allInnerTexts();
        assert.deepEqual(names, near.stations.map((s) => s.name));
        const first = page.locator('#stations .station').first();
        assert.equal(await first.locator('[data-kind=ebike]').innerText(), `电单车 空闲 ${near.stations[0].ebike.free}/${near.stations[0].ebike.total}`);
        assert.equal(await first.locator('[data-kind=ev]').innerText(), `汽车 空闲 ${near.stations[0].ev.free}/${near.stations[0].ev.total}`);
        await fits360(page, 'stations');
        await shot(page, 'h5-stations');

        // Recharge ¥50 through the sandbox: order, then the pay step.
        await page.locator('#tab-me').click();
        await page.locator('#me-phone', { hasText: phone }).waitFor();
        await page.locator('#me a[href="#/wallet"]').first().click();
        await page.locator('#recharge-form').waitFor();
        await page.locator('#recharge-form button[data-fen="5000"]').click();
        assert.equal(await page.getByLabel('充值金额（元）').inputValue(), '50');
        await page.locator('#recharge').click();
        await page.locator('#pay-step').waitFor();
        assert.match(await page.locator('#pay-step').innerText(), /待支付：¥50\.00/);
        await page.locator('#pay').click();
        await page.locator('[data-stat=balance] .stat-value', { hasText: yuanZh(5000) }).waitFor();
        const w0 = await api('/api/v1/wallet', { token });
        assert.equal(w0.balance_fen, 5000);
        assert.equal(await statText(page, 'balance'), yuanZh(w0.balance_fen));
        await page.locator('#ledger li', { hasText: '充值' }).first().waitFor();

        // A socket by its code: state, modes and the balance, then start by power.
        const code = `${PRICEY_DEVICE}-1`;
        await page.locator('#tab-scan').click();
        await page.getByLabel('插座编号').fill(code);
        await page.locator('#code-open').click();
        await page.locator('#socket-state .badge').waitFor();
        const sock = await api(`/api/v1/sockets/${code}`, { token });
        assert.equal(sock.state, 'free');
        assert.equal(await page.locator('#socket-state').innerText(), '空闲');
        assert.equal(await page.locator('#start-form input[name=mode]').count(), sock.modes.length);
        await page.locator('#socket-balance', { hasText: yuanZh(w0.available_fen) }).waitFor();
        await page.locator('#mode-power').check();
        await fits360(page, 'socket');
        await shot(page, 'h5-socket');
        await page.locator('#start').click();

        // The live session: power appears, the curve is drawn, the cost runs.
        await page.locator('#session').waitFor();
        const sid = decodeURIComponent(page.url().split('#/session/')[1]);
        await page.locator('#session-state', { hasText: '充电中' }).waitFor({ timeout: 15000 });
        await waitUntil(async () => /^[1-9]\d* W$|kW$/.test(await statText(page, 'power')), { timeout: 15000, what: 'power shown' });
        await page.locator('#session canvas').waitFor();
        await waitUntil(async () => (await statText(page, 'cost')) !== yuanZh(0), { timeout: 15000, what: 'a running cost' });
        const live = await api(`/api/v1/sessions/${sid}`, { token });
        assert.equal(live.socket, code);
        assert.equal(live.mode, 'power');
        await fits360(page, 'session');
        await shot(page, 'h5-session');

        // Stop: the bill is the API's, and the wallet is lower by it.
        await page.locator('#stop').click();
        await page.locator('#bill').waitFor({ timeout: 30000 });
        const done = await api(`/api/v1/sessions/${sid}`, { token });
        assert.equal(done.state, 'completed');
        assert.ok(done.cost_fen > 0, 'the session cost money');
        assert.equal(await page.locator('#bill-total').innerText(), yuanZh(done.cost_fen));
        assert.equal(await page.locator('#bill-reason').innerText(), '手动结束');
        await page.locator('#bill-balance').waitFor();
        const w1 = await api('/api/v1/wallet', { token });
        assert.equal(w1.balance_fen + w1.bonus_fen, w0.balance_fen + w0.bonus_fen - done.cost_fen);
        assert.equal(await page.locator('#bill-balance').innerText(), yuanZh(w1.balance_fen));

        // The order list has it; the wallet shows the new balance and the charge in the ledger.
        await page.locator('#tab-orders').click();
        const row = page.locator(`#orders [data-session="${sid}"]`);
        await row.waitFor();
        assert.equal(await row.locator('.order-cost').innerText(), yuanZh(done.cost_fen));
        await page.goto(`${URL_BASE}/h5/#/wallet`);
        await page.locator('[data-stat=balance] .stat-value', { hasText: yuanZh(w1.balance_fen) }).waitFor();
        const ledger = await api('/api/v1/wallet/ledger', { token });
        const charge = ledger.entries.find((e) => e.kind === 'charge' && e.ref === sid);
        assert.ok(charge, 'the ledger has the charge');
        assert.equal(await page.locator(`#ledger [data-entry="${charge.id}"] strong`).innerText(), yuanZh(charge.real_fen));
        await fits360(page, 'wallet');
        await shot(page, 'h5-wallet');
    });
});

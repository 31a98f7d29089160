// The device pages of the console: the fleet list with its live socket grid, a device's detail
// (configuration, remote commands, commissioning), registration and stock, device models, the
// command log. Every figure the page shows is compared with what the API says.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DATA_DIR, URL_BASE, adminToken, api, consoleLogin, riderToken, shot, waitUntil, withPage } from './harness.mjs';

const fleet = () => JSON.parse(readFileSync(join(DATA_DIR, 'fleet.json'), 'utf8')).devices;
const devices = async (query = '') => (await api(`/api/v1/admin/devices${query}`, { token: await adminToken() })).devices;
const device = async (id) => api(`/api/v1/admin/devices/${id}`, { token: await adminToken() });
const socketOf = async (id, n) => (await device(id)).sockets.find((s) => s.n === n);

// A rider with money: a sandbox recharge, confirmed (development mode).
async function richRider(phone) {
    const token = await riderToken(phone);
    const pay = await api('/api/v1/wallet/recharge', { method: 'POST', token, body: { amount_fen: 5000, channel: 'sandbox' } });
    await api(`/api/v1/pay/sandbox/${pay.payment_id}/confirm`, { method: 'POST', token, body: {} });
    return token;
}

async function openDevices(page) {
    await consoleLogin(page);
    await page.goto(`${URL_BASE}/console/#/devices`);
    await page.locator('h1', { hasText: '设备管理' }).waitFor();
}

const cell = (page, code) => page.locator(`.port-cell[data-code="${code}"]`);

test('devices: the devices page shows the fleet online and a socket turning to charging when a rider starts it', (t) =>
    withPage(t, async (page) => {
        const all = await devices();
        const online = all.filter((d) => d.online).length;
        assert.equal(all.length, fleet().length, 'the API lists every device of the demo fleet');
        await openDevices(page);
        await page.locator('#devices-counts', { hasText: `共 ${all.length} 台设备，${online} 台在线` }).waitFor();
        assert.equal(online, all.length, 'the simulated fleet is online');
        // The first page: 20 rows, each with the API's online word; the grid has the piles' sockets.
        const rows = page.locator('tbody tr');
        assert.equal(await rows.count(), Math.min(20, all.length));
        for (const d of all.slice(0, 20)) {
            const row = page.locator(`tr[data-row="${d.id}"]`);
            assert.match(await row.innerText(), d.online ? /在线/ : /离线/);
        }
        await cell(page, 'demo-e00005-3').waitFor();
        assert.equal(await page.locator('.grid-row[data-device="demo-e00005"] .port-cell').count(), 10);
        assert.equal(await cell(page, 'demo-e00005-3').getAttribute('data-state'), 'free');

        // A rider starts a session by the API: the cell turns to charging without a reload.
        const token = await richRider('13900071001');
        const started = await api('/api/v1/sessions', {
            method: 'POST',
            token,
            body: { socket: 'demo-e00005-3', mode: 'time', minutes: 60 },
        });
        const sid = started.session.id;
        try {
            await page.locator('.port-cell[data-code="demo-e00005-3"][data-state="charging"]').waitFor({ timeout: 15000 });
            assert.equal((await socketOf('demo-e00005', 3)).state, 'busy');
            assert.equal(await cell(page, 'demo-e00005-3').locator('a.port-sid').getAttribute('href'), `#/sessions/${sid}`);
            await waitUntil(async () => /\d+ W/.test(await cell(page, 'demo-e00005-3').locator('.port-power').innerText()),
                { timeout: 10000, what: 'the cell shows the power' });
            await page.locator(`tr[data-row="demo-e00005"]`, { hasText: '9 / 1' }).waitFor();
            await shot(page, 'console-devices');
        } finally {
            await api(`/api/v1/sessions/${sid}/stop`, { method: 'POST', token, body: {} });
        }
        await page.locator('.port-cell[data-code="demo-e00005-3"][data-state="free"]').waitFor({ timeout: 20000 });
    }));

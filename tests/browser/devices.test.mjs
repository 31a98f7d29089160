// The device pages of the console: the fleet list with its live socket grid, a device's detail
// (configuration, remote commands, commissioning), registration and stock, device models, the
// command log. Every figure the page shows is compared with what the API says.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DATA_DIR, URL_BASE, adminToken, api, consoleLogin, guard, riderToken, shot, waitUntil, withPage } from './harness.mjs';

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
        const ids = new Set(all.map((d) => d.id));
        assert.ok(fleet().every((d) => ids.has(d.id)), 'the API lists every device of the demo fleet');
        await openDevices(page);
        await page.locator('#devices-counts', { hasText: `共 ${all.length} 台设备，${online} 台在线` }).waitFor();
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
            const socks = (await device('demo-e00005')).sockets;
            const freeBusy = `${socks.filter((x) => x.state === 'free').length} / ${socks.filter((x) => x.state === 'busy').length}`;
            await page.locator(`tr[data-row="demo-e00005"]`, { hasText: freeBusy }).waitFor();
            await shot(page, 'console-devices');
        } finally {
            await api(`/api/v1/sessions/${sid}/stop`, { method: 'POST', token, body: {} });
        }
        await page.locator('.port-cell[data-code="demo-e00005-3"][data-state="free"]').waitFor({ timeout: 20000 });
    }));

async function openDevice(page, id) {
    await consoleLogin(page);
    await page.goto(`${URL_BASE}/console/#/devices/${id}`);
    await page.locator('h1', { hasText: `设备 ${id}` }).waitFor();
    await page.locator('#device-info').waitFor();
}

test('devices: the detail page shows the configuration desired beside reported, and a change reaches the pile', (t) =>
    withPage(t, async (page) => {
        const token = await adminToken();
        const id = 'demo-e00004';
        await openDevice(page, id);
        // The info card is the API's device.
        const d = await device(id);
        const info = await page.locator('#device-info').innerText();
        assert.match(info, /电单车充电桩/);
        assert.match(info, new RegExp(d.presence.fw.replace(/\./g, '\\.')));
        // Change full_stop_w from the page: the desired value is stored and the pile reports it back.
        const before = (await api(`/api/v1/admin/devices/${id}/config`, { token })).desired;
        const want = before && before.full_stop_w === 35 ? 36 : 35;
        if (!(await page.locator('#config-form').isVisible())) await page.locator('.config-edit summary').click();
        await page.locator('#cfg-full_stop_w').fill(String(want));
        await page.locator('#config-form button[type=submit]').click();
        await page.locator('[data-desired="full_stop_w"]', { hasText: String(want) }).waitFor({ timeout: 10000 });
        await page.locator('[data-reported="full_stop_w"]', { hasText: String(want) }).waitFor({ timeout: 15000 });
        await page.locator('#config-in-sync', { hasText: '已同步' }).waitFor({ timeout: 15000 });
        const cfg = await api(`/api/v1/admin/devices/${id}/config`, { token });
        assert.equal(cfg.desired.full_stop_w, want);
        assert.equal(cfg.reported.values.full_stop_w, want);
        assert.equal(cfg.in_sync, true);
        // Every key the API stores is shown, desired beside reported.
        for (const [k, v] of Object.entries(cfg.desired)) {
            if (k === 'version' || typeof v === 'object') continue;
            assert.equal(await page.locator(`[data-desired="${k}"]`).innerText(), String(v), k);
            assert.equal(await page.locator(`[data-reported="${k}"]`).innerText(), String(cfg.reported.values[k]), k);
        }
        await shot(page, 'console-device-detail');
    }));

test("devices: a remote command's answer from the pile is shown, and the command log lists it", (t) =>
    withPage(t, async (page) => {
        const id = 'demo-e00007';
        await openDevice(page, id);
        await page.locator('#cmd-name').selectOption('query_port');
        await page.locator('#cmd-n').fill('2');
        await page.locator('#command-form button[type=submit]').click();
        const answer = page.locator('#command-answer');
        await answer.locator('[data-outcome="ok"]').waitFor({ timeout: 10000 });
        const reply = JSON.parse(await answer.locator('pre').innerText());
        assert.equal(reply.n, 2);
        assert.equal(reply.st, (await socketOf(id, 2)).reported_state);
        // The device's command log shows the query with its outcome, as the API lists it.
        // (sessiond writes its command log once per tick, so the row may trail the answer a little.)
        let q;
        await waitUntil(async () => {
            const log = await api(`/api/v1/admin/devices/${id}/commands?limit=10`, { token: await adminToken() });
            q = log.commands.find((c) => c.name === 'query_port');
            return !!q;
        }, { timeout: 10000, what: 'the API logged the command' });
        await page.locator(`#device-command-log tr[data-row="${q.rid}"]`, { hasText: 'query_port' }).waitFor({ timeout: 10000 });
        assert.match(await page.locator(`#device-command-log tr[data-row="${q.rid}"]`).innerText(), /成功/);
    }));

test('devices: commissioning starts and stops a socket from the detail page', (t) =>
    withPage(t, async (page) => {
        const id = 'demo-e00006';
        await openDevice(page, id);
        const row = page.locator('tr[data-row="demo-e00006-2"]');
        await row.locator('[data-state="free"]').waitFor();
        await page.locator('#commission-minutes').fill('3');
        await row.locator('button[data-act="start"]').click();
        await row.locator('[data-state="charging"]').waitFor({ timeout: 15000 });
        const s = await socketOf(id, 2);
        assert.equal(s.state, 'busy');
        const session = await api(`/api/v1/admin/sessions/${s.sid}`, { token: await adminToken() });
        assert.equal(session.method, 'operator');
        assert.equal(session.minutes, 3);
        assert.equal(await row.locator(`a[href="#/sessions/${s.sid}"]`).count(), 1);
        await row.locator('button[data-act="stop"]').click();
        await row.locator('[data-state="free"]').waitFor({ timeout: 20000 });
        assert.equal((await socketOf(id, 2)).state, 'free');
    }));

test('devices: a charger registered into stock shows its credentials once; the stock installs it at a station; retiring asks first', (t) =>
    withPage(t, async (page) => {
        const token = await adminToken();
        const ids = [`web-ocpp-${Date.now() % 100000}`, `web-pile-${Date.now() % 100000}`];
        try {
            await openDevices(page);
            // An OCPP charger, its first gun a 60 kW GB/T DC connector, into stock.
            await page.locator('#device-register').click();
            await page.getByLabel('设备编号').last().fill(ids[0]);
            await page.locator('#reg-kind').selectOption('ev_charger');
            await page.locator('#reg-protocol').selectOption('ocpp1.6');
            await page.locator('#reg-ports').fill('2');
            await page.locator('#reg-conn-1').selectOption('gbt_dc');
            await page.locator('#reg-power-1').fill('60000');
            await page.locator('#register-form button[type=submit]').click();
            await page.locator('#credentials').waitFor();
            assert.match(await page.locator('[data-cred="ocpp_url"]').innerText(), new RegExp(`/ocpp/${ids[0]}$`));
            assert.ok((await page.locator('[data-cred="ocpp_password"]').innerText()).length >= 16);
            const ev = await device(ids[0]);
            assert.equal(ev.lifecycle, 'stock');
            assert.equal(ev.protocol, 'ocpp1.6');
            assert.deepEqual(ev.guns.map((g) => [g.connector_type, g.rated_power_w]), [['gbt_dc', 60000], [null, 7000]]);
            await page.getByRole('button', { name: '完成' }).click();
            // An MQTT e-bike pile of 2 sockets, into stock: its MQTT user and password.
            await page.locator('#device-register').click();
            await page.locator('#reg-id').fill(ids[1]);
            await page.locator('#reg-ports').fill('2');
            await page.locator('#register-form button[type=submit]').click();
            assert.equal(await page.locator('[data-cred="mqtt_username"]').innerText(), ids[1]);
            assert.equal((await page.locator('[data-cred="mqtt_password"]').innerText()).length > 20, true);
            await page.getByRole('button', { name: '完成' }).click();
            // The stock lists both; picking them and a station installs them there, all at once.
            await page.goto(`${URL_BASE}/console/#/device-stock`);
            await page.locator('h1', { hasText: '设备库存' }).waitFor();
            const stock = await devices('?lifecycle=stock');
            await page.locator(`tr[data-row="${ids[1]}"]`).waitFor();
            assert.equal(await page.locator('tbody tr').count(), Math.min(20, stock.length));
            // A third pile in stock, picked too, is deleted by someone else before the assignment:
            // the API refuses all of it (409) and the page lists the refused device; nothing moved.
            const ghost = `web-ghost-${Date.now() % 100000}`;
            await api('/api/v1/admin/devices', { method: 'POST', token, body: { id: ghost, kind: 'ebike_pile', sockets: 2 } });
            await page.locator(`tr[data-row="${ghost}"]`).waitFor({ timeout: 10000 });
            for (const id of [...ids, ghost]) await page.getByLabel(`选择 ${id}`).check();
            await api(`/api/v1/admin/devices/${ghost}`, { method: 'DELETE', token });
            guard(page).expect({ status: 409, url: '/api/v1/admin/devices/assign' });
            const station = (await api('/api/v1/admin/stations', { token })).stations[0];
            await page.locator('#assign-station').selectOption(String(station.id));
            await page.locator('#assign-form button[type=submit]').click();
            await page.locator(`#assign-refused li[data-device="${ghost}"]`).waitFor();
            for (const id of ids) assert.equal((await device(id)).lifecycle, 'stock', 'all or nothing');
            // The list drops the deleted pile (and the pick with it); the two others install at once.
            await page.locator(`tr[data-row="${ghost}"]`).waitFor({ state: 'detached', timeout: 10000 });
            await page.locator('#assign-form button[type=submit]').click();
            await page.locator(`tr[data-row="${ids[0]}"]`).waitFor({ state: 'detached' });
            for (const id of ids) {
                const d = await device(id);
                assert.equal(d.lifecycle, 'installed');
                assert.equal(d.station_id, station.id);
            }
            // Retire the pile from its page: a confirmation first, then the API says retired.
            await page.goto(`${URL_BASE}/console/#/devices/${ids[1]}`);
            await page.locator('#device-retire').click();
            await page.locator('dialog[open] button[data-act="confirm"]').click();
            await page.locator('#device-info', { hasText: '已报废' }).waitFor({ timeout: 10000 });
            assert.equal((await device(ids[1])).lifecycle, 'retired');
            // Delete the charger (it never charged) from its page: back to the list, the API has no such device.
            await page.goto(`${URL_BASE}/console/#/devices/${ids[0]}`);
            await page.locator('#device-delete').click();
            await page.locator('dialog[open] button[data-act="confirm"]').click();
            await page.locator('h1', { hasText: '设备管理' }).waitFor();
            assert.equal((await api(`/api/v1/admin/devices/${ids[0]}`, { token, expectStatus: [404] })).status, 404);
        } finally {
            for (const id of ids) await api(`/api/v1/admin/devices/${id}`, { method: 'DELETE', token, expectStatus: [404, 409] });
        }
    }));

test('devices: the filters and pages of the list follow the API', (t) =>
    withPage(t, async (page) => {
        const all = await devices();
        const ev = await devices('?kind=ev_charger');
        await openDevices(page);
        await page.locator('tbody tr[data-row]').first().waitFor();
        // Kind: exactly the API's EV chargers, each with a gun cell per gun in the grid.
        await page.locator('#devices-kind').selectOption('ev_charger');
        await page.getByRole('button', { name: '查询' }).click();
        await waitUntil(async () => (await page.locator('tbody tr[data-row]').count()) === ev.length, { what: 'the EV rows' });
        assert.deepEqual(await page.locator('tbody tr[data-row]').evaluateAll((rs) => rs.map((r) => r.dataset.row)), ev.map((d) => d.id));
        for (const d of ev) await page.locator(`.grid-row[data-device="${d.id}"] .port-cell`).nth(d.port_count - 1).waitFor();
        // Search by id.
        await page.locator('#devices-kind').selectOption('');
        await page.locator('#devices-q').fill('e0001');
        await page.getByRole('button', { name: '查询' }).click();
        const want = all.filter((d) => d.id.includes('e0001')).map((d) => d.id);
        await waitUntil(async () => (await page.locator('tbody tr[data-row]').count()) === want.length, { what: 'the searched rows' });
        assert.deepEqual(await page.locator('tbody tr[data-row]').evaluateAll((rs) => rs.map((r) => r.dataset.row)), want);
        // Offline only: the API's offline devices (none while the simulated fleet is up).
        await page.locator('#devices-q').fill('');
        await page.locator('#devices-online').selectOption('false');
        await page.getByRole('button', { name: '查询' }).click();
        const offline = all.filter((d) => !d.online).length;
        await page.locator('#devices-counts', { hasText: `符合条件 ${offline} 台` }).waitFor();
        // Pages of 20: the second page holds the rest.
        await page.locator('#devices-online').selectOption('');
        await page.getByRole('button', { name: '查询' }).click();
        await waitUntil(async () => (await page.locator('tbody tr[data-row]').count()) === Math.min(20, all.length), { what: 'page 1' });
        await page.getByRole('button', { name: '下一页' }).click();
        await waitUntil(async () => (await page.locator('tbody tr[data-row]').count()) === all.length - 20, { what: 'page 2' });
        assert.deepEqual(await page.locator('tbody tr[data-row]').evaluateAll((rs) => rs.map((r) => r.dataset.row)), all.slice(20).map((d) => d.id));
    }));

test('devices: device models are added, changed and deleted from their page, as the API stores them', (t) =>
    withPage(t, async (page) => {
        const token = await adminToken();
        const name = `WEB-M${Date.now() % 100000}`;
        const models = async () => (await api('/api/v1/admin/device-models', { token })).models;
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/device-models`);
        await page.locator('h1', { hasText: '设备类型' }).waitFor();
        await page.locator('#model-add').click();
        await page.locator('#model-kind').selectOption('ev_charger');
        await page.locator('#model-name').fill(name);
        await page.locator('#model-ports').fill('2');
        await page.locator('#model-gun_power_w').fill('120000');
        await page.locator('#model-connector').selectOption('gbt_dc');
        await page.locator('#model-form button[type=submit]').click();
        let m;
        await waitUntil(async () => !!(m = (await models()).find((x) => x.name === name)), {
            timeout: 10000,
            what: 'the API stored the model',
        });
        assert.deepEqual([m.kind, m.ports, m.gun_power_w, m.connector_type], ['ev_charger', 2, 120000, 'gbt_dc']);
        const row = page.locator(`tr[data-row="${m.id}"]`);
        await row.waitFor();
        assert.match(await row.innerText(), /汽车充电桩[\s\S]*120\.0 kW[\s\S]*国标直流/);
        // Change: the note and the gun power.
        await row.locator('button[data-act="edit"]').click();
        await page.locator('#model-gun_power_w').fill('60000');
        await page.locator('#model-note').fill('web test');
        await page.locator('#model-form button[type=submit]').click();
        await row.getByText('60.0 kW').waitFor();
        m = (await models()).find((x) => x.id === m.id);
        assert.deepEqual([m.gun_power_w, m.note], [60000, 'web test']);
        // Delete, after a confirmation.
        await row.locator('button[data-act="delete"]').click();
        await page.locator('dialog[open] button[data-act="confirm"]').click();
        await row.waitFor({ state: 'detached' });
        assert.equal((await models()).some((x) => x.id === m.id), false);
    }));

test('devices: the command log shows the API\'s commands with its filters and exports them', (t) =>
    withPage(t, async (page) => {
        const token = await adminToken();
        // A command to find: a query of demo-e00008.
        await api('/api/v1/admin/devices/demo-e00008/commands/query_device', { method: 'POST', token, body: {} });
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/commands`);
        await page.locator('h1', { hasText: '指令列表' }).waitFor();
        const first = await api('/api/v1/admin/commands?limit=20', { token });
        await page.locator('tbody tr[data-row]').first().waitFor();
        assert.equal(await page.locator('tbody tr[data-row]').count(), first.commands.length);
        await page.locator('#cmd-device').fill('demo-e00008');
        await page.locator('#cmd-outcome').selectOption('ok');
        await page.getByRole('button', { name: '查询' }).click();
        const want = (await api('/api/v1/admin/commands?device=demo-e00008&outcome=ok&limit=20', { token })).commands;
        assert.ok(want.some((c) => c.name === 'query_device'));
        await waitUntil(async () => {
            const got = await page.locator('tbody tr[data-row]').evaluateAll((rs) => rs.map((r) => r.dataset.row));
            return JSON.stringify(got) === JSON.stringify(want.map((c) => c.rid));
        }, { what: 'the filtered rows are the API\'s' });
        assert.match(await page.locator('tbody tr[data-row]').first().innerText(), /demo-e00008[\s\S]*成功/);
        // The export downloads the same filters as CSV.
        const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '导出 CSV' }).click()]);
        const csv = readFileSync(await dl.path(), 'utf8');
        assert.match(csv, /query_device/);
        assert.doesNotMatch(csv, /demo-e00001,/);
    }));

test('devices: the device pages read in English when the language is switched', (t) =>
    withPage(t, async (page) => {
        await consoleLogin(page);
        await page.getByLabel('语言').selectOption('en');
        for (const [path, title] of [['/devices', 'Devices'], ['/devices/demo-ev001', 'Device demo-ev001'],
            ['/device-stock', 'Device stock'], ['/device-models', 'Device models'], ['/commands', 'Command log']]) {
            await page.goto(`${URL_BASE}/console/#${path}`);
            await page.locator('h1', { hasText: title }).waitFor();
            await page.locator('tbody tr').first().waitFor();
            if (path === '/devices') await page.locator('.port-cell').first().waitFor();
            if (path.startsWith('/devices/')) await page.locator('#device-tariff').waitFor();
            const text = await page.locator('main').innerText();
            assert.doesNotMatch(text, /\b(common|nav|devices|states|errors)\.[a-z_]+/, `${path}: a key shown raw`);
            assert.doesNotMatch(text, /[\u4e00-\u9fff]/, `${path}: Chinese left on the English page`);
        }
    }));

test('devices: a socket disabled on the detail page leaves the riders, shows its QR code, and is enabled again', (t) =>
    withPage(t, async (page) => {
        const token = await adminToken();
        const id = 'demo-e00009';
        await openDevice(page, id);
        // The tariff card is the API's.
        const tariff = await api(`/api/v1/admin/devices/${id}/tariff`, { token });
        assert.match(await page.locator('#device-tariff').innerText(), new RegExp(tariff.in_force.tariff.name));
        const row = page.locator('tr[data-row="demo-e00009-4"]');
        await row.locator('[data-state="free"]').waitFor();
        await row.locator('button[data-act="toggle"]').click();
        await row.locator('[data-state="unavailable"]').waitFor({ timeout: 10000 });
        assert.equal((await socketOf(id, 4)).enabled, false);
        const rider = await riderToken('13900071002');
        assert.equal((await api('/api/v1/sockets/demo-e00009-4', { token: rider, expectStatus: [404] })).status, 404);
        await row.locator('button[data-act="toggle"]').click();
        await row.locator('[data-state="free"]').waitFor({ timeout: 10000 });
        assert.equal((await socketOf(id, 4)).enabled, true);
        // The socket's QR code, a PNG the API draws.
        await row.locator('button[data-act="qr"]').click();
        const img = page.locator('#qr-img');
        await img.waitFor();
        await waitUntil(() => img.evaluate((i) => i.complete && i.naturalWidth > 100), { what: 'the QR image is drawn' });
        await page.locator('dialog[open] button[aria-label="关闭"]').click();
        // The printable sheet: one SVG with every socket's code.
        const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('#qr-sheet').click()]);
        const svg = readFileSync(await dl.path(), 'utf8');
        assert.match(svg, /<svg/);
        for (let n = 1; n <= 10; n++) assert.match(svg, new RegExp(`demo-e00009-${n}\\b`));
    }));

test("devices: an EV charger's guns are listed with their ratings and its own commands answer", (t) =>
    withPage(t, async (page) => {
        const id = 'demo-ev001';
        const d = await device(id);
        await openDevice(page, id);
        for (const g of d.guns) {
            const row = page.locator(`tr[data-row="${g.code}"]`);
            await row.waitFor();
            assert.match(await row.innerText(), new RegExp(`${g.rated_power_w / 1000}\\.0 kW`));
        }
        const names = await page.locator('#cmd-name option').evaluateAll((os) => os.map((o) => o.value));
        assert.deepEqual(names, ['reset', 'unlock', 'set_availability', 'set_tariff', 'set_time']);
        await page.locator('#cmd-name').selectOption('set_availability');
        await page.locator('#cmd-n').fill('2');
        await page.locator('#cmd-operative').selectOption('true');
        await page.locator('#command-form button[type=submit]').click();
        await page.locator('#command-answer [data-outcome="ok"]').waitFor({ timeout: 10000 });
    }));

test('devices: commissioning starts every gun of a charger at once, and each stops from its row', (t) =>
    withPage(t, async (page) => {
        const id = 'demo-ev002';
        await openDevice(page, id);
        await page.locator('tr[data-row="demo-ev002-2"] [data-state="free"]').waitFor();
        await page.locator('#commission-minutes').fill('2');
        await page.locator('#start-all').click();
        for (const n of [1, 2]) {
            await page.locator(`tr[data-row="demo-ev002-${n}"] [data-state="charging"]`).waitFor({ timeout: 20000 });
            assert.equal((await socketOf(id, n)).state, 'busy');
        }
        // Stopped, a gun is finishing until its car is unplugged: the unlock command lets it go.
        for (const n of [1, 2]) {
            const row = page.locator(`tr[data-row="demo-ev002-${n}"]`);
            await row.locator('button[data-act="stop"]').click();
            await row.locator('[data-state="finishing"], [data-state="free"]').waitFor({ timeout: 30000 });
            await page.locator('#cmd-name').selectOption('unlock');
            await page.locator('#cmd-n').fill(String(n));
            await page.locator('#command-form button[type=submit]').click();
            await page.locator('#command-answer [data-outcome="ok"]').waitFor({ timeout: 15000 });
            await row.locator('[data-state="free"]').waitFor({ timeout: 30000 });
        }
        assert.deepEqual((await device(id)).sockets.map((s) => s.state), ['free', 'free']);
    }));

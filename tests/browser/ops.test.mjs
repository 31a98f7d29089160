// The console's operations pages: parking spaces live with the camera answering a lock command,
// alerts appearing without a reload and acknowledged from the page, and a firmware image uploaded
// and rolled out to one simulated pile from the page until it is installed.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DATA_DIR, URL_BASE, adminToken, api, consoleLogin, guard, riderToken, shot, waitUntil, withPage } from './harness.mjs';

const fleet = JSON.parse(readFileSync(join(DATA_DIR, 'fleet.json'), 'utf8')).devices;
const camera = fleet.find((d) => d.kind === 'camera');
const piles = fleet.filter((d) => d.kind === 'ebike_pile').map((d) => d.id).sort();

/** One line to the simulator's control FIFO (workers/pilehub-sim/README.md). */
function sim(line) {
    writeFileSync(join(DATA_DIR, 'sim/control'), `${line}\n`);
}

async function openConsole(page, hash) {
    await consoleLogin(page);
    await page.locator('#who').waitFor();
    await page.goto(`${URL_BASE}/console/#${hash}`);
}

test("parking: the spaces page shows the demo camera's 4 spaces with the API's states, and a lock command from the page is answered by the camera", async (t) => {
    const token = await adminToken();
    // The demo camera's locks may jam (--lock-jam-pct 2): the camera then answers 502 device_failed.
    await withPage(t, { expectStatus: [{ status: 502, url: '/lock' }] }, async (page) => {
        await openConsole(page, '/parking');
        await page.locator('h1', { hasText: '停车管理' }).waitFor();
        const rows = page.locator('#spaces tbody tr[data-row]');
        await waitUntil(async () => (await rows.count()) === 4, { timeout: 10000, what: '4 space rows' });
        const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.row).sort());
        assert.deepEqual(ids, [1, 2, 3, 4].map((n) => `${camera.id}-${n}`));
        // Cars the other tests bring move meanwhile: the page (polling) and the API agree within a poll.
        await waitUntil(async () => {
            const { spaces } = await api('/api/v1/admin/spaces', { token });
            for (const sp of spaces) {
                const row = page.locator(`#spaces tr[data-row="${sp.id}"]`);
                if ((await row.locator('[data-word]').first().getAttribute('data-word')) !== sp.state) return false;
                const st = await row.locator('.lock-st').getAttribute('data-st');
                if (st !== (sp.lock ? sp.lock.st : '')) return false;
            }
            return true;
        }, { timeout: 15000, what: "every space's state and lock as the API says" });
        await shot(page, 'console-parking');

        // Raise the first space's lock from the page: the camera's answer is shown.
        const id = `${camera.id}-1`;
        const reply = page.waitForResponse((r) => r.url().includes(`/admin/spaces/${id}/lock`), { timeout: 30000 });
        await page.locator(`#spaces tr[data-row="${id}"] button[data-action=raise]`).click();
        const res = await reply;
        const answer = page.locator('#space-answer');
        await answer.waitFor({ timeout: 30000 });
        const text = await answer.innerText();
        assert.match(text, new RegExp(`${id} · 升锁`));
        if (res.status() === 200) {
            const body = await res.json();
            assert.equal(await answer.getAttribute('data-ok'), 'true');
            assert.equal(await answer.locator('strong').getAttribute('data-st'), body.lock.st);
            assert.equal(body.lock.st, 'raised');
            // The space list (API and page) follows the camera's report.
            await waitUntil(async () => {
                const { spaces } = await api('/api/v1/admin/spaces', { token });
                return spaces.find((s) => s.id === id).lock.st === 'raised';
            }, { timeout: 10000, what: 'the API shows the lock raised' });
            await page.locator(`#spaces tr[data-row="${id}"] .lock-st[data-st=raised]`).waitFor({ timeout: 10000 });
        } else {
            assert.equal(res.status(), 502, 'the camera answered: a jammed lock is device_failed');
            assert.equal(await answer.getAttribute('data-ok'), 'false');
            assert.match(text, /设备执行失败/);
        }

        // A snapshot: the page shows the capture the camera recorded, as the API lists it.
        const id2 = `${camera.id}-2`;
        await page.locator(`#spaces tr[data-row="${id2}"] button[data-action=snapshot]`).click();
        await page.locator('#space-answer', { hasText: `${id2} · 抓拍` }).waitFor({ timeout: 30000 });
        const capText = await page.locator('#space-answer').innerText();
        const capId = Number(capText.match(/记录 (\d+)/)[1]);
        const { captures } = await api(`/api/v1/admin/captures?space=${id2}`, { token });
        const cap = captures.find((c) => c.id === capId);
        assert.ok(cap, 'the API lists the snapshot the page showed');
        assert.ok(capText.includes(cap.image_url));

        // Settings: a new name, saved through the modal, is the API's and the page's.
        const name = `Bay ${Date.now() % 1000}`;
        await page.locator(`#spaces tr[data-row="${id2}"] button[data-action=edit]`).click();
        await page.locator('#space-form').getByLabel('名称').fill(name);
        await page.locator('#space-form button[type=submit]').click();
        await page.locator('#space-form').waitFor({ state: 'detached' });
        const { spaces } = await api('/api/v1/admin/spaces', { token });
        assert.equal(spaces.find((s) => s.id === id2).name, name);
        await page.locator(`#spaces tr[data-row="${id2}"]`, { hasText: name }).waitFor();
    });
});

test('alerts: a fault raised on a pile appears in the alerts page without a reload, is acknowledged from the page, and the API shows it acknowledged', async (t) => {
    const token = await adminToken();
    const dev = piles[2];
    await withPage(t, async (page) => {
        await openConsole(page, '/alerts');
        await page.locator('h1', { hasText: '告警' }).waitFor();
        await page.locator('#alerts-list tbody tr').first().waitFor();
        sim(`fault ${dev} 1 ops_test_fault`);
        // The page polls: the new alert shows up without navigating.
        const row = page.locator('#alerts-list tbody tr', { hasText: dev }).filter({ has: page.locator('[data-word=open]') });
        await row.first().waitFor({ timeout: 20000 });
        const id = await row.first().getAttribute('data-row');
        const a = await api(`/api/v1/admin/alerts/${id}`, { token });
        assert.equal(a.kind, 'fault');
        assert.equal(a.device_id, dev);
        assert.equal(a.state, 'open');
        assert.equal(a.n, 1);
        assert.match(await row.first().innerText(), /故障/);
        await shot(page, 'console-alerts');
        await page.locator(`#alerts-list tr[data-row="${id}"] button[data-action=ack]`).click();
        await page.locator(`#alerts-list tr[data-row="${id}"] [data-word=acknowledged]`).waitFor({ timeout: 10000 });
        const after = await api(`/api/v1/admin/alerts/${id}`, { token });
        assert.equal(after.state, 'acknowledged');
        assert.equal(after.acked_by, 'admin');
        // Filtered to the demo station's acknowledged faults: the rows are the API's.
        const station = a.station_id;
        assert.ok(station, 'a pile alert names its station');
        await page.locator('#alerts-state').selectOption('acknowledged');
        await page.locator('#alerts-kind').selectOption('fault');
        await page.locator('#alerts-station').selectOption(String(station));
        await page.getByRole('button', { name: '查询' }).click();
        const { alerts } = await api(`/api/v1/admin/alerts?state=acknowledged&kind=fault&station_id=${station}&limit=20`, { token });
        assert.ok(alerts.some((x) => x.id === Number(id)), 'the station filter keeps the pile\'s alert');
        await waitUntil(async () => {
            const ids = await page.locator('#alerts-list tbody tr[data-row]').evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.row)));
            return JSON.stringify(ids) === JSON.stringify(alerts.map((x) => x.id));
        }, { timeout: 10000, what: 'the filtered rows are the API\'s' });
        // The detail page says the same, and resolves it.
        await page.locator(`#alerts-list tr[data-row="${id}"] a`).first().click();
        await page.locator('#alert-detail [data-word=acknowledged]').waitFor();
        assert.match(await page.locator('#alert-detail').innerText(), new RegExp(dev));
        assert.match(await page.locator('#alert-detail').innerText(), /admin/);
        await page.getByRole('button', { name: '解决' }).click();
        await page.locator('#alert-detail [data-word=resolved]').waitFor({ timeout: 10000 });
        const resolved = await api(`/api/v1/admin/alerts/${id}`, { token });
        assert.equal(resolved.state, 'resolved');
        assert.equal(resolved.resolved_by, 'admin');
        sim(`fault ${dev} 1 ops_test_fault clear`);
    });
});

test('firmware: an image uploaded from the page and rolled out to one pile shows the rollout progressing to installed and completed', async (t) => {
    const token = await adminToken();
    const dev = piles[4];
    const version = `9.${Date.now() % 100000}.1`;
    await withPage(t, async (page) => {
        await openConsole(page, '/firmware');
        await page.locator('h1', { hasText: '固件升级' }).waitFor();
        await page.locator('#firmware-file').setInputFiles({
            name: `pile-${version}.bin`, mimeType: 'application/octet-stream', buffer: Buffer.alloc(20000, 7),
        });
        await page.locator('#firmware-version').fill(version);
        await page.locator('#firmware-kind').selectOption('ebike_pile');
        await page.locator('#firmware-upload button[type=submit]').click();
        const imageRow = page.locator('#firmware-images tbody tr', { hasText: version });
        await imageRow.waitFor({ timeout: 10000 });
        const { firmware } = await api('/api/v1/admin/firmware', { token });
        const image = firmware.find((f) => f.version === version);
        assert.ok(image, 'the API lists the uploaded image');
        assert.equal(image.size, 20000);
        assert.equal(image.kind, 'ebike_pile');
        assert.match(await imageRow.innerText(), /20000/);

        await imageRow.locator('button[data-action=rollout]').click();
        await page.locator('#rollout-target').selectOption('devices');
        await page.locator('#rollout-devices').fill(dev);
        await page.locator('#rollout-timeout').fill('120');
        await page.locator('#rollout-form button[type=submit]').click();
        await page.waitForURL(/#\/firmware\/rollouts\/\d+$/, { timeout: 10000 });
        const rid = page.url().match(/rollouts\/(\d+)$/)[1];
        await page.locator('#rollout-devices-list tbody tr[data-row]').first().waitFor({ timeout: 10000 });
        assert.match(await page.locator('#rollout-devices-list').innerText(), new RegExp(dev));
        // Live: the device goes to installed and the rollout completes without a reload.
        await page.locator(`#rollout-devices-list tr[data-row="${dev}"] [data-word=installed]`).waitFor({ timeout: 90000 });
        await page.locator('#rollout-state [data-word=completed]').waitFor({ timeout: 30000 });
        const ro = await api(`/api/v1/admin/rollouts/${rid}`, { token });
        assert.equal(ro.state, 'completed');
        assert.equal(ro.devices.length, 1);
        assert.equal(ro.devices[0].device_id, dev);
        assert.equal(ro.devices[0].state, 'installed');
        assert.equal(ro.devices[0].reported_version, version);
        assert.match(await page.locator(`#rollout-devices-list tr[data-row="${dev}"]`).innerText(), new RegExp(version.replace(/\./g, '\\.')));
        await shot(page, 'console-firmware-rollout');
        // The firmware page lists the image and the completed rollout.
        await page.locator('a', { hasText: '返回' }).click();
        const roRow = page.locator(`#rollouts tr[data-row="${rid}"]`);
        await roRow.locator('[data-word=completed]').waitFor();
        assert.match(await roRow.innerText(), new RegExp(`${version.replace(/\./g, '\\.')}[\\s\\S]*指定设备[\\s\\S]*已安装 1`));
        await shot(page, 'console-firmware');
        assert.equal(guard(page).all().length, 0);
    });
});

/** POST with extra headers (the harness's api() sends JSON only, without an Idempotency-Key). */
async function post(path, { token, body, headers = {} }) {
    const res = await fetch(`${URL_BASE}/api/v1${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, ...headers },
        body,
    });
    const j = await res.json();
    assert.ok(res.ok, `POST ${path}: ${res.status} ${JSON.stringify(j)}`);
    return j;
}

const tab = (page, name) => page.getByRole('tab', { name, exact: true }).click();

test("parking: a rider's plate is certified from the plates tab, and the rider's reservation is ended from the reservations tab", async (t) => {
    const token = await adminToken();
    const rider = await riderToken('13900710001');
    const plate = '粤B7T001';
    await api('/api/v1/me/plates', { method: 'POST', token: rider, body: { plate, color: 'blue' } });
    const me = await api('/api/v1/me', { token: rider });
    await post(`/admin/users/${me.id}/recharge`, {
        token, body: JSON.stringify({ amount_fen: 5000 }),
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': `ops-${Date.now()}` },
    });
    await withPage(t, async (page) => {
        await openConsole(page, '/parking');
        await tab(page, '车牌认证');
        const row = page.locator(`tr[data-row="${plate}"]`);
        await row.waitFor();
        assert.match(await row.innerText(), /13900710001/);
        await row.locator('button[data-action=certify]').click();
        await waitUntil(async () => {
            const { plates } = await api('/api/v1/admin/plates', { token });
            const p = plates.find((x) => x.plate === plate);
            return p && p.certified && p.certified_by === 'admin';
        }, { timeout: 10000, what: 'the API shows the plate certified by admin' });
        await row.locator('button[data-action=certify]').waitFor({ state: 'detached' });

        // The certified plate reserves a free space; the operator ends the reservation in the page.
        const { spaces } = await api('/api/v1/admin/spaces', { token });
        const free = spaces.find((s) => s.state === 'free');
        assert.ok(free, 'a free space to reserve');
        const { reservation } = await api('/api/v1/reservations', { method: 'POST', token: rider, body: { space: free.id, plate } });
        await tab(page, '预约');
        const rrow = page.locator(`tr[data-row="${reservation.id}"]`);
        await rrow.waitFor();
        assert.equal(await rrow.locator('[data-word]').getAttribute('data-word'), 'reserved');
        assert.match(await rrow.innerText(), new RegExp(free.id));
        page.once('dialog', (d) => d.accept());
        await rrow.locator('button[data-action=end]').click();
        await rrow.locator('[data-word=completed]').waitFor({ timeout: 10000 });
        const mine = await api(`/api/v1/reservations/${reservation.id}`, { token: rider });
        assert.equal(mine.reservation.state, 'completed');
        assert.equal(mine.reservation.ended_by, 'admin');
    });
});

test('parking: the whitelist is added to, switched off and emptied from the page; captures, decisions and orders show what the camera reported; orders export', async (t) => {
    const token = await adminToken();
    const { stations } = await api('/api/v1/admin/stations', { token });
    const plate = '粤B7W002';
    await withPage(t, async (page) => {
        await openConsole(page, '/parking');
        await tab(page, '白名单');
        await page.locator('#whitelist-station').selectOption(String(stations[0].id));
        await page.locator('#whitelist-plate').fill(plate);
        await page.locator('#whitelist-note').fill('staff car');
        await page.locator('#whitelist-add button[type=submit]').click();
        await waitUntil(async () => (await api('/api/v1/admin/whitelist', { token })).whitelist.some((e) => e.plate === plate),
            { timeout: 10000, what: 'the API lists the whitelisted plate' });
        const entry = (await api('/api/v1/admin/whitelist', { token })).whitelist.find((e) => e.plate === plate);
        assert.equal(entry.note, 'staff car');
        assert.equal(entry.enabled, true);
        assert.equal(entry.station_id, stations[0].id);
        const row = page.locator(`tr[data-row="${entry.id}"]`);
        await row.waitFor();
        await row.locator('button[data-action=toggle]').click();
        await waitUntil(async () => (await api('/api/v1/admin/whitelist', { token })).whitelist.find((e) => e.id === entry.id).enabled === false,
            { timeout: 10000, what: 'the API shows the entry switched off' });
        page.once('dialog', (d) => d.accept());
        await row.locator('button[data-action=remove]').click();
        await row.waitFor({ state: 'detached', timeout: 10000 });
        assert.ok(!(await api('/api/v1/admin/whitelist', { token })).whitelist.some((e) => e.id === entry.id));

        // A new-energy car arrives at a free space (its lock lowers) and leaves: a capture, a lock
        // decision and an order. (A blue plate would be refused and never park.)
        const { spaces } = await api('/api/v1/admin/spaces', { token });
        const free = spaces.find((s) => s.state === 'free');
        assert.ok(free, 'a free space');
        const car = '粤BD70034';
        sim(`plate ${camera.id} ${free.n} ${car} in green`);
        await waitUntil(async () => (await api(`/api/v1/admin/captures?plate=${encodeURIComponent(car)}`, { token })).captures.length > 0,
            { timeout: 15000, what: 'the capture recorded' });
        await tab(page, '抓拍记录');
        const cap = (await api(`/api/v1/admin/captures?plate=${encodeURIComponent(car)}`, { token })).captures[0];
        await page.locator(`tr[data-row="${cap.id}"]`).waitFor();
        assert.match(await page.locator(`tr[data-row="${cap.id}"]`).innerText(), new RegExp(`${car}[\\s\\S]*绿牌[\\s\\S]*${free.id}`));
        await waitUntil(async () => (await api('/api/v1/admin/parking/decisions', { token })).decisions.some((d) => d.plate === car),
            { timeout: 15000, what: 'the lock decision recorded' });
        const dec = (await api('/api/v1/admin/parking/decisions', { token })).decisions.find((d) => d.plate === car);
        await tab(page, '地锁决策');
        const drow = page.locator(`tr[data-row="${dec.id}"]`);
        await drow.waitFor();
        assert.equal(dec.allowed, true, 'an NEV plate lowers the lock');
        assert.match(await drow.innerText(), /放行/);
        sim(`plate ${camera.id} ${free.n} ${car} out green`);
        await waitUntil(async () => (await api('/api/v1/admin/parking-orders', { token })).orders.some((o) => o.plate === car && o.left_at),
            { timeout: 15000, what: 'the stay ended' });
        const order = (await api('/api/v1/admin/parking-orders', { token })).orders.find((o) => o.plate === car);
        await tab(page, '停车订单');
        const orow = page.locator(`tr[data-row="${order.id}"]`);
        await orow.waitFor();
        assert.equal(await orow.locator('[data-word]').getAttribute('data-word'), order.state);
        const download = page.waitForEvent('download');
        await page.getByRole('button', { name: '导出 CSV' }).click();
        const file = await download;
        assert.equal(file.suggestedFilename(), 'parking-orders.csv');
        const csv = readFileSync(await file.path(), 'utf8');
        assert.match(csv, new RegExp(car));
    });
});

test('firmware: a running rollout is halted from its page; the API shows it halted and its pending devices skipped', async (t) => {
    const token = await adminToken();
    const { stations } = await api('/api/v1/admin/stations', { token });
    const version = `8.${Date.now() % 100000}.2`;
    const qs = new URLSearchParams({ version, kind: 'ebike_pile' });
    const image = await post(`/admin/firmware?${qs}`, { token, body: Buffer.alloc(1000, 3), headers: { 'Content-Type': 'application/octet-stream' } });
    const ro = await post(`/admin/firmware/${image.id}/rollouts`, {
        token, body: JSON.stringify({ station_id: stations[0].id, batch_size: 1, batch_interval_s: 3600, timeout_s: 600 }),
        headers: { 'Content-Type': 'application/json' },
    });
    await withPage(t, async (page) => {
        await openConsole(page, `/firmware/rollouts/${ro.id}`);
        await page.locator('#rollout-state [data-word=running]').waitFor();
        assert.equal(await page.locator('#rollout-devices-list tbody tr[data-row]').count(), ro.devices.length);
        page.once('dialog', (d) => d.accept());
        await page.locator('#rollout-halt').click();
        await page.locator('#rollout-state [data-word=halted]').waitFor({ timeout: 10000 });
        const after = await api(`/api/v1/admin/rollouts/${ro.id}`, { token });
        assert.equal(after.state, 'halted');
        assert.ok(after.devices.some((d) => d.state === 'skipped'), 'pending devices skipped');
        const skipped = after.devices.filter((d) => d.state === 'skipped').length;
        await waitUntil(async () => (await page.locator('#rollout-devices-list [data-word=skipped]').count()) === skipped,
            { timeout: 10000, what: 'the page shows as many skipped devices as the API' });
        assert.equal(await page.locator('#rollout-halt').count(), 0, 'no halt button on a halted rollout');
    });
});

test('ops pages: in English every string of the parking, alerts and firmware pages is English', async (t) => {
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.getByLabel('语言').selectOption('en');
        for (const [hash, title] of [['/parking', 'Parking'], ['/alerts', 'Alerts'], ['/firmware', 'Firmware']]) {
            await page.goto(`${URL_BASE}/console/#${hash}`);
            await page.locator('h1', { hasText: title }).waitFor();
            await page.locator('main tbody tr').first().waitFor();
            const text = await page.locator('main').innerText();
            assert.doesNotMatch(text, /\b(common|parking|alerts|firmware|states|errors)\.[a-z_]+/, `no raw key on ${hash}`);
            assert.doesNotMatch(text.replace(/[\u4e00-\u9fff][A-Z0-9]{5,6}/g, ''), /[\u4e00-\u9fff]/, `no Chinese on ${hash} (plates aside)`);
        }
    });
});

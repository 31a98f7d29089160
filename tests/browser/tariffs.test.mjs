// The console's hierarchy, stations and tariffs pages: a tariff edited in the editor (a price changed,
// TOU slots painted by click, drag and keyboard) is saved exactly as typed, and the calculator quotes
// it as the API's tariff-quote does; stations and areas are created through the pages; the library's
// schemes are created, assigned and archived. Every test restores what it changed or uses its own objects.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { URL_BASE, adminToken, api, consoleLogin, shot, waitUntil, withPage } from './harness.mjs';
import { yuanZh } from './money.mjs';

async function demoStation(token) {
    const { stations } = await api('/api/v1/admin/stations', { token });
    return stations.find((s) => s.name === 'Demo Garden Station') ?? stations[0];
}

// Quotes a session on the calculator page with a source (`station:<id>`, or `draft:` when the editor
// has just opened the page with its draft), today (the page's default date) at `at`; returns that
// date (YYYY-MM-DD) once the quote is shown.
async function quoteOnPage(page, source, { mode, at, minutes, kwh, watts }) {
    if (source !== 'draft:') await page.goto(`${URL_BASE}/console/#/tariff-calculator`);
    await page.locator('#calc-source').selectOption(source);
    await page.locator(`#calc-mode option[value=${mode}]`).waitFor({ state: 'attached' });
    await page.locator('#calc-mode').selectOption(mode);
    const day = (await page.locator('#calc-start').inputValue()).slice(0, 10);
    await page.locator('#calc-start').fill(`${day}T${at}`);
    await page.locator('#calc-duration').fill(minutes);
    await page.locator('#calc-energy').fill(kwh);
    await page.locator('#calc-power').fill(watts);
    await page.locator('#calc-form button[type=submit]').click();
    await page.locator('#quote-result').waitFor();
    return day;
}

test('tariffs: a tariff edited in the editor (price and painted TOU slots) is saved exactly, and the calculator quotes it as the API does', async (t) => {
    const token = await adminToken();
    const st = await demoStation(token);
    const before = await api(`/api/v1/admin/stations/${st.id}/tariff`, { token });
    const orig = before.in_force.tariff;
    assert.ok(orig.energy && orig.modes.includes('energy'), 'the demo tariff has an energy mode');
    try {
        await withPage(t, async (page) => {
            await consoleLogin(page);
            await page.goto(`${URL_BASE}/console/#/tariffs?station=${st.id}`);
            await page.locator('#tariff-form').waitFor();
            // The page shows the version in force and every saved version.
            assert.equal(await page.locator('#tariff-in-force [data-version]').innerText(), String(before.in_force.version));
            assert.equal(await page.locator('#tariff-versions tbody tr').count(), before.versions.length);
            // The strip shows the 48 slots of the document, each with its period.
            const strip = page.locator('#tou-strip .slot');
            assert.equal(await strip.count(), 48);
            const shown = await strip.evaluateAll((els) => els.map((e) => e.dataset.period));
            assert.deepEqual(shown, orig.energy.slots);
            // Prices typed as yuan text.
            assert.equal(await page.getByLabel('峰电费 元/kWh').inputValue(), '1.0000');
            await page.getByLabel('峰电费 元/kWh').fill('1.2345');
            await page.locator('#tariff-time-price').fill('1.50');
            // Paint: a click, a drag over four slots, the keyboard (Enter, then Shift+ArrowRight).
            await page.locator('.period-pick[data-period=sharp]').click();
            await page.locator('#tou-strip [data-slot="0"]').click();
            const box = async (i) => page.locator(`#tou-strip [data-slot="${i}"]`).boundingBox();
            const b2 = await box(2);
            const b5 = await box(5);
            await page.mouse.move(b2.x + b2.width / 2, b2.y + b2.height / 2);
            await page.mouse.down();
            for (const i of [3, 4, 5]) {
                const b = await box(i);
                await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 3 });
            }
            await page.mouse.move(b5.x + b5.width / 2, b5.y + b5.height / 2);
            await page.mouse.up();
            await page.locator('#tou-strip [data-slot="8"]').focus();
            await page.keyboard.press('Enter');
            await page.keyboard.press('Shift+ArrowRight');
            const expectedSlots = [...orig.energy.slots];
            for (const i of [0, 2, 3, 4, 5, 8, 9]) expectedSlots[i] = 'sharp';
            await waitUntil(async () => (await page.locator('#tou-strip [data-slot="9"]').getAttribute('data-period')) === 'sharp', { what: 'slot 9 painted' });
            assert.deepEqual(await strip.evaluateAll((els) => els.map((e) => e.dataset.period)), expectedSlots);
            await page.locator('#tariff-eff').selectOption('now');
            await shot(page, 'console-tariff-editor');
            await page.locator('#tariff-form button[type=submit]').click();
            await page.locator('#tariff-in-force [data-version]').getByText(String(before.in_force.version + 1)).waitFor();

            // The API's tariff has exactly the typed fen values and the painted slots; nothing else changed.
            const after = await api(`/api/v1/admin/stations/${st.id}/tariff`, { token });
            const saved = after.in_force.tariff;
            assert.equal(after.in_force.version, before.in_force.version + 1);
            assert.equal(saved.energy.periods.peak.elec_e4, 12345);
            assert.equal(saved.time.fen_per_hour, 150);
            assert.deepEqual(saved.energy.slots, expectedSlots);
            const strip_ = ({ effective_from, ...rest }) => rest;
            assert.deepEqual(strip_(saved), strip_({
                ...orig,
                time: { ...orig.time, fen_per_hour: 150 },
                energy: { ...orig.energy, slots: expectedSlots, periods: { ...orig.energy.periods, peak: { ...orig.energy.periods.peak, elec_e4: 12345 } } },
            }));
            assert.equal(await page.locator('#tariff-versions tbody tr').count(), after.versions.length);

            // The calculator quotes a 1 kWh energy session in a peak hour (10:00-11:00) with the new price.
            assert.equal(saved.energy.slots[20], 'peak');
            const day = await quoteOnPage(page, `station:${st.id}`, { mode: 'energy', at: '10:00', minutes: '60', kwh: '1', watts: '200' });
            const quote = await api('/api/v1/admin/tariff-quote', {
                token,
                method: 'POST',
                body: {
                    tariff: saved,
                    mode: 'energy',
                    samples: [
                        { t: `${day}T10:00:00+08:00`, energy_wh: 0, power_w: 200 },
                        { t: `${day}T11:00:00+08:00`, energy_wh: 1000, power_w: 200 },
                    ],
                },
            });
            // 1 kWh × (1.2345 electricity + 0.8000 service) = 2.0345 yuan, rounded down once.
            assert.equal(quote.cost_fen, Math.floor((1000 * (12345 + saved.energy.periods.peak.service_e4)) / 1000 / 100));
            assert.equal(await page.locator('#quote-result [data-stat=cost_fen] .stat-value').innerText(), yuanZh(quote.cost_fen));
            assert.equal(await page.locator('#quote-result [data-stat=electricity_fen] .stat-value').innerText(), yuanZh(quote.electricity_fen));
            assert.equal(await page.locator('#quote-result tbody tr').count(), quote.lines.length);
            for (const [i, line] of quote.lines.entries()) {
                const cells = page.locator('#quote-result tbody tr').nth(i).locator('td');
                assert.equal(await cells.nth(1).innerText(), line.text);
                assert.equal(await cells.nth(2).innerText(), yuanZh(line.fen));
            }
            assert.match(quote.lines[0].text, /1\.2345/);
            await shot(page, 'console-tariff-calculator');
        });
    } finally {
        await api(`/api/v1/admin/stations/${st.id}/tariff`, { token, method: 'PUT', body: { tariff: { ...orig, effective_from: 'now' } } });
    }
});

test('stations: a station created on the stations page and an area created on its page are what the API lists', async (t) => {
    const token = await adminToken();
    const name = `Tariffs test station ${Date.now()}`;
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/stations`);
        const { stations } = await api('/api/v1/admin/stations', { token });
        await page.locator('#main-content table tbody tr, main table tbody tr').first().waitFor();
        await waitUntil(async () => (await page.locator('main table tbody tr[data-row]').count()) === stations.length, { what: 'every station listed' });
        await shot(page, 'console-stations');
        await page.locator('#new-station').click();
        await page.locator('#station-create-name').fill(name);
        await page.locator('#station-create-address').fill('8 Tariff Road');
        await page.locator('#station-create-lat').fill('22.5401');
        await page.locator('#station-create-lon').fill('114.0502');
        await page.locator('#station-create-open_hours').fill('07:00-23:00');
        await page.locator('#station-create button[type=submit]').click();
        await page.locator('h1', { hasText: name }).waitFor();
        const made = (await api(`/api/v1/admin/stations?q=${encodeURIComponent(name)}`, { token })).stations;
        assert.equal(made.length, 1);
        const st = made[0];
        assert.deepEqual([st.address, st.lat, st.lon, st.open_hours], ['8 Tariff Road', 22.5401, 114.0502, '07:00-23:00']);
        assert.match(page.url(), new RegExp(`#/stations/${st.id}$`));
        assert.equal(await page.locator('#station-fields [data-k=open_hours]').innerText(), '07:00-23:00');
        // An area, then disabled from its row.
        await page.locator('#area-name').fill('North gate');
        await page.locator('#area-create button[type=submit]').click();
        await page.locator('#station-areas tbody tr', { hasText: 'North gate' }).waitFor();
        let detail = await api(`/api/v1/admin/stations/${st.id}`, { token });
        assert.deepEqual(detail.areas.map((a) => [a.name, a.enabled]), [['North gate', true]]);
        await page.locator('#station-areas tbody tr', { hasText: 'North gate' }).getByRole('button', { name: '停用' }).click();
        await page.locator('#station-areas tbody tr', { hasText: 'North gate' }).getByRole('button', { name: '启用' }).waitFor();
        detail = await api(`/api/v1/admin/stations/${st.id}`, { token });
        assert.equal(detail.areas[0].enabled, false);
        // Prepaid amounts typed as yuan are stored as fen, ascending.
        await page.locator('#prepaid-input').fill('50, 10.5, 20');
        await page.locator('#prepaid-form button[type=submit]').click();
        await page.locator('#prepaid-amounts').getByText('¥10.50').waitFor();
        const pre = await api(`/api/v1/admin/stations/${st.id}/prepaid-amounts`, { token });
        assert.deepEqual(pre.amounts_fen, [1050, 2000, 5000]);
        assert.equal(await page.locator('#prepaid-amounts').innerText(), pre.amounts_fen.map(yuanZh).join(' · '));
        // A new station has no tariff yet; the page says so and links to the editor.
        assert.equal(await page.locator('#station-tariff dd').first().innerText(), '尚无计费');
        await page.getByRole('link', { name: '编辑计费' }).click();
        await page.locator('#tariff-form').waitFor();
        assert.equal(await page.locator('#tariff-station').inputValue(), String(st.id));
    });
});

test('hierarchy: a provider, its property, a station under it and an area are created level by level, and a provider is disabled', async (t) => {
    const token = await adminToken();
    const tag = Date.now();
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/hierarchy`);
        await page.locator('#providers-new').click();
        await page.locator('#providers-create-name').fill(`Provider ${tag}`);
        await page.locator('#providers-create-contact').fill('Wang');
        await page.locator('#providers-create button[type=submit]').click();
        await page.locator('#providers').getByRole('button', { name: `Provider ${tag}` }).click();
        const provider = (await api('/api/v1/admin/providers', { token })).providers.find((p) => p.name === `Provider ${tag}`);
        assert.equal(provider.contact, 'Wang');
        await page.locator('#properties-new').click();
        await page.locator('#properties-create-name').fill(`Property ${tag}`);
        await page.locator('#properties-create button[type=submit]').click();
        await page.locator('#properties').getByRole('button', { name: `Property ${tag}` }).click();
        const property = (await api(`/api/v1/admin/properties?provider_id=${provider.id}`, { token })).properties[0];
        assert.equal(property.name, `Property ${tag}`);
        await page.locator('#hier-stations-new').click();
        await page.locator('#hier-stations-create-name').fill(`Station ${tag}`);
        await page.locator('#hier-stations-create-lat').fill('22.6');
        await page.locator('#hier-stations-create-lon').fill('114.1');
        await page.locator('#hier-stations-create button[type=submit]').click();
        await page.locator('#hier-stations').getByRole('button', { name: `Station ${tag}` }).click();
        const station = (await api(`/api/v1/admin/stations?property_id=${property.id}`, { token })).stations[0];
        assert.equal(station.name, `Station ${tag}`);
        await page.locator('#hier-areas-new').click();
        await page.locator('#hier-areas-create-name').fill('Gate A');
        await page.locator('#hier-areas-create button[type=submit]').click();
        await page.locator('#hier-areas tbody tr', { hasText: 'Gate A' }).waitFor();
        assert.deepEqual((await api(`/api/v1/admin/stations/${station.id}`, { token })).areas.map((a) => a.name), ['Gate A']);
        await shot(page, 'console-hierarchy');
        await page.locator('#providers tbody tr', { hasText: `Provider ${tag}` }).getByRole('button', { name: '停用' }).click();
        await page.locator('#providers tbody tr', { hasText: `Provider ${tag}` }).getByRole('button', { name: '启用' }).waitFor();
        const after = (await api('/api/v1/admin/providers', { token })).providers.find((p) => p.id === provider.id);
        assert.equal(after.enabled, false);
    });
});

test('tariff library: a scheme made in the editor is assigned to a station and an area, edited onto them, shown where in force, and archived only when unused', async (t) => {
    const token = await adminToken();
    const tag = Date.now();
    const st = await api('/api/v1/admin/stations', { token, method: 'POST', body: { name: `Library station ${tag}`, lat: 22.55, lon: 114.06 } });
    const area = await api(`/api/v1/admin/stations/${st.id}/areas`, { token, method: 'POST', body: { name: 'Library area' } });
    const spare = await api('/api/v1/admin/tariff-schemes', {
        token, method: 'POST',
        body: { name: `Spare ${tag}`, tariff: { name: 'Spare', timezone: 'Asia/Shanghai', modes: ['time'], time: { fen_per_hour: 80, options_minutes: [60] } } },
    });
    await withPage(t, { expectStatus: [{ status: 409, url: '/api/v1/admin/tariff-schemes/' }] }, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/tariff-schemes`);
        await page.locator('#scheme-new').click();
        await page.locator('#scheme-scheme-name').fill(`Hourly ${tag}`);
        await page.locator('#scheme-name').fill('Hourly e-bike');
        await page.locator('#scheme-time-price').fill('1.2');
        await page.locator('#scheme-time-options').fill('30, 60, 120');
        await page.locator('#scheme-form button[type=submit]').click();
        const row = page.locator('#schemes tbody tr', { hasText: `Hourly ${tag}` });
        await row.waitFor();
        const scheme = (await api('/api/v1/admin/tariff-schemes', { token })).schemes.find((s) => s.name === `Hourly ${tag}`);
        assert.deepEqual([scheme.tariff.name, scheme.tariff.modes, scheme.tariff.time], ['Hourly e-bike', ['time'], { fen_per_hour: 120, options_minutes: [30, 60, 120] }]);

        // Assign it to the station and its area in one go.
        await row.getByRole('button', { name: '分配' }).click();
        await page.locator('#assign-stations').getByLabel(`Library station ${tag}`).check();
        await page.locator('#assign-areas').getByLabel(`Library station ${tag} / Library area`).check();
        await page.locator('#assign-form button[type=submit]').click();
        await page.locator('#assign-form').waitFor({ state: 'detached' });
        const assigned = await api(`/api/v1/admin/tariff-schemes/${scheme.id}/assignments`, { token });
        assert.deepEqual(assigned.assignments.map((a) => [a.state, a.version.level, a.version.station_id, a.version.area_id]).sort(),
            [['in_force', 'area', st.id, area.id], ['in_force', 'station', st.id, null]]);
        await row.getByRole('button', { name: '生效位置' }).click();
        await page.locator('#scheme-assignments tbody tr').nth(1).waitFor();
        assert.equal(await page.locator('#scheme-assignments tbody tr').count(), 2);
        await shot(page, 'console-tariff-schemes');

        // Edit the price onto every target where it is in force.
        await row.getByRole('button', { name: '编辑' }).click();
        assert.equal(await page.locator('#scheme-time-price').inputValue(), '1.20');
        await page.locator('#scheme-time-price').fill('1.30');
        await page.locator('#scheme-apply').check();
        await page.locator('#scheme-form button[type=submit]').click();
        await page.locator('#scheme-form').waitFor({ state: 'detached' });
        const stationTariff = await api(`/api/v1/admin/stations/${st.id}/tariff`, { token });
        assert.equal(stationTariff.in_force.tariff.time.fen_per_hour, 130);
        assert.equal(stationTariff.in_force.scheme_id, scheme.id);

        // Archiving a scheme in force is refused in words naming where; an unused one is archived.
        await row.getByRole('button', { name: '归档' }).click();
        await row.getByRole('button', { name: `确认归档方案“Hourly ${tag}”？` }).click();
        await page.locator('#schemes-error').getByText(`station ${st.id}`).waitFor();
        const spareRow = page.locator('#schemes tbody tr', { hasText: `Spare ${tag}` });
        await spareRow.getByRole('button', { name: '归档' }).click();
        await spareRow.getByRole('button', { name: /确认归档/ }).click();
        await spareRow.waitFor({ state: 'detached' });
        const left = (await api('/api/v1/admin/tariff-schemes', { token })).schemes.map((s) => s.id);
        assert.ok(!left.includes(spare.id) && left.includes(scheme.id));
    });
});

test('tariffs: a document the API refuses is shown next to the form with its reason, a mistyped price is marked before sending, and nothing is saved', async (t) => {
    const token = await adminToken();
    const st = await demoStation(token);
    const before = await api(`/api/v1/admin/stations/${st.id}/tariff`, { token });
    await withPage(t, { expectStatus: [{ status: 400, url: `/api/v1/admin/stations/${st.id}/tariff` }] }, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/tariffs?station=${st.id}`);
        await page.locator('#tariff-form').waitFor();
        // Not an amount: marked beside the field, no request.
        await page.locator('#tariff-time-price').fill('1.234');
        await page.locator('#tariff-form button[type=submit]').click();
        await page.locator('#tariff-form .has-error .field-error').getByText('格式不正确').waitFor();
        await page.locator('#tariff-error').getByText('请更正标出的字段').waitFor();
        // A tier below the one before it: the API's reason names the field.
        await page.locator('#tariff-time-price').fill('1.00');
        await page.getByLabel('第 2 档功率上限（W）').fill('100');
        const answer = page.waitForResponse((r) => r.url().endsWith(`/admin/stations/${st.id}/tariff`) && r.request().method() === 'PUT');
        await page.locator('#tariff-form button[type=submit]').click();
        const body = await (await answer).json();
        assert.equal((await answer).status(), 400);
        await page.locator('#tariff-error [role=alert]').waitFor();
        const shown = await page.locator('#tariff-error').innerText();
        assert.ok(shown.includes(body.error.message), `the page shows the API's reason: ${shown}`);
        assert.match(body.error.message, /power\.tiers\[1\]/);
        const after = await api(`/api/v1/admin/stations/${st.id}/tariff`, { token });
        assert.equal(after.versions.length, before.versions.length, 'nothing saved');
    });
});

test("tariffs: a device's page says which level prices it, as the API does", async (t) => {
    const token = await adminToken();
    const d = await api('/api/v1/admin/devices/demo-e00001/tariff', { token });
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/tariffs?device=demo-e00001`);
        await page.locator('#device-tariff').waitFor();
        const dd = page.locator('#device-tariff dd');
        assert.equal(await dd.nth(0).innerText(), { station: '站点', area: '区域', device: '设备' }[d.level]);
        assert.equal(await dd.nth(2).innerText(), d.in_force.tariff.name);
        assert.equal(await dd.nth(3).innerText(), String(d.in_force.version));
        assert.equal(await page.locator('#device-versions tbody tr[data-row]').count(), d.versions.length);
    });
});

test('tariffs: in English every page of the area has its words (no key shown raw, no Chinese left)', async (t) => {
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.getByLabel('语言').selectOption('en');
        for (const [path, sel] of [['/tariffs', '#tariff-form'], ['/tariff-calculator', '#calc-form'], ['/tariff-schemes', '#schemes'],
            ['/stations', 'main table'], ['/stations/1', '#station-fields'], ['/hierarchy', '#providers']]) {
            await page.goto(`${URL_BASE}/console/#${path}`);
            await page.locator(sel).first().waitFor();
            await page.locator('main').getByText('Loading', { exact: false }).waitFor({ state: 'detached' }).catch(() => {});
            const text = await page.locator('main').innerText();
            assert.doesNotMatch(text, /\b(tariffs|calc|schemes|stations|common|nav)\.[a-z_]+/, `${path}: a key shown raw`);
            assert.doesNotMatch(text, /[\u4e00-\u9fff]/, `${path}: Chinese left on the English page`);
        }
        await page.getByLabel('Language').selectOption('zh-CN');
    });
});

test("calculator: BILLING.md's worked example — power mode, 180 W after the first minute, 18 min 00 s → tier ≤300 W at 30 fen/h = 9 fen", async (t) => {
    const token = await adminToken();
    const st = await demoStation(token);
    const tariff = (await api(`/api/v1/admin/stations/${st.id}/tariff`, { token })).in_force.tariff;
    await withPage(t, async (page) => {
        await consoleLogin(page);
        const day = await quoteOnPage(page, `station:${st.id}`, { mode: 'power', at: '09:00', minutes: '18', kwh: '0.06', watts: '180' });
        const quote = await api('/api/v1/admin/tariff-quote', {
            token, method: 'POST',
            body: { tariff, mode: 'power', samples: [
                { t: `${day}T09:00:00+08:00`, energy_wh: 0, power_w: 180 },
                { t: `${day}T09:18:00+08:00`, energy_wh: 60, power_w: 180 },
            ] },
        });
        assert.equal(quote.cost_fen, 9);
        assert.equal(await page.locator('#quote-result [data-stat=cost_fen] .stat-value').innerText(), yuanZh(9));
        assert.equal(await page.locator('#quote-result [data-stat=charged_s] .stat-value').innerText(), '18');
        assert.equal(await page.locator('#quote-result tbody tr').first().locator('td').nth(1).innerText(), quote.lines[0].text);
    });
});

test('tariffs: a change saved without a time is scheduled for the next local midnight; the version in force stays until then', async (t) => {
    const token = await adminToken();
    const st = await api('/api/v1/admin/stations', { token, method: 'POST', body: { name: `Scheduled station ${Date.now()}`, lat: 22.56, lon: 114.07 } });
    const first = { name: 'First', timezone: 'Asia/Shanghai', modes: ['time'], time: { fen_per_hour: 100, options_minutes: [60, 120] } };
    await api(`/api/v1/admin/stations/${st.id}/tariff`, { token, method: 'PUT', body: { tariff: first } });
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/stations/${st.id}`);
        await page.locator('#station-tariff dd').getByText('First').waitFor();
        await page.getByRole('link', { name: '编辑计费' }).click();
        await page.locator('#tariff-form').waitFor();
        await page.locator('#tariff-name').fill('Second');
        await page.locator('#tariff-time-price').fill('2');
        assert.equal(await page.locator('#tariff-eff').inputValue(), 'default');
        await page.locator('#tariff-form button[type=submit]').click();
        await page.locator('#tariff-versions tbody tr').nth(1).waitFor();
        const r = await api(`/api/v1/admin/stations/${st.id}/tariff`, { token });
        assert.equal(r.in_force.tariff.name, 'First');
        const next = r.versions.find((v) => v.tariff.name === 'Second');
        assert.equal(next.tariff.time.fen_per_hour, 200);
        assert.match(next.effective_from, /T00:00:00(\.000)?\+08:00$/, 'at a local midnight');
        assert.ok(Date.parse(next.effective_from) > Date.now());
        const row = page.locator('#tariff-versions tbody tr', { hasText: 'Second' });
        await row.getByText('待生效').waitFor();
        assert.equal(await page.locator('#tariff-versions tbody tr', { hasText: 'First' }).locator('.badge').innerText(), '生效中');
        assert.equal(await page.locator('#tariff-in-force dd').first().innerText(), 'First');
        // The editor starts from the latest saved version (the scheduled one).
        assert.equal(await page.locator('#tariff-name').inputValue(), 'Second');
    });
});

test('tariffs: an unsaved draft is quoted by the calculator from the editor, and nothing is saved', async (t) => {
    const token = await adminToken();
    const st = await demoStation(token);
    const before = await api(`/api/v1/admin/stations/${st.id}/tariff`, { token });
    const orig = before.in_force.tariff;
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/tariffs?station=${st.id}`);
        await page.locator('#tariff-form').waitFor();
        await page.getByLabel('谷电费 元/kWh').fill('0.5');
        await page.locator('#tariff-quote').click();
        await page.locator('#calc-form').waitFor();
        assert.equal(await page.locator('#calc-source').inputValue(), 'draft:');
        assert.equal(orig.energy.slots[6], 'valley');
        const day = await quoteOnPage(page, 'draft:', { mode: 'energy', at: '03:00', minutes: '60', kwh: '1', watts: '200' });
        const { effective_from, ...draft } = orig;
        draft.energy = { ...orig.energy, periods: { ...orig.energy.periods, valley: { ...orig.energy.periods.valley, elec_e4: 5000 } } };
        const quote = await api('/api/v1/admin/tariff-quote', {
            token, method: 'POST',
            body: { tariff: draft, mode: 'energy', samples: [
                { t: `${day}T03:00:00+08:00`, energy_wh: 0, power_w: 200 },
                { t: `${day}T04:00:00+08:00`, energy_wh: 1000, power_w: 200 },
            ] },
        });
        assert.equal(quote.cost_fen, Math.floor((5000 + orig.energy.periods.valley.service_e4) / 100));
        assert.equal(await page.locator('#quote-result [data-stat=cost_fen] .stat-value').innerText(), yuanZh(quote.cost_fen));
        const after = await api(`/api/v1/admin/stations/${st.id}/tariff`, { token });
        assert.equal(after.versions.length, before.versions.length, 'nothing saved');
    });
});

test("stations: a station's fields edited on its page, then disabled, are what the API says", async (t) => {
    const token = await adminToken();
    const st = await api('/api/v1/admin/stations', { token, method: 'POST', body: { name: `Edit station ${Date.now()}`, lat: 22.57, lon: 114.08, address: 'Old Road' } });
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/stations/${st.id}`);
        await page.locator('#station-fields').waitFor();
        await page.locator('#station-edit').click();
        assert.equal(await page.locator('#station-form-address').inputValue(), 'Old Road');
        await page.locator('#station-form-address').fill('New Road 9');
        await page.locator('#station-form-open_hours').fill('22:00-06:00');
        await page.locator('#station-form-lat').fill('22.58');
        await page.locator('#station-form button[type=submit]').click();
        await page.locator('#station-fields [data-k=address]').getByText('New Road 9').waitFor();
        let s = await api(`/api/v1/admin/stations/${st.id}`, { token });
        assert.deepEqual([s.address, s.open_hours, s.lat, s.lon], ['New Road 9', '22:00-06:00', 22.58, 114.08]);
        assert.equal(await page.locator('#station-fields [data-k=open_hours]').innerText(), s.open_hours);
        await page.locator('.page-actions').getByRole('button', { name: '停用' }).click();
        await page.locator('.page-actions').getByRole('button', { name: '启用' }).waitFor();
        s = await api(`/api/v1/admin/stations/${st.id}`, { token });
        assert.equal(s.enabled, false);
    });
});

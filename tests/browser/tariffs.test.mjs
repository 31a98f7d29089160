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
            await page.goto(`${URL_BASE}/console/#/tariff-calculator`);
            await page.locator('#calc-source').selectOption(`station:${st.id}`);
            await page.locator('#calc-mode option[value=energy]').waitFor({ state: 'attached' });
            await page.locator('#calc-mode').selectOption('energy');
            const day = (await page.locator('#calc-start').inputValue()).slice(0, 10);
            await page.locator('#calc-start').fill(`${day}T10:00`);
            await page.locator('#calc-duration').fill('60');
            await page.locator('#calc-energy').fill('1');
            await page.locator('#calc-power').fill('200');
            await page.locator('#calc-form button[type=submit]').click();
            await page.locator('#quote-result').waitFor();
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

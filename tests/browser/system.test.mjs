// The console's System health page (web-api/www/console/pages/system.js) against GET /api/v1/health:
// the overall verdict, each check's verdict and its figures (free space and its bar, the write
// probe's time, the broker connection) read off the page equal what the API answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { URL_BASE, api, consoleLogin, shot, withPage } from './harness.mjs';

const stat = (page, id) => page.locator(`[data-stat="${id}"] .stat-value`);

test('system: the health page shows the API health checks with the same verdicts and figures', (t) =>
    withPage(t, {}, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/system`);
        await stat(page, 'health-status').locator('[data-ok]').waitFor();
        const h = await api('/api/v1/health', { expectStatus: [503] });
        const body = h.checks ? h : h.body; // 200: the body; 503: {status, body}
        assert.equal(await stat(page, 'health-status').locator('[data-ok]').getAttribute('data-ok'), String(body.ok));
        assert.equal(await stat(page, 'health-http').textContent(), body.ok ? '200' : '503');
        assert.equal(await stat(page, 'health-version').textContent(), body.version);
        for (const [id, check] of [['check-database', 'database_write'], ['check-disk', 'disk'], ['check-broker', 'broker']])
            assert.equal(await stat(page, `${id}-ok`).locator('[data-ok]').getAttribute('data-ok'), String(body.checks[check].ok), id);
        assert.equal(Number(await stat(page, 'disk-min-free-mb').textContent()), body.checks.disk.min_free_mb);
        // Free space moves a little between the page's request and ours (logs, the databases).
        const freePage = Number(await stat(page, 'disk-free-mb').textContent());
        assert.ok(Math.abs(freePage - body.checks.disk.free_mb) <= 64, `page ${freePage} MiB, API ${body.checks.disk.free_mb} MiB`);
        assert.ok(Number(await stat(page, 'db-write-ms').textContent()) >= 0);
        assert.equal(await stat(page, 'broker-connected').textContent(), body.checks.broker.connected ? '是' : '否');
        assert.equal(await page.locator('#check-disk-error').count(), body.checks.disk.ok ? 0 : 1);
        await shot(page, 'console-system');
    }));

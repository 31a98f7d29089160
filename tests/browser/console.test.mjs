// The console's frame: sign-in (wrong password refused in words, throttled after repeated
// failures), the dashboard's figures as the API computes them, the language switch, sign-out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { URL_BASE, adminToken, api, consoleLogin, riderToken, shot, withPage } from './harness.mjs';
import { yuanZh } from './money.mjs';

test('console: a wrong password is refused in words and the form stays; the right one opens the dashboard', async (t) => {
    await withPage(t, { expectStatus: [{ status: 401, url: '/api/v1/admin/login' }] }, async (page) => {
        await page.goto(`${URL_BASE}/console/`);
        await shot(page, 'console-login');
        await page.getByLabel('用户名').fill('admin');
        await page.getByLabel('密码').fill('not-the-password');
        await page.locator('#login-submit').click();
        await page.locator('#login-error').getByText('用户名或密码错误').waitFor();
        await consoleLogin(page);
        await page.locator('h1', { hasText: '数据概览' }).waitFor();
        assert.match(await page.locator('#who').innerText(), /admin/);
    });
});

test('console: after repeated failures the login is throttled and the form says when to try again', async (t) => {
    const user = `throttle-${Date.now()}`;
    await withPage(t, { expectStatus: [401, 429] }, async (page) => {
        await page.goto(`${URL_BASE}/console/`);
        await page.getByLabel('用户名').fill(user);
        for (let i = 0; i < 6; i++) {
            await page.getByLabel('密码').fill(`wrong-${i}`);
            await page.locator('#login-submit').click();
            await page.locator('#login-error').waitFor();
            if ((await page.locator('#login-error').innerText()).includes('秒后再试')) break;
            await page.locator('#login-submit').isEnabled();
        }
        assert.match(await page.locator('#login-error').innerText(), /失败次数过多，请 \d+ 秒后再试/);
    });
});

test("console: the dashboard's figures are the API's, for every station and for one", async (t) => {
    const token = await adminToken();
    // Money in today, so the figures compared are not all zero: a rider recharges ¥50 online (sandbox).
    const rider = await riderToken('13900009001');
    const pay = await api('/api/v1/wallet/recharge', { method: 'POST', token: rider, body: { amount_fen: 5000 } });
    await api(`/api/v1/pay/sandbox/${pay.payment.id}/confirm`, { method: 'POST', token: rider, body: {} });
    await withPage(t, async (page) => {
        await consoleLogin(page);
        const d = await api('/api/v1/admin/dashboard', { token });
        assert.ok(d.today.recharge_fen >= 5000 && d.today.new_accounts >= 1, 'the recharge counts today');
        await page.locator('#figures-today [data-stat=recharge_fen] .stat-value').waitFor();
        for (const [period, f] of [['today', d.today], ['total', d.total]]) {
            const card = page.locator(`#figures-${period}`);
            assert.equal(await card.locator('[data-stat=recharge_fen] .stat-value').innerText(), yuanZh(f.recharge_fen));
            assert.equal(await card.locator('[data-stat=charge_fen] .stat-value').innerText(), yuanZh(f.charge_fen));
            assert.equal(await card.locator('[data-stat=sessions] .stat-value').innerText(), String(f.sessions));
            assert.equal(await card.locator('[data-stat=new_accounts] .stat-value').innerText(), String(f.new_accounts));
        }
        assert.equal(await page.locator('canvas').count(), 3, 'three 7-day charts');
        // E-bikes and cars apart: four rows (kind x period), the sessions as the API counts them.
        const kindRows = page.locator('#by-kind tbody tr');
        assert.equal(await kindRows.count(), 4);
        assert.equal(await kindRows.nth(0).locator('td').nth(4).innerText(), String(d.by_kind.today.ebike.sessions));
        assert.equal(await kindRows.nth(3).locator('td').nth(4).innerText(), String(d.by_kind.total.ev.sessions));
        await shot(page, 'console-dashboard');
        // One station: the select filters, and the figures follow the API's for that station.
        const stations = await api('/api/v1/admin/stations', { token });
        const st = stations.stations[0];
        await page.getByLabel('站点').selectOption(String(st.id));
        const one = await api(`/api/v1/admin/dashboard?station_id=${st.id}`, { token });
        await page.waitForResponse((r) => r.url().includes(`dashboard?station_id=${st.id}`));
        assert.equal(
            await page.locator('#figures-total [data-stat=sessions] .stat-value').innerText(),
            String(one.total.sessions),
        );
    });
});

test('console: the language switch turns every string to English and back, and is remembered', async (t) => {
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.locator('h1', { hasText: '数据概览' }).waitFor();
        await page.getByLabel('语言').selectOption('en');
        await page.locator('h1', { hasText: 'Dashboard' }).waitFor();
        assert.equal(await page.locator('html').getAttribute('lang'), 'en');
        assert.equal(await page.locator('#logout').innerText(), 'Sign out');
        // No key shown raw: every string of the frame and the dashboard has its English.
        // (The language select itself names 中文 in Chinese, as every language names itself.)
        const text = (await page.locator('main').innerText()) + (await page.locator('nav.menu').innerText());
        assert.doesNotMatch(text, /\b(common|nav|dashboard|states|errors)\.[a-z_]+/);
        assert.doesNotMatch(text, /[\u4e00-\u9fff]/, 'no Chinese left on the English page');
        await shot(page, 'console-dashboard-en');
        await page.reload();
        await page.locator('h1', { hasText: 'Dashboard' }).waitFor();
        await page.getByLabel('Language').selectOption('zh-CN');
        await page.locator('h1', { hasText: '数据概览' }).waitFor();
    });
});

test('console: signing out drops the token; the API refuses it afterwards', async (t) => {
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.locator('#who').waitFor();
        const token = await page.evaluate(() => localStorage.getItem('pilehub.console.token'));
        assert.ok(token);
        await page.locator('#logout').click();
        await page.locator('#login-submit').waitFor();
        assert.equal(await page.evaluate(() => localStorage.getItem('pilehub.console.token')), null);
        const r = await api('/api/v1/admin/me', { token, expectStatus: [401] });
        assert.equal(r.status, 401);
    });
});

// Every page of the menu, in turn: each form control has a label (a <label for>, a wrapping label or
// an aria-label), each button and link has a name, and no key is shown raw.
test('console: on every page of the menu each input has a label and each button a name', async (t) => {
    const { NAV } = await import('../../web-api/www/console/nav.js');
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.locator('#who').waitFor();
        for (const item of NAV) {
            await page.goto(`${URL_BASE}/console/#${item.path}`);
            await page.locator('main h1').first().waitFor();
            await page.locator('main').getByText('加载中', { exact: false }).first()
                .waitFor({ state: 'detached', timeout: 5000 }).catch(() => {});
            const unnamed = await page.locator('main').evaluate((main) => {
                const out = [];
                for (const el of main.querySelectorAll('input, select, textarea')) {
                    if (el.type === 'hidden') continue;
                    const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
                    if (!named) out.push(`${el.tagName.toLowerCase()}#${el.id || '?'}`);
                }
                for (const el of main.querySelectorAll('button, a[href]')) {
                    if (!(el.innerText || '').trim() && !el.getAttribute('aria-label') && !el.getAttribute('title')) out.push(`${el.tagName.toLowerCase()} without a name`);
                }
                return out;
            });
            assert.deepEqual(unnamed, [], `${item.path}: controls without a label or name`);
            assert.doesNotMatch(await page.locator('main').innerText(), /\b(common|nav|states|errors)\.[a-z_]+\b/, `${item.path}: a key shown raw`);
        }
    });
});

test('console: the menu works with the keyboard: Tab reaches a menu entry and Enter opens its page', async (t) => {
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.locator('h1', { hasText: '数据概览' }).waitFor();
        let reached = false;
        for (let i = 0; i < 20 && !reached; i++) {
            await page.keyboard.press('Tab');
            reached = await page.evaluate(() => document.activeElement?.getAttribute('href') === '#/sessions');
        }
        assert.ok(reached, 'Tab reaches the orders entry of the menu');
        await page.keyboard.press('Enter');
        await page.locator('h1', { hasText: '充电订单' }).waitFor();
    });
});

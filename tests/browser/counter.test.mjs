// The counter desk and the money pages (seed 002): opening an account, recharging it (amount
// buttons, the free amount, packages), freezing, cards, the balance refund, payments, refunds,
// packages and the ledger, each compared with what the API says.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { URL_BASE, adminToken, api, consoleLogin, guard, riderToken, shot, waitUntil, withPage } from './harness.mjs';
import { yuanZh } from './money.mjs';

// Phones of this file: 1395xxxxxxx, distinct per test and per run.
let seq = 0;
const newPhone = () => `1395${String((Date.now() + seq++ * 7919) % 1e7).padStart(7, '0')}`;
const uniq = () => `${Date.now().toString(36)}${seq++}`.toUpperCase();

async function openAccountByApi(name = '柜台测试') {
    const token = await adminToken();
    return api('/api/v1/admin/users', { method: 'POST', token, body: { phone: newPhone(), name, station_id: 1 } });
}

async function openDesk(page, id) {
    await page.goto(`${URL_BASE}/console/#/users/${id}`);
    await page.locator('#wallet [data-stat=balance_fen] .stat-value').waitFor();
}

const stat = (page, key) => page.locator(`#wallet [data-stat=${key}] .stat-value`).innerText();

// Clicks the amount button of `yuan` and submits the recharge; waits until the balance shows `expectFen`.
async function rechargePreset(page, yuan, expectFen) {
    await page.locator(`.amount-buttons [data-yuan="${yuan}"]`).click();
    await page.locator('#recharge-form button[type=submit]').click();
    await waitUntil(async () => (await stat(page, 'balance_fen')) === yuanZh(expectFen), { timeout: 15000, what: `balance ${expectFen}` });
}

// Clicks a button that asks first, then the dialog's confirm.
async function confirmClick(page, button) {
    await button.click();
    await page.locator('dialog[open] .confirm-yes').click();
    await page.locator('dialog[open]').waitFor({ state: 'detached' });
}

// The statement's rows as the page shows them, next to the API's entries (newest first both).
async function assertStatementIsApi(page, id) {
    const token = await adminToken();
    const { entries } = await api(`/api/v1/admin/users/${id}/ledger`, { token });
    const rows = page.locator('#statement tbody tr');
    await waitUntil(async () => (await rows.count()) === entries.length, { timeout: 15000, what: `${entries.length} statement rows` });
    for (let i = 0; i < entries.length; i++) {
        const e = entries[i];
        const row = rows.nth(i);
        assert.equal(await row.locator('td.col-real').innerText(), e.real_fen ? yuanZh(e.real_fen) : '', `row ${i} real`);
        assert.equal(await row.locator('td.col-bonus').innerText(), e.bonus_fen ? yuanZh(e.bonus_fen) : '', `row ${i} bonus`);
    }
    return entries;
}

test('counter: the counter desk opens an account, recharges it with a package and the statement shows the real and bonus lines', async (t) => {
    const token = await adminToken();
    const pkg = await api('/api/v1/admin/packages', { method: 'POST', token, body: { name: `充50送5-${uniq()}`, pay_fen: 5000, bonus_fen: 500 } });
    const phone = newPhone();
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/users`);
        await page.locator('#open-account').click();
        await page.locator('#open-phone').fill(phone);
        await page.locator('#open-name').fill('王小二');
        await page.locator('#open-station').selectOption({ label: 'Demo Garden Station' });
        await page.locator('#open-account-form button[type=submit]').click();
        await page.locator('h1', { hasText: phone }).waitFor();
        const id = Number(/#\/users\/(\d+)/.exec(page.url())[1]);
        const user = await api(`/api/v1/admin/users/${id}`, { token });
        assert.equal(user.phone, phone);
        assert.equal(user.name, '王小二');
        assert.equal(user.home_station_id, 1);

        // The package: its price as real money, its bonus as bonus money, in one statement line.
        await page.locator(`#package-buttons [data-package="${pkg.id}"]`).click();
        await waitUntil(async () => (await stat(page, 'bonus_fen')) === yuanZh(500), { timeout: 15000, what: 'bonus shown' });
        assert.equal(await stat(page, 'balance_fen'), yuanZh(5000));
        // Then 20 yuan by the amount button: real money only.
        await rechargePreset(page, 20, 7000);
        const entries = await assertStatementIsApi(page, id);
        assert.deepEqual(
            entries.map((e) => [e.kind, e.real_fen, e.bonus_fen]),
            [['recharge', 2000, 0], ['recharge', 5000, 500]],
        );
        const after = await api(`/api/v1/admin/users/${id}`, { token });
        assert.equal(await stat(page, 'balance_fen'), yuanZh(after.wallet.balance_fen));
        assert.equal(await stat(page, 'bonus_fen'), yuanZh(after.wallet.bonus_fen));
        assert.equal(after.wallet.balance_fen, 7000);
        assert.equal(after.wallet.bonus_fen, 500);
        await shot(page, 'console-counter');

        // The riders' list finds the account by its phone, with its balances.
        await page.goto(`${URL_BASE}/console/#/users`);
        await page.locator('#users-q').fill(phone);
        await Promise.all([
            page.waitForResponse((r) => r.url().includes(`q=${phone}`)),
            page.locator('form.filters button[type=submit]').click(),
        ]);
        const row = page.locator(`tr[data-row="${id}"]`);
        await row.waitFor();
        assert.equal(await page.locator('tbody tr').count(), 1);
        assert.match(await row.innerText(), new RegExp(yuanZh(7000).replace(/[.$¥]/g, '\\$&')));
        await page.locator('#users-q').fill('');
        await Promise.all([
            page.waitForResponse((r) => r.url().includes('/api/v1/admin/users?') && !r.url().includes('q=')),
            page.locator('form.filters button[type=submit]').click(),
        ]);
        const all = await api('/api/v1/admin/users?limit=20', { token });
        await waitUntil(async () => (await page.locator('tbody tr[data-row]').count()) === all.users.length, { timeout: 15000, what: 'all riders listed' });
        await shot(page, 'console-users');
    });
});

test('counter: a recharge with a bad amount in the free field is refused on the page and nothing is sent; one above the role limit is refused by the API', async (t) => {
    const user = await openAccountByApi();
    await withPage(t, { expectStatus: [{ status: 403, url: '/recharge' }] }, async (page) => {
        const sent = [];
        page.on('request', (r) => r.url().includes('/recharge') && sent.push(r.url()));
        await consoleLogin(page);
        await openDesk(page, user.id);
        for (const bad of ['12.345', 'abc', '0', '-5']) {
            await page.locator('#recharge-amount').fill(bad);
            await page.locator('#recharge-form button[type=submit]').click();
            await page.locator('#recharge-form .error-box').getByText('请输入大于 0 的金额').waitFor();
        }
        assert.deepEqual(sent, [], 'no recharge request for a bad amount');
        // Above the admin role's counter recharge limit (2000 yuan): the API's refusal in words.
        await page.locator('#recharge-amount').fill('2000.01');
        await page.locator('#recharge-form button[type=submit]').click();
        await page.locator('.notice-error', { hasText: '超出权限额度' }).waitFor();
        assert.equal(sent.length, 1);
        const { entries } = await api(`/api/v1/admin/users/${user.id}/ledger`, { token: await adminToken() });
        assert.equal(entries.length, 0, 'nothing credited');
        assert.equal(await stat(page, 'balance_fen'), yuanZh(0));
    });
});

test('counter: a frozen account gets no recharge; unfrozen it gets one again', async (t) => {
    const token = await adminToken();
    const user = await openAccountByApi();
    await withPage(t, { expectStatus: [{ status: 403, url: '/recharge' }] }, async (page) => {
        await consoleLogin(page);
        await openDesk(page, user.id);
        await confirmClick(page, page.locator('#freeze'));
        await page.locator('#account-state', { hasText: '冻结' }).waitFor();
        assert.equal((await api(`/api/v1/admin/users/${user.id}`, { token })).frozen, true);
        await page.locator('#recharge-frozen').waitFor();
        await page.locator('.amount-buttons [data-yuan="10"]').click();
        await page.locator('#recharge-form button[type=submit]').click();
        await page.locator('.notice-error', { hasText: '账户已冻结' }).waitFor();
        assert.equal((await api(`/api/v1/admin/users/${user.id}`, { token })).wallet.balance_fen, 0);

        // The riders' list: the frozen filter shows the API's frozen accounts, this one among them.
        await page.goto(`${URL_BASE}/console/#/users`);
        await page.locator('#users-frozen').selectOption('true');
        await Promise.all([
            page.waitForResponse((r) => r.url().includes('/api/v1/admin/users?') && r.url().includes('frozen=true')),
            page.locator('form.filters button[type=submit]').click(),
        ]);
        const frozen = (await api('/api/v1/admin/users?frozen=true&limit=20', { token })).users;
        await page.locator(`tr[data-row="${user.id}"]`).getByText('冻结').waitFor();
        await waitUntil(async () => (await page.locator('tbody tr[data-row]').count()) === frozen.length, { timeout: 15000, what: 'only frozen accounts' });

        await openDesk(page, user.id);
        await confirmClick(page, page.locator('#unfreeze'));
        await page.locator('#account-state', { hasText: '正常' }).waitFor();
        assert.equal((await api(`/api/v1/admin/users/${user.id}`, { token })).frozen, false);
        await rechargePreset(page, 10, 1000);
        assert.equal((await api(`/api/v1/admin/users/${user.id}`, { token })).wallet.balance_fen, 1000);
    });
});

test('counter: a card issued at the desk is bound with its fee debited; reported lost it starts nothing and the cards list shows it lost', async (t) => {
    const token = await adminToken();
    const user = await openAccountByApi();
    const cardNo = `CT${uniq()}`;
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await openDesk(page, user.id);
        await rechargePreset(page, 10, 1000);
        const form = page.locator('form.issue-card');
        await form.getByLabel('IC 卡编号').fill(cardNo);
        await form.getByLabel('工本费(元)').fill('1.5');
        await form.locator('button[type=submit]').click();
        const row = page.locator(`#account-cards tr[data-row="${cardNo}"]`);
        await row.getByText('正常').waitFor();
        await waitUntil(async () => (await stat(page, 'balance_fen')) === yuanZh(850), { timeout: 15000, what: 'fee debited' });
        let cards = (await api(`/api/v1/admin/cards?account_id=${user.id}`, { token })).cards;
        assert.deepEqual(cards.map((c) => [c.card_no, c.status, c.fee_fen]), [[cardNo, 'active', 150]]);
        const entries = await assertStatementIsApi(page, user.id);
        assert.deepEqual([entries[0].kind, entries[0].real_fen], ['card_fee', -150]);

        await confirmClick(page, row.locator('button.report-lost'));
        await row.getByText('已挂失').waitFor();
        cards = (await api(`/api/v1/admin/cards?account_id=${user.id}`, { token })).cards;
        assert.equal(cards[0].status, 'lost');

        await page.goto(`${URL_BASE}/console/#/cards`);
        await page.locator('#cards-status').selectOption('lost');
        await page.locator('#cards-account').fill(String(user.id));
        await Promise.all([
            page.waitForResponse((r) => r.url().includes('/admin/cards?') && r.url().includes('status=lost')),
            page.locator('form.filters button[type=submit]').click(),
        ]);
        await page.locator(`tr[data-row="${cardNo}"]`).getByText('已挂失').waitFor();
        await waitUntil(async () => (await page.locator('tbody tr').count()) === 1, { timeout: 15000, what: 'only the lost card' });
    });
});

test('counter: a balance refund takes the money out of the wallet and shows on the refunds page with its parts; more than is refundable is refused', async (t) => {
    const token = await adminToken();
    const user = await openAccountByApi();
    await withPage(t, { expectStatus: [{ status: 409, url: '/refund' }] }, async (page) => {
        await consoleLogin(page);
        await openDesk(page, user.id);
        await rechargePreset(page, 50, 5000);
        // More than was paid in and not spent: the API refuses it, the page says so, nothing moves.
        await page.locator('#refund-amount').fill('50.01');
        await page.locator('#refund-reason').fill('用户销户');
        await confirmClick(page, page.locator('#refund-submit'));
        await page.locator('.notice-error', { hasText: '状态已变化' }).waitFor();
        assert.equal((await api(`/api/v1/admin/users/${user.id}`, { token })).wallet.balance_fen, 5000);
        await page.locator('#refund-amount').fill('20');
        await confirmClick(page, page.locator('#refund-submit'));
        await waitUntil(async () => (await stat(page, 'balance_fen')) === yuanZh(3000), { timeout: 15000, what: 'balance after refund' });
        const after = await api(`/api/v1/admin/users/${user.id}`, { token });
        assert.equal(after.wallet.balance_fen, 3000);
        assert.equal(await stat(page, 'refundable_fen'), yuanZh(after.refundable_fen));
        const { refunds } = await api(`/api/v1/admin/refunds?account_id=${user.id}`, { token });
        assert.equal(refunds.length, 1);
        assert.equal(refunds[0].amount_fen, 2000);

        await page.goto(`${URL_BASE}/console/#/refunds`);
        const row = page.locator(`tr[data-row="${refunds[0].id}"]`);
        await row.waitFor();
        assert.match(await row.innerText(), /用户销户/);
        await row.getByRole('link', { name: refunds[0].id }).click();
        await page.locator('#refund-amount').getByText(yuanZh(2000)).waitFor();
        const parts = page.locator('#refund-parts tbody tr');
        assert.equal(await parts.count(), refunds[0].parts.length);
        assert.match(await parts.first().innerText(), /柜台现金/);
    });
});

test('counter: the payments page lists the riders\' orders by state and channel; the query button asks the provider about a pending one', async (t) => {
    const token = await adminToken();
    const rider = await riderToken(newPhone());
    const me = await api('/api/v1/me', { token: rider });
    const accountId = me.id ?? me.user?.id;
    const pending = await api('/api/v1/wallet/recharge', { method: 'POST', token: rider, body: { amount_fen: 2000 } });
    const paid = await api('/api/v1/wallet/recharge', { method: 'POST', token: rider, body: { amount_fen: 3000 } });
    await api(`/api/v1/pay/sandbox/${paid.payment_id}/confirm`, { method: 'POST', token: rider, body: {} });
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/payments?account_id=${accountId}`);
        await page.locator(`tr[data-row="${pending.payment_id}"]`).waitFor();
        await page.locator(`tr[data-row="${paid.payment_id}"]`).waitFor();
        assert.equal(await page.locator('tbody tr').count(), 2);
        await shot(page, 'console-payments');
        await page.locator('#payments-state').selectOption('paid');
        await page.locator('#payments-channel').selectOption('sandbox');
        await page.locator('form.filters button[type=submit]').click();
        await page.locator(`tr[data-row="${pending.payment_id}"]`).waitFor({ state: 'detached' });
        const row = page.locator(`tr[data-row="${paid.payment_id}"]`);
        assert.match(await row.innerText(), /已支付/);
        assert.match(await row.innerText(), new RegExp(yuanZh(3000).replace(/[.$¥]/g, '\\$&')));
        const api_ = await api(`/api/v1/admin/payments?account_id=${accountId}&state=paid&channel=sandbox`, { token });
        assert.equal(await page.locator('tbody tr').count(), api_.payments.length);

        await page.goto(`${URL_BASE}/console/#/payments/${pending.payment_id}`);
        await page.locator('#payment-state', { hasText: '待支付' }).waitFor();
        await page.locator('#payment-query').click();
        await page.locator('#query-answer').waitFor();
        const detail = await api(`/api/v1/admin/payments/${pending.payment_id}`, { token });
        assert.ok(detail.payment.queried_at, 'the provider was asked');
        assert.match(await page.locator('#query-answer').innerText(), /not_paid|pending|查询结果/);
        await waitUntil(async () => (await page.locator('#payment-queried').innerText()) !== '—', { timeout: 15000, what: 'queried time shown' });
    });
});

test('counter: a recharge package created on the packages page is offered at the desk until it is disabled', async (t) => {
    const token = await adminToken();
    const name = `充100送15-${uniq()}`;
    const user = await openAccountByApi();
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/packages`);
        await page.locator('#new-package').click();
        const form = page.locator('dialog[open] form.package-form');
        await form.getByLabel('名称').fill(name);
        await form.getByLabel('支付金额(元)').fill('100');
        await form.getByLabel('赠送金额(元)').fill('15');
        await form.locator('button[type=submit]').click();
        const row = page.locator('#packages tr', { hasText: name });
        await row.waitFor();
        const pkg = (await api('/api/v1/admin/packages', { token })).packages.find((p) => p.name === name);
        assert.deepEqual([pkg.pay_fen, pkg.bonus_fen, pkg.enabled], [10000, 1500, true]);
        assert.match(await row.innerText(), /启用/);

        await openDesk(page, user.id);
        await page.locator(`#package-buttons [data-package="${pkg.id}"]`).waitFor();

        await page.goto(`${URL_BASE}/console/#/packages`);
        await row.locator('button.toggle').click();
        await row.locator('.badge', { hasText: '停用' }).waitFor();
        assert.equal((await api('/api/v1/admin/packages', { token })).packages.find((p) => p.id === pkg.id).enabled, false);
        await openDesk(page, user.id);
        await page.locator('#package-buttons').waitFor();
        assert.equal(await page.locator(`#package-buttons [data-package="${pkg.id}"]`).count(), 0);
    });
});

test('counter: the ledger page shows one account\'s entries with real and bonus money apart, filtered by kind', async (t) => {
    const token = await adminToken();
    const user = await openAccountByApi();
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await openDesk(page, user.id);
        await rechargePreset(page, 100, 10000);
        await page.locator('#refund-amount').fill('5');
        await page.locator('#refund-reason').fill('测试');
        await confirmClick(page, page.locator('#refund-submit'));
        await waitUntil(async () => (await stat(page, 'balance_fen')) === yuanZh(9500), { timeout: 15000, what: 'balance after refund' });

        await page.goto(`${URL_BASE}/console/#/ledger`);
        await page.locator('#ledger-account').fill(String(user.id));
        await page.locator('form.filters button[type=submit]').click();
        const { entries } = await api(`/api/v1/admin/ledger?account_id=${user.id}`, { token });
        await waitUntil(async () => (await page.locator('tbody tr').count()) === entries.length, { timeout: 15000, what: 'all entries' });
        for (let i = 0; i < entries.length; i++) {
            const r = page.locator('tbody tr').nth(i);
            assert.equal(await r.locator('td.col-real').innerText(), entries[i].real_fen ? yuanZh(entries[i].real_fen) : '');
        }
        await page.locator('#ledger-kind').selectOption('refund');
        await page.locator('form.filters button[type=submit]').click();
        const refunds = (await api(`/api/v1/admin/ledger?account_id=${user.id}&kind=refund`, { token })).entries;
        assert.equal(refunds.length, 1);
        await waitUntil(async () => (await page.locator('tbody tr').count()) === 1, { timeout: 15000, what: 'only the refund' });
        assert.equal(await page.locator('tbody tr td.col-real').innerText(), yuanZh(-500));
    });
});

test('counter: at the desk a card is replaced (the old one retired, the new one bound), an issued card is bound by its number and unbound', async (t) => {
    const token = await adminToken();
    const user = await openAccountByApi();
    const [oldNo, newNo, loose] = [`RA${uniq()}`, `RB${uniq()}`, `RC${uniq()}`];
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await openDesk(page, user.id);
        const issue = page.locator('form.issue-card');
        await issue.getByLabel('IC 卡编号').fill(oldNo);
        await issue.locator('button[type=submit]').click();
        const oldRow = page.locator(`#account-cards tr[data-row="${oldNo}"]`);
        await oldRow.getByText('正常').waitFor();

        await oldRow.locator('button.replace').click();
        const dlg = page.locator('dialog[open] form.replace-card');
        await dlg.getByLabel('新卡编号').fill(newNo);
        await dlg.locator('button[type=submit]').click();
        await oldRow.getByText('已换卡').waitFor();
        await page.locator(`#account-cards tr[data-row="${newNo}"]`).getByText('正常').waitFor();
        const cards = (await api(`/api/v1/admin/cards?account_id=${user.id}`, { token })).cards;
        const status = Object.fromEntries(cards.map((c) => [c.card_no, c.status]));
        assert.deepEqual(status, { [oldNo]: 'replaced', [newNo]: 'active' });
        await page.locator('#account-kv', { hasText: newNo }).waitFor();

        // A card issued to nobody (the cards page), then bound at the desk by its number.
        await page.goto(`${URL_BASE}/console/#/cards`);
        await page.locator('#issue-card').click();
        const f = page.locator('dialog[open] form.issue-card');
        await f.getByLabel('IC 卡编号').fill(loose);
        await f.locator('button[type=submit]').click();
        await page.locator(`tr[data-row="${loose}"]`).waitFor();
        const issued = (await api('/api/v1/admin/cards', { token })).cards.find((c) => c.card_no === loose);
        assert.deepEqual([issued.status, issued.account_id], ['active', null]);
        // One card per account: the new one first gives way.
        await openDesk(page, user.id);
        const newRow = page.locator(`#account-cards tr[data-row="${newNo}"]`);
        await confirmClick(page, newRow.locator('button.unbind'));
        await newRow.waitFor({ state: 'detached' });
        const bind = page.locator('form.bind-card');
        await bind.getByLabel('已发卡编号').fill(loose);
        await bind.locator('button[type=submit]').click();
        await page.locator(`#account-cards tr[data-row="${loose}"]`).getByText('正常').waitFor();
        const me = await api(`/api/v1/admin/users/${user.id}`, { token });
        assert.equal(me.card.card_no, loose);

        // The unbound card, bound again from the cards page to another account by its phone.
        const other = await openAccountByApi();
        await page.goto(`${URL_BASE}/console/#/cards`);
        const freeRow = page.locator(`tr[data-row="${newNo}"]`);
        await freeRow.getByText('未绑定').waitFor();
        await freeRow.locator('button.bind').click();
        const bp = page.locator('dialog[open] form.bind-phone');
        await bp.getByLabel('绑定手机号').fill(other.phone);
        await bp.locator('button[type=submit]').click();
        await freeRow.getByRole('link', { name: String(other.id) }).waitFor();
        assert.equal((await api(`/api/v1/admin/users/${other.id}`, { token })).card.card_no, newNo);
    });
});

test('counter: the desk and the money pages in English show no Chinese and no raw keys; the name is changed at the desk', async (t) => {
    const token = await adminToken();
    const user = await openAccountByApi('Li Si');
    await withPage(t, { locale: 'en' }, async (page) => {
        await consoleLogin(page);
        await page.getByLabel('语言').selectOption('en');
        await openDesk(page, user.id);
        await page.locator('h1', { hasText: 'Counter desk' }).waitFor();
        await page.locator('#rename').click();
        await page.locator('#rename-name').fill('Li Si Jr');
        await page.locator('#rename-form button[type=submit]').click();
        await page.locator('#account-name', { hasText: 'Li Si Jr' }).waitFor();
        assert.equal((await api(`/api/v1/admin/users/${user.id}`, { token })).name, 'Li Si Jr');
        for (const [route, h1] of [[`/users/${user.id}`, 'Counter desk'], ['/users', 'Riders'], ['/cards', 'IC cards'], ['/packages', 'Recharge packages'], ['/payments', 'Payments'], ['/refunds', 'Balance refunds'], ['/ledger', 'Ledger']]) {
            await page.goto(`${URL_BASE}/console/#${route}`);
            await page.locator('h1', { hasText: h1 }).waitFor();
            await page.locator('.table-wrap tbody tr').first().waitFor();
            await waitUntil(async () => !(await page.locator('main').innerText()).includes('Loading'), { timeout: 15000, what: `${route} loaded` });
            const text = (await page.locator('main').innerText()) + (await page.locator('nav.menu').innerText());
            assert.doesNotMatch(text, /\b(common|nav|counter|states|errors)\.[a-z_]+/, route);
            // Riders' own names and package names may be Chinese; the page's words may not.
            const words = text.replace(/王小二|柜台测试|用户销户|测试|充\d+送\d+-[A-Z0-9]+/g, '');
            assert.doesNotMatch(words, /[\u4e00-\u9fff]/, `no Chinese on ${route}`);
        }
    });
});

test('counter: the desk statement is filtered by kind and dates and exported as CSV with the account\'s lines', async (t) => {
    const user = await openAccountByApi();
    // The station's calendar day (the browser and the station are both Asia/Shanghai).
    const day = (d) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(d);
    const today = day(new Date());
    const tomorrow = day(new Date(Date.now() + 86400000));
    await withPage(t, { acceptDownloads: true }, async (page) => {
        await consoleLogin(page);
        await openDesk(page, user.id);
        await rechargePreset(page, 50, 5000);
        await page.locator('#refund-amount').fill('12.5');
        await page.locator('#refund-reason').fill('测试');
        await confirmClick(page, page.locator('#refund-submit'));
        await waitUntil(async () => (await stat(page, 'balance_fen')) === yuanZh(3750), { timeout: 15000, what: 'balance after refund' });
        const rows = page.locator('#statement tbody tr');
        await waitUntil(async () => (await rows.count()) === 2, { timeout: 15000, what: 'two lines' });

        await page.locator('#statement-kind').selectOption('refund');
        await page.locator('#statement-filters button[type=submit]').click();
        await waitUntil(async () => (await rows.count()) === 1, { timeout: 15000, what: 'the refund line only' });
        assert.equal(await rows.first().locator('td.col-real').innerText(), yuanZh(-1250));

        await page.locator('#statement-kind').selectOption('');
        await page.locator('#statement-from').fill(tomorrow);
        await page.locator('#statement-filters button[type=submit]').click();
        await page.locator('#statement tbody td.empty').waitFor();
        await page.locator('#statement-from').fill(today);
        await page.locator('#statement-to').fill(today);
        await page.locator('#statement-filters button[type=submit]').click();
        await waitUntil(async () => (await rows.count()) === 2, { timeout: 15000, what: 'today\'s two lines (the end day included)' });

        const [download] = await Promise.all([
            page.waitForEvent('download'),
            page.locator('.statement .exports button', { hasText: 'CSV' }).click(),
        ]);
        assert.equal(download.suggestedFilename(), `ledger-${user.id}.csv`);
        const csv = readFileSync(await download.path(), 'utf8');
        const lines = csv.trim().split(/\r?\n/);
        assert.equal(lines.length, 3, `a header and two lines:\n${csv}`);
        assert.match(csv, /-1250|-12\.50/);
    });
});

test('counter: a recharge whose answer was lost is retried with the same Idempotency-Key and credits once', async (t) => {
    const token = await adminToken();
    const user = await openAccountByApi();
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await openDesk(page, user.id);
        const keys = [];
        let lose = true;
        await page.route('**/api/v1/admin/users/*/recharge', async (route) => {
            keys.push(route.request().headers()['idempotency-key']);
            const res = await route.fetch(); // the API credits the wallet ...
            if (lose) {
                lose = false;
                await route.abort('connectionreset'); // ... but the answer never reaches the page
            } else {
                await route.fulfill({ response: res });
            }
        });
        await page.locator('#recharge-amount').fill('30');
        await page.locator('#recharge-form button[type=submit]').click();
        await page.locator('.notice-error').first().waitFor();
        assert.equal((await api(`/api/v1/admin/users/${user.id}`, { token })).wallet.balance_fen, 3000, 'credited by the first try');
        // The operator sees an error and presses the button again: the same operation, the same key.
        await page.locator('#recharge-form button[type=submit]').click();
        await waitUntil(async () => (await stat(page, 'balance_fen')) === yuanZh(3000), { timeout: 15000, what: 'balance shown' });
        assert.equal(keys.length, 2);
        assert.ok(keys[0] && keys[0] === keys[1], 'the retry carries the same key');
        const { entries } = await api(`/api/v1/admin/users/${user.id}/ledger`, { token });
        assert.equal(entries.length, 1, 'credited once');
        // A new amount is a new operation: a new key.
        await page.locator('#recharge-amount').fill('10');
        await page.locator('#recharge-form button[type=submit]').click();
        await waitUntil(async () => (await stat(page, 'balance_fen')) === yuanZh(4000), { timeout: 15000, what: 'second recharge' });
        assert.notEqual(keys[2], keys[0]);
        // The lost answer was provoked on purpose.
        const g = guard(page);
        assert.ok(g.all().some((x) => /recharge/.test(x)), 'the lost answer was recorded');
        g.clear();
    });
});

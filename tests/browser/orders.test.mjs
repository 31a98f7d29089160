// Orders, monitoring, staff and customer service pages of the console, against the API: a rider's
// session in the list and its detail (curve, bill lines, force stop, order refund), a staff
// account created in the page with a one-station scope, a rider's fault report handled in the
// page, and the audit log of those changes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { URL_BASE, adminToken, api, consoleLogin, riderToken, shot, waitUntil, withPage } from './harness.mjs';

// ¥1,234.56 as the page writes it in zh-CN: Intl.NumberFormat of the exact yuan text (amounts of
// tests are far below 2^53 fen, so integer arithmetic on numbers is exact).
const zhMoney = new Intl.NumberFormat('zh-CN', { style: 'currency', currency: 'CNY', currencyDisplay: 'narrowSymbol', minimumFractionDigits: 2 });
const yuanZh = (fen) => zhMoney.format(`${fen < 0 ? '-' : ''}${Math.trunc(Math.abs(fen) / 100)}.${String(Math.abs(fen) % 100).padStart(2, '0')}`);

// A phone of this file's own prefix, unique per call (the stack may be reused).
let seq = 0;
const phone = () => `1390015${String((Date.now() + seq++) % 10000).padStart(4, '0')}`;
const suffix = () => Date.now().toString(36);

// A rider with 50 yuan in the wallet (dev payment sandbox).
async function richRider() {
    const p = phone();
    const token = await riderToken(p);
    const pay = await api('/api/v1/wallet/recharge', { method: 'POST', token, body: { amount_fen: 5000, channel: 'sandbox' } });
    await api(`/api/v1/pay/sandbox/${pay.payment_id}/confirm`, { method: 'POST', token });
    return { phone: p, token };
}

// A device of the demo station billed by a tariff without free minutes and at 360 yuan an hour
// (a scheme of the library assigned to that device only), so a session of a few seconds costs money.
async function pricedDevice(deviceId) {
    const admin = await adminToken();
    const station = await api('/api/v1/admin/stations/1/tariff', { token: admin });
    const tariff = { ...station.in_force.tariff, name: 'orders test', free_minutes: 0 };
    delete tariff.effective_from;
    tariff.time = { ...tariff.time, fen_per_hour: 36000 };
    const scheme = await api('/api/v1/admin/tariff-schemes', {
        method: 'POST', token: admin, body: { name: `orders-${suffix()}`, tariff },
    });
    await api(`/api/v1/admin/tariff-schemes/${scheme.id}/assign`, { method: 'POST', token: admin, body: { device_ids: [deviceId] } });
}

async function freeSocket(token, device) {
    const st = await api('/api/v1/stations/1', { token });
    const s = st.sockets.find((x) => x.code.startsWith(`${device}-`) && x.state === 'free');
    assert.ok(s, `a free socket on ${device}`);
    return { code: s.code, prepaid: st.prepaid_amounts_fen?.[0] ?? 1000 };
}

test('orders: a session a rider starts shows in the list as charging, its detail draws the curve, and once force-stopped the bill lines are the API\'s and a part of it is refunded', async (t) => {
    const admin = await adminToken();
    await pricedDevice('demo-e00019');
    const rider = await richRider();
    const sock = await freeSocket(rider.token, 'demo-e00019');
    const started = await api('/api/v1/sessions', {
        method: 'POST', token: rider.token, body: { socket: sock.code, mode: 'time', minutes: 60, max_fen: sock.prepaid },
    });
    const id = started.session.id;
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/sessions`);
        // Filter by the rider's phone: the page looks the account up and lists its one session.
        await page.getByLabel('用户 (手机号或账户 ID)').fill(rider.phone);
        await page.getByRole('button', { name: '查询' }).click();
        const row = page.locator(`tr[data-row="${id}"]`);
        // The phone is looked up first, then the list reloads with only the rider's session.
        await waitUntil(async () => (await page.locator('tbody tr').count()) === 1 && (await row.count()) === 1,
            { timeout: 10000, what: 'only the rider\'s session listed' });
        // The list refreshes itself: the starting session turns to charging without a reload.
        await row.getByText('充电中').waitFor({ timeout: 15000 });
        assert.match(await row.innerText(), new RegExp(sock.code));
        assert.match(await row.innerText(), new RegExp(rider.phone));
        // An e-bike session is not among the car orders.
        await page.getByLabel('类型').selectOption('ev');
        await page.getByRole('button', { name: '查询' }).click();
        await page.locator('td.empty').waitFor();
        await page.getByLabel('类型').selectOption('');
        await page.getByRole('button', { name: '查询' }).click();
        await row.waitFor();
        await shot(page, 'console-sessions');

        await row.getByRole('link', { name: id }).click();
        await page.locator('#session-facts').waitFor();
        assert.equal(await page.locator('[data-fact=socket]').innerText(), sock.code);
        assert.equal(await page.locator('[data-fact=mode]').innerText(), '按时长');
        // The curve: a line chart once the pile reported power.
        await waitUntil(async () => (await page.locator('.curve-card canvas').count()) === 1, { timeout: 15000, what: 'the power curve' });
        const live = await api(`/api/v1/admin/sessions/${id}`, { token: admin });
        assert.ok(live.curve.length > 0, 'the API has curve points');

        // Force stop through the confirm dialog; the page follows the session to completed.
        await page.locator('#force-stop').click();
        await page.locator('#force-stop-confirm').click();
        await page.locator('[data-fact=state]').getByText('已完成').waitFor({ timeout: 20000 });
        const done = await api(`/api/v1/admin/sessions/${id}`, { token: admin });
        assert.equal(done.state, 'completed');
        assert.equal(done.bill.source, 'settlement');
        assert.equal(await page.locator('#bill-source').innerText().then((s) => s.startsWith('已结算')), true);
        const lines = done.bill.detail.lines;
        const rows = page.locator('.bill-card tbody tr');
        assert.equal(await rows.count(), lines.length, 'one row per bill line');
        for (let i = 0; i < lines.length; i++) {
            const cells = await rows.nth(i).locator('td').allInnerTexts();
            assert.equal(cells[1], lines[i].text);
            assert.equal(cells[2], yuanZh(lines[i].fen));
        }
        assert.equal(await page.locator('#bill-totals [data-fact=cost_fen]').innerText(), yuanZh(done.bill.detail.cost_fen));
        assert.equal(await page.locator('#session-facts [data-fact=cost]').innerText(), yuanZh(done.cost_fen));
        assert.ok(done.cost_fen > 1, `the session cost money (${done.cost_fen} fen)`);
        await shot(page, 'console-session-detail');

        // Order refund: 0.01 yuan, typed as yuan, confirmed in the dialog.
        assert.equal(done.refunds.refundable_fen, done.cost_fen);
        await page.locator('#refund-open').click();
        await page.getByLabel('退款金额(元)').fill('0.01');
        await page.getByLabel('退款原因').fill('测试退款');
        assert.match(await page.locator('#refund-confirm-text').innerText(), new RegExp(`¥0\\.01.*${rider.phone}`));
        await page.locator('#refund-form button[type=submit]').click();
        await page.locator('#refund-summary').getByText(`已退 ${yuanZh(1)}`).waitFor();
        const after = await api(`/api/v1/admin/sessions/${id}`, { token: admin });
        assert.equal(after.refunds.refunded_fen, 1);
        assert.equal(after.refunds.entries[0].reason, '测试退款');
        assert.match(await page.locator('#refund-summary').innerText(), new RegExp(`可退 ${yuanZh(after.refunds.refundable_fen).replace('.', '\\.')}`));
    });
});

test('orders: a staff account created in the page with one station\'s scope signs in, sees only that station, and a page its role lacks says so in words', async (t) => {
    const admin = await adminToken();
    // A Latin name: stations show in every area's pickers, also on other files' English pages.
    const name = `Orders station ${suffix()}`;
    const station = await api('/api/v1/admin/stations', { method: 'POST', token: admin, body: { name, lat: 22.5, lon: 114.0 } });
    const stationId = station.station?.id ?? station.id;
    const username = `orders-${suffix()}`;
    const password = 'orders-pass-123';
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/staff`);
        await page.locator('#staff-new').click();
        await page.locator('#staff-username').fill(username);
        await page.locator('#staff-display-name').fill('订单测试员');
        await page.locator('#staff-password').fill(password);
        await page.locator('#staff-role').selectOption('maintenance');
        await page.getByLabel('全部站点', { exact: true }).uncheck();
        await page.getByLabel(name).check();
        await page.locator('#staff-form button[type=submit]').click();
        const row = page.getByRole('row', { name: new RegExp(username) });
        await row.waitFor();
        assert.match(await row.innerText(), new RegExp(`站点: ${name}`));
        const made = (await api('/api/v1/admin/admins', { token: admin })).admins.find((a) => a.username === username);
        assert.equal(made.role, 'maintenance');
        assert.equal(made.all_stations, false);
        assert.deepEqual(made.station_ids, [stationId]);
        await shot(page, 'console-staff');
    });
    await withPage(t, { expectStatus: [{ status: 403, url: '/api/v1/admin/audit-log' }] }, async (page) => {
        await consoleLogin(page, { username, password });
        // Maintenance has no dashboard: the console opens on the first page it may see, the orders.
        await page.locator('h1', { hasText: '充电订单' }).waitFor();
        assert.equal(await page.locator('nav.menu').getByText('数据概览').count(), 0);
        assert.equal(await page.locator('nav.menu').getByText('员工账号').count(), 0);
        // The picker fills when the station list arrives: wait for it, then read every option.
        await page.getByLabel('站点').locator('option', { hasText: name }).waitFor({ state: 'attached' });
        const options = await page.getByLabel('站点').locator('option').allInnerTexts();
        assert.deepEqual(options, ['全部站点', name]);
        await page.locator('td.empty', { hasText: '暂无数据' }).waitFor();
        const login = await api('/api/v1/admin/login', { method: 'POST', body: { username, password } });
        const seen = await api('/api/v1/admin/sessions', { token: login.token });
        assert.equal(seen.sessions.length, 0, 'no session ran at its station');
        const all = await api('/api/v1/admin/sessions', { token: admin });
        assert.ok(all.sessions.length > 0, 'while the demo station has sessions');
        // The audit log needs audit.read: the page says so in words.
        await page.goto(`${URL_BASE}/console/#/audit-log`);
        await page.locator('.error-box', { hasText: '无权限' }).waitFor();
    });
});

test('orders: a rider\'s fault report is assigned and resolved in the service page, and the audit log shows both', async (t) => {
    const admin = await adminToken();
    const rider = await richRider();
    const text = `插座不通电 ${suffix()}`;
    const { report } = await api('/api/v1/fault-reports', {
        method: 'POST', token: rider.token, body: { socket_code: 'demo-e00018-3', text, category: 'no_power' },
    });
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/service`);
        const row = page.locator(`tr[data-row="${report.id}"]`);
        await row.waitFor();
        assert.match(await row.innerText(), new RegExp(text));
        assert.match(await row.innerText(), /不通电/);
        assert.equal(await row.locator('[data-state]').innerText(), '待分派');

        await row.locator('[data-action=assign]').click();
        assert.equal(await page.locator('#report-assignee').inputValue(), 'admin');
        await page.locator('#report-action-form button[type=submit]').click();
        await row.locator('[data-state=assigned]').waitFor();
        let r = await api(`/api/v1/admin/fault-reports/${report.id}`, { token: admin });
        r = r.report ?? r;
        assert.equal(r.state, 'assigned');
        assert.equal(r.assignee, 'admin');

        await row.locator('[data-action=resolve]').click();
        await page.locator('#report-text').fill('已更换插座');
        await page.locator('#report-action-form button[type=submit]').click();
        await row.locator('[data-state=resolved]').waitFor();
        r = await api(`/api/v1/admin/fault-reports/${report.id}`, { token: admin });
        r = r.report ?? r;
        assert.equal(r.state, 'resolved');
        assert.equal(r.resolution, '已更换插座');
        assert.match(await row.innerText(), /已更换插座/);
        await shot(page, 'console-service');

        // The audit log: both changes, as the API lists them.
        const log = await api('/api/v1/admin/audit-log?limit=50', { token: admin });
        const mine = log.entries.filter((e) => e.path.startsWith(`/api/v1/admin/fault-reports/${report.id}/`));
        assert.deepEqual(mine.map((e) => e.action).sort(), ['admin.fault_reports.assign', 'admin.fault_reports.resolve']);
        await page.goto(`${URL_BASE}/console/#/audit-log`);
        for (const e of mine) {
            const line = page.locator(`tr[data-row="${e.id}"]`);
            await line.waitFor();
            const cells = await line.locator('td').allInnerTexts();
            assert.equal(cells[1], 'admin');
            assert.equal(cells[2], e.action);
            assert.equal(cells[4], e.path);
            assert.equal(cells[6], String(e.status));
        }
        // Filtered by operation: only the resolve.
        await page.getByLabel('操作', { exact: true }).fill('admin.fault_reports.resolve');
        await page.getByRole('button', { name: '查询' }).click();
        await waitUntil(async () => (await page.locator('tbody tr').allInnerTexts()).every((x) => x.includes('admin.fault_reports.resolve')),
            { what: 'only resolve rows' });
    });
});

test('orders: the roles page shows each role\'s permissions as the API has them, and a role created there is saved', async (t) => {
    const admin = await adminToken();
    const { roles } = await api('/api/v1/admin/roles', { token: admin });
    const name = `orders-role-${suffix()}`;
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/roles`);
        await page.locator('#role-matrix tr[data-perm="sessions.read"]').waitFor();
        for (const role of roles) {
            const boxes = page.locator(`#role-matrix input[data-role="${role.name}"]`);
            const checked = [];
            for (const box of await boxes.all()) {
                if (await box.isChecked()) checked.push((await box.getAttribute('aria-label')).split(' ')[1]);
            }
            assert.deepEqual(checked.sort(), [...role.permissions].sort(), `role ${role.name}`);
        }
        await page.locator('#role-new').click();
        await page.locator('#role-name').fill(name);
        await page.getByLabel('查看订单 (sessions.read)').check();
        await page.getByLabel('查看客服工单 (service.read)').check();
        await page.locator('#role-form button[type=submit]').click();
        await page.locator(`#role-matrix input[data-role="${name}"]`).first().waitFor();
        const saved = (await api('/api/v1/admin/roles', { token: admin })).roles.find((r) => r.name === name);
        assert.deepEqual([...saved.permissions].sort(), ['service.read', 'sessions.read']);
        // A custom role's checkboxes can be changed and saved.
        await page.locator(`#role-matrix tr[data-perm="monitor.read"] input[data-role="${name}"]`).check();
        await page.locator(`[data-save="${name}"]`).click();
        await page.locator(`[data-save="${name}"]`).waitFor({ state: 'detached' });
        const changed = (await api('/api/v1/admin/roles', { token: admin })).roles.find((r) => r.name === name);
        assert.deepEqual([...changed.permissions].sort(), ['monitor.read', 'service.read', 'sessions.read']);
    });
});

test('orders: a call record is created and corrected, and a repair record created and finished, in the service page as the API stores them', async (t) => {
    const admin = await adminToken();
    const caller = phone();
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/service`);
        await page.getByRole('tab', { name: '接听记录' }).click();
        await page.locator('#call-new').click();
        await page.locator('#call-phone').fill(caller);
        await page.locator('#call-name').fill('王先生');
        await page.locator('#call-category').selectOption('billing');
        await page.locator('#call-station').selectOption('1');
        await page.locator('#call-summary').fill('询问扣费');
        await page.locator('#call-form button[type=submit]').click();
        const row = page.getByRole('row', { name: new RegExp(caller) });
        await row.waitFor();
        let call = (await api(`/api/v1/admin/service-calls?phone=${caller}`, { token: admin })).calls[0];
        assert.equal(call.category, 'billing');
        assert.equal(call.summary, '询问扣费');
        assert.equal(call.station_id, 1);
        assert.equal(call.handled_by, 'admin');
        assert.match(await row.innerText(), /计费/);
        // Correct it (修改): the category and the summary.
        await row.locator('[data-action=edit]').click();
        await page.locator('#call-category').selectOption('complaint');
        await page.locator('#call-summary').fill('投诉扣费过多');
        await page.locator('#call-form button[type=submit]').click();
        await row.getByText('投诉扣费过多').waitFor();
        call = (await api(`/api/v1/admin/service-calls/${call.id}`, { token: admin }));
        call = call.call ?? call;
        assert.equal(call.category, 'complaint');
        assert.equal(call.summary, '投诉扣费过多');

        await page.getByRole('tab', { name: '维修记录' }).click();
        await page.locator('#repair-new').click();
        const work = `更换 3 号插座 ${suffix()}`;
        await page.locator('#repair-device').fill('demo-e00018');
        await page.locator('#repair-n').fill('3');
        await page.locator('#repair-description').fill(work);
        await page.locator('#repair-form button[type=submit]').click();
        const rrow = page.getByRole('row', { name: new RegExp(work) });
        await rrow.waitFor();
        let repair = (await api('/api/v1/admin/repairs?device=demo-e00018', { token: admin })).repairs.find((r) => r.description === work);
        assert.equal(repair.n, 3);
        assert.equal(repair.technician, 'admin');
        assert.equal(repair.finished_at, null);
        await rrow.locator('[data-action=finish]').click();
        await page.locator('#finish-outcome').selectOption('replaced');
        await page.locator('#finish-parts').fill('插座模块');
        await page.locator('#finish-form button[type=submit]').click();
        await rrow.getByText('已更换').waitFor();
        repair = (await api('/api/v1/admin/repairs?device=demo-e00018', { token: admin })).repairs.find((r) => r.description === work);
        assert.equal(repair.outcome, 'replaced');
        assert.equal(repair.parts, '插座模块');
        assert.ok(repair.finished_at);
        assert.equal(await rrow.locator('[data-action=finish]').count(), 0, 'a finished repair cannot be finished again');
    });
});

test('orders: the presence log, faults and incidents pages list what the API lists, and the presence log filters by device', async (t) => {
    const admin = await adminToken();
    const presence = await api('/api/v1/admin/presence-log?limit=50', { token: admin });
    assert.ok(presence.entries.length > 0, 'the fleet connected');
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/presence-log`);
        const first = presence.entries[presence.entries.length - 1];
        const row = page.locator(`tr[data-row="${first.id}"]`);
        await row.waitFor();
        const cells = await row.locator('td').allInnerTexts();
        assert.equal(cells[1], first.device_id);
        assert.equal(cells[2], first.online ? '在线' : '离线');
        assert.equal(cells[3], first.reason);
        // One device: only its rows, as the API's.
        const dev = 'demo-ocpp-001';
        const one = await api(`/api/v1/admin/presence-log?device=${dev}`, { token: admin });
        await page.getByLabel('设备').fill(dev);
        await page.getByRole('button', { name: '查询' }).click();
        await waitUntil(async () => (await page.locator('tbody tr').count()) === one.entries.length &&
            (await page.locator('tbody tr').allInnerTexts()).every((x) => x.includes(dev)), { what: `only ${dev}'s rows` });

        for (const [route, key, path] of [['/faults', 'faults', 'faults'], ['/incidents', 'incidents', 'incidents']]) {
            const list = await api(`/api/v1/admin/${path}?limit=50`, { token: admin });
            await page.goto(`${URL_BASE}/console/#${route}`);
            await page.locator('h1', { hasText: route === '/faults' ? '故障记录' : '异常事件' }).waitFor();
            if (list[key].length === 0) await page.locator('td.empty', { hasText: '暂无数据' }).waitFor();
            else await page.locator(`tr[data-row="${list[key][0].id}"]`).waitFor();
        }
    });
});

test('orders: an operator changes its password in the page and signs in with the new one; a staff account edited in the page changes role, and once disabled cannot sign in', async (t) => {
    const admin = await adminToken();
    const username = `orders-pw-${suffix()}`;
    const { admin: made } = await api('/api/v1/admin/admins', {
        method: 'POST', token: admin, body: { username, password: 'first-pass-1', role: 'viewer', all_stations: true },
    }).then((r) => (r.admin ? r : { admin: r }));
    await withPage(t, { expectStatus: [{ status: 401, url: '/api/v1/admin/login' }] }, async (page) => {
        await consoleLogin(page, { username, password: 'first-pass-1' });
        await page.goto(`${URL_BASE}/console/#/password`);
        await page.getByLabel('当前密码').fill('first-pass-1');
        await page.getByLabel('新密码(至少 8 位)').fill('second-pass-2');
        await page.getByLabel('再次输入新密码').fill('second-pass-2');
        await page.locator('#password-form button[type=submit]').click();
        await page.locator('#login-submit').waitFor();
        await consoleLogin(page, { username, password: 'second-pass-2' });
        await page.locator('#who', { hasText: username }).waitFor();
        const old = await api('/api/v1/admin/login', { method: 'POST', body: { username, password: 'first-pass-1' }, expectStatus: [401] });
        assert.equal(old.status, 401);
    });
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/staff`);
        // Edit: another role and a name; the scope stays every station.
        await page.locator(`[data-edit="${username}"]`).click();
        await page.locator('#staff-role').selectOption('finance');
        await page.locator('#staff-display-name').fill('财务小李');
        await page.locator('#staff-form button[type=submit]').click();
        await page.getByRole('row', { name: new RegExp(username) }).getByText('财务 (finance)').waitFor();
        const edited = (await api('/api/v1/admin/admins', { token: admin })).admins.find((a) => a.id === made.id);
        assert.equal(edited.role, 'finance');
        assert.equal(edited.display_name, '财务小李');
        assert.equal(edited.all_stations, true);
        await page.locator(`[data-toggle="${username}"]`).click();
        await page.getByRole('row', { name: new RegExp(username) }).getByText('停用', { exact: true }).first().waitFor();
        const list = (await api('/api/v1/admin/admins', { token: admin })).admins;
        assert.equal(list.find((a) => a.id === made.id).enabled, false);
        const refused = await api('/api/v1/admin/login', { method: 'POST', body: { username, password: 'second-pass-2' }, expectStatus: [401, 403] });
        assert.ok([401, 403].includes(refused.status));
    });
});

test('orders: in English the orders, monitoring, staff and service pages show no Chinese and no raw keys', async (t) => {
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.getByLabel('语言').selectOption('en');
        for (const [route, title] of [['/sessions', 'Charging orders'], ['/presence-log', 'Devices online / offline'], ['/faults', 'Fault records'],
            ['/incidents', 'Incidents'], ['/audit-log', 'Audit log'], ['/staff', 'Staff accounts'], ['/roles', 'Roles and permissions'],
            ['/password', 'Change my password'], ['/service', 'Customer service']]) {
            await page.goto(`${URL_BASE}/console/#${route}`);
            await page.locator('h1', { hasText: title }).waitFor();
            await page.locator('td.empty', { hasText: 'Loading' }).waitFor({ state: 'detached' });
            // Rows and options may hold what people typed (Chinese station names, summaries): look at the
            // page's own words (titles, labels, buttons, headers, the menu).
            const text = (await page.locator('.page-head, label, button, thead, nav.menu, .tabs, caption').allInnerTexts()).join('\n');
            assert.doesNotMatch(text, /\b(common|nav|orders|monitor|staff|service|states|errors)\.[a-z_]+/, route);
            assert.doesNotMatch(text, /[\u4e00-\u9fff]/, `no Chinese on ${route}`);
        }
    });
});

test('orders: the orders export downloads the listed sessions as CSV with the page\'s filters', async (t) => {
    const admin = await adminToken();
    const all = await api('/api/v1/admin/sessions?kind=ebike&limit=5', { token: admin });
    assert.ok(all.sessions.length > 0, 'e-bike sessions ran');
    await withPage(t, async (page) => {
        await consoleLogin(page);
        await page.goto(`${URL_BASE}/console/#/sessions`);
        await page.getByLabel('类型').selectOption('ebike');
        await page.getByRole('button', { name: '查询' }).click();
        await page.locator(`tr[data-row="${all.sessions[0].id}"]`).waitFor();
        const [download] = await Promise.all([
            page.waitForEvent('download'),
            page.getByRole('button', { name: '导出 CSV' }).click(),
        ]);
        assert.equal(download.suggestedFilename(), 'sessions.csv');
        const chunks = [];
        for await (const c of await download.createReadStream()) chunks.push(c);
        const csv = Buffer.concat(chunks).toString('utf8');
        for (const s of all.sessions) assert.ok(csv.includes(s.id), `the CSV has ${s.id}`);
        // The kind filter went along: every data row is an e-bike order.
        const [head, ...rows] = csv.replace(/^\uFEFF/, '').trim().split(/\r?\n/);
        const kindCol = head.split(',').indexOf('kind');
        assert.ok(kindCol >= 0, 'a kind column');
        assert.ok(rows.every((r) => r.split(',')[kindCol] === 'ebike'));
    });
});

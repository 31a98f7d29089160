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
    // Charts follow their box's new width on the next animation frame: wait for the layout to settle.
    let w = 0;
    await waitUntil(async () => (w = await page.evaluate(() => document.documentElement.scrollWidth)) <= 360, {
        timeout: 2000,
        what: `${what}: the page fits 360 px`,
    }).catch(() => {});
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
        assert.equal(await page.getByLabel('充值金额（元）').inputValue(), '50.00'); // the exact yuan text of 5000 fen
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
        // Elsewhere the running session is one tap away.
        await page.locator('#tab-stations').click();
        await page.locator(`#active-sessions a[href="#/session/${encodeURIComponent(sid)}"]`).click();
        await page.locator('#session #stop').waitFor();

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

test('h5: the login needs the agreement first, refuses a wrong code in words, then opens the page asked for', async (t) => {
    const phone = nextPhone();
    await withPage(t, { ...PHONE, expectStatus: [{ status: 401, url: '/api/v1/auth/login' }] }, async (page) => {
        // A socket's QR opened while signed out: the login comes first.
        await page.goto(`${URL_BASE}/h5/#/socket/demo-e00002-2`);
        await page.locator('#login-submit').waitFor();
        await page.getByLabel('手机号').fill(phone);
        await page.locator('#send-code').click();
        const code = (await page.locator('#dev-code strong').innerText()).trim();
        await page.getByLabel('验证码', { exact: true }).fill(code === '000000' ? '111111' : '000000');
        await page.locator('#login-submit').click();
        assert.equal(await page.locator('#login-error').innerText(), '请先阅读并同意用户协议');
        await page.locator('#login-agree').check();
        await page.locator('#login-submit').click();
        await page.locator('#login-error', { hasText: '验证码错误' }).waitFor();
        // The agreement is a page of its own, readable before login.
        await page.locator('label[for=login-agree] a').click();
        await page.locator('#agreement h1', { hasText: '用户协议' }).waitFor();
        assert.ok((await page.locator('#agreement .agreement').innerText()).length > 100);
        await page.goBack();
        await page.getByLabel('手机号').fill(phone);
        await page.getByLabel('验证码', { exact: true }).fill(code);
        await page.locator('#login-agree').check();
        await page.locator('#login-submit').click();
        await page.locator('#socket h1', { hasText: 'demo-e00002-2' }).waitFor();
    });
});

test('h5: the station page shows every socket and gun with the API state, and the prices of its tariff', async (t) => {
    const phone = nextPhone();
    await withPage(t, { ...PHONE }, async (page) => {
        const token = await h5Login(page, phone);
        await page.locator('#stations .station-link').first().click();
        await page.locator('#station .socket-chip').first().waitFor();
        const id = page.url().split('#/station/')[1];
        const st = await api(`/api/v1/stations/${id}`, { token });
        assert.equal(await page.locator('#station h1').innerText(), st.name);
        // Directions open the phone's map app at the station (a geo: link, nothing fetched).
        assert.ok((await page.locator('#navigate').getAttribute('href')).startsWith(`geo:${st.lat},${st.lon}?`));
        const ebike = st.sockets.filter((s) => s.kind === 'socket');
        assert.equal(await page.locator('#station .socket-chip').count(), ebike.length);
        // Each socket's badge says the API's state (states.* words).
        const words = { free: '空闲', busy: '使用中', offline: '离线', faulted: '故障' };
        const shown = await page.locator('#station .socket-chip').evaluateAll((els) =>
            els.map((e) => [e.dataset.socket, e.querySelector('.badge').textContent]));
        assert.deepEqual(shown, ebike.map((s) => [s.code, words[s.state] ?? s.state]));
        // Every mode of the tariff is named with its prices.
        const modes = await page.locator('#station .tariff-mode h3').allInnerTexts();
        assert.equal(modes.length, st.tariff.modes.length);
        const time = st.tariff.modes.find((m) => m.mode === 'time');
        if (time) assert.match(await page.locator('#station .tariff').innerText(), new RegExp(`${time.options[0].minutes} 分钟 ${yuanZh(time.options[0].price_fen).replace('.', '\\.')}`));
        // The car tab lists the guns.
        await page.getByRole('tab', { name: '汽车充电枪' }).click();
        const guns = st.sockets.filter((s) => s.kind === 'ev_gun');
        await waitUntil(async () => (await page.locator('#station .socket-chip').count()) === guns.length, { what: 'every gun listed' });
        // The parking spaces, with the API's states and their guns.
        const spaces = (await api(`/api/v1/stations/${id}/spaces`, { token })).spaces;
        if (spaces.length) {
            await page.getByRole('tab', { name: '车位' }).click();
            await waitUntil(async () => (await page.locator('#station .space').count()) === spaces.length, { what: 'every space listed' });
            const sp = spaces[0];
            assert.equal(await page.locator(`[data-space="${sp.id}"] .badge`).innerText(), { free: '空闲', occupied: '占用', reserved: '已预约' }[sp.state] ?? sp.state);
        }
        await fits360(page, 'station');
        await shot(page, 'h5-station');
    });
});

test('h5: a car gun offers its prepaid amounts, and a start with too little balance is refused in words', async (t) => {
    const phone = nextPhone();
    await withPage(t, { ...PHONE, expectStatus: [{ status: 402, url: '/api/v1/sessions' }] }, async (page) => {
        const token = await h5Login(page, phone);
        const code = 'demo-ev001-1';
        await page.goto(`${URL_BASE}/h5/#/socket/${code}`);
        await page.locator('#socket-state .badge').waitFor();
        const gun = await api(`/api/v1/sockets/${code}`, { token });
        assert.equal(gun.kind, 'ev_gun');
        const options = await page.locator('#max-fen option').allInnerTexts();
        assert.deepEqual(options.slice(1), gun.prepaid_amounts_fen.map(yuanZh));
        await page.getByLabel('预付金额').selectOption(String(gun.prepaid_amounts_fen[0]));
        await page.locator('#socket-balance', { hasText: yuanZh(0) }).waitFor();
        await page.locator('#start').click();
        await page.locator('#start-error', { hasText: '余额不足' }).waitFor();
        await page.locator('#start-error a[href="#/wallet"]').waitFor();
        const active = await api('/api/v1/sessions?state=active', { token });
        assert.equal(active.sessions.length, 0, 'nothing started');
    });
});

test('h5: scanning without a camera says so and keeps the code entry; an unknown code is refused in words', async (t) => {
    const phone = nextPhone();
    await withPage(t, { ...PHONE, expectStatus: [{ status: 404, url: '/api/v1/sockets/' }] }, async (page) => {
        await h5Login(page, phone);
        await page.locator('#tab-scan').click();
        await page.locator('#code-form').waitFor();
        const canScan = await page.evaluate(() => typeof BarcodeDetector === 'function' && !!navigator.mediaDevices?.getUserMedia);
        if (canScan) await page.locator('#scan-start').waitFor();
        else assert.equal(await page.locator('#scan-unavailable').innerText(), '此浏览器不支持相机扫码，请输入插座编号');
        await page.getByLabel('插座编号').fill('nope-9');
        await page.locator('#code-open').click();
        await page.locator('#socket [role=alert]', { hasText: '插座不存在' }).waitFor();
    });
});

test('h5: me: the name is saved, plates are added and removed, a card number is checked, as the API has them', async (t) => {
    const phone = nextPhone();
    await withPage(t, { ...PHONE, expectStatus: [{ status: 404, url: '/api/v1/cards/bind' }] }, async (page) => {
        const token = await h5Login(page, phone);
        await page.locator('#tab-me').click();
        await page.locator('#me-phone', { hasText: phone }).waitFor();
        await page.getByLabel('昵称').fill('小张');
        await page.locator('#name-form button').click();
        await page.locator('.notice', { hasText: '已保存' }).waitFor();
        assert.equal((await api('/api/v1/me', { token })).name, '小张');

        // Plates.
        await page.locator('#me a[href="#/plates"]').click();
        const plate = `粤B${String(Date.now()).slice(-5)}`;
        await page.getByLabel('车牌号').fill(plate);
        await page.getByLabel('车牌颜色').selectOption('green');
        await page.locator('#plate-form button[type=submit]').click();
        await page.locator(`[data-plate="${plate}"]`).waitFor();
        assert.deepEqual((await api('/api/v1/me/plates', { token })).plates.map((p) => [p.plate, p.color]), [[plate, 'green']]);
        page.once('dialog', (d) => d.accept());
        await page.locator(`[data-plate="${plate}"] button`).click();
        await page.locator(`[data-plate="${plate}"]`).waitFor({ state: 'detached' });
        assert.equal((await api('/api/v1/me/plates', { token })).plates.length, 0);

        // Cards: an unknown number is refused in words; nothing is bound.
        await page.goto(`${URL_BASE}/h5/#/cards`);
        await page.getByLabel('卡号').fill('NO-SUCH-CARD');
        await page.locator('#bind-form button[type=submit]').click();
        await page.locator('.notice-error', { hasText: '卡不存在' }).waitFor();
        assert.equal((await api('/api/v1/me', { token })).card, null);
        await fits360(page, 'cards');
    });
});

test('h5: the language switch turns the page to English, and logging out drops the token', async (t) => {
    const phone = nextPhone();
    await withPage(t, { ...PHONE }, async (page) => {
        const token = await h5Login(page, phone);
        await page.locator('#tab-me').click();
        // (A notice still on the screen was written in Chinese: let it fade first.)
        await page.locator('.notice').first().waitFor({ state: 'detached', timeout: 10000 });
        await page.getByLabel('语言').selectOption('en');
        await page.locator('#me h1', { hasText: 'Me' }).waitFor();
        // Every string of the main pages has its English: no key shown raw, no Chinese left (but the
        // language select's 中文, as every language names itself).
        const english = async (what) => {
            const text = await page.locator('body').innerText();
            assert.doesNotMatch(text, /\b(h5|common|states|errors|nav)\.[a-z_]+/, `${what}: no key shown raw`);
            const chinese = text.replace('中文', '').match(/.{0,20}[\u4e00-\u9fff]+.{0,20}/);
            assert.equal(chinese, null, `${what}: no Chinese left on the English page`);
        };
        await english('me');
        await page.locator('#tab-stations').click();
        await page.locator('#stations h1', { hasText: 'Nearby stations' }).waitFor();
        await page.locator('#stations .station').first().waitFor();
        await english('stations');
        await page.goto(`${URL_BASE}/h5/#/socket/demo-e00003-1`);
        await page.locator('#start-form').waitFor();
        await english('socket');
        await page.goto(`${URL_BASE}/h5/#/wallet`);
        await page.locator('#recharge-form').waitFor();
        await english('wallet');
        await page.locator('#tab-me').click();
        await page.getByLabel('Language').selectOption('zh-CN');
        await page.locator('#logout', { hasText: '退出登录' }).click();
        await page.locator('#login-submit').waitFor();
        assert.equal(await page.evaluate(() => localStorage.getItem('pilehub.h5.token')), null);
        assert.equal((await api('/api/v1/me', { token, expectStatus: [401] })).status, 401);
    });
});

test('h5: inside WeChat the page offers its login, and says so when the WeChat bridge is missing', async (t) => {
    const ua = 'Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36 MicroMessenger/8.0.44';
    await withPage(t, { ...PHONE, userAgent: ua }, async (page) => {
        await page.goto(`${URL_BASE}/h5/`);
        await page.locator('#host-login', { hasText: '微信一键登录' }).click();
        assert.equal(await page.locator('#login-error').innerText(), '请先阅读并同意用户协议');
        await page.locator('#login-agree').check();
        await page.locator('#host-login').click();
        await page.locator('#login-error', { hasText: '未检测到微信的登录接口' }).waitFor();
    });
});

test('h5: a recharge package pays its bonus, shown in the bonus ledger as the API has it', async (t) => {
    const admin = await adminToken();
    const name = `H5 pay 30 get 3 ${Date.now()}`;
    const created = await api('/api/v1/admin/packages', { method: 'POST', token: admin, body: { name, pay_fen: 3000, bonus_fen: 300 } });
    const pkgId = created.package?.id ?? created.id;
    const phone = nextPhone();
    try {
        await withPage(t, { ...PHONE }, async (page) => {
            const token = await h5Login(page, phone);
            await page.goto(`${URL_BASE}/h5/#/wallet`);
            const offer = page.locator('#recharge-form .choice', { hasText: '送 ¥3.00' });
            await offer.first().waitFor();
            const w = await api('/api/v1/wallet', { token });
            assert.ok(w.packages.some((p) => p.id === pkgId && p.pay_fen === 3000 && p.bonus_fen === 300));
            await offer.first().click();
            await page.locator('#recharge').click();
            await page.locator('#pay').click();
            await page.locator('[data-stat=bonus] .stat-value', { hasText: yuanZh(300) }).waitFor();
            const after = await api('/api/v1/wallet', { token });
            assert.equal(after.balance_fen, 3000);
            assert.equal(after.bonus_fen, 300);
            assert.equal(await page.locator('[data-stat=balance] .stat-value').innerText(), yuanZh(3000));
            await page.getByRole('tab', { name: '赠送金' }).click();
            const ledger = await api('/api/v1/wallet/ledger', { token });
            const bonus = ledger.entries.filter((e) => e.bonus_fen);
            assert.ok(bonus.length > 0);
            const rows = page.locator('#ledger li[data-entry]');
            await waitUntil(async () => (await rows.count()) === bonus.length, { what: 'the bonus entries listed' });
            assert.equal(await rows.first().locator('strong').innerText(), `+${yuanZh(bonus[0].bonus_fen)}`);
        });
    } finally {
        await api(`/api/v1/admin/packages/${pkgId}`, { method: 'PUT', token: admin, body: { enabled: false } });
    }
});

test('h5: cards: an issued card is bound, unbound, bound again and reported lost; a lost card is refused', async (t) => {
    const admin = await adminToken();
    const cardNo = `H5${String(Date.now()).slice(-8)}`;
    // A money route: the harness's api() sends no Idempotency-Key, so this one is a plain fetch.
    const issued = await fetch(`${URL_BASE}/api/v1/admin/cards`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json', 'Idempotency-Key': `h5-${cardNo}` },
        body: JSON.stringify({ card_no: cardNo, fee_fen: 0 }),
    });
    assert.equal(issued.status, 201, await issued.text());
    const phone = nextPhone();
    await withPage(t, { ...PHONE, expectStatus: [{ status: 403, url: '/api/v1/cards/bind' }] }, async (page) => {
        const token = await h5Login(page, phone);
        await page.goto(`${URL_BASE}/h5/#/cards`);
        const bind = async () => {
            await page.getByLabel('卡号').fill(cardNo);
            await page.locator('#bind-form button[type=submit]').click();
        };
        await bind();
        await page.locator('#card-no', { hasText: cardNo }).waitFor();
        assert.equal((await api('/api/v1/me', { token })).card.card_no, cardNo);
        page.on('dialog', (d) => d.accept());
        await page.locator('#card-unbind').click();
        await page.locator('#bind-form').waitFor();
        assert.equal((await api('/api/v1/me', { token })).card, null);
        await bind();
        await page.locator('#card-lost').click();
        await page.locator('.notice', { hasText: '已挂失' }).waitFor();
        await page.locator('#bind-form').waitFor();
        assert.equal((await api('/api/v1/me', { token })).card, null);
        await bind();
        await page.locator('.notice-error', { hasText: '卡已挂失' }).waitFor();
    });
});

test('h5: with the position granted the stations are sorted from it, and the page says so', async (t) => {
    const phone = nextPhone();
    await withPage(t, { ...PHONE, geolocation: { latitude: 22.5431, longitude: 114.0579 }, permissions: ['geolocation'] }, async (page) => {
        const token = await h5Login(page, phone);
        await page.locator('#where', { hasText: '按您当前位置排序' }).waitFor();
        await page.locator('#stations .station').first().waitFor();
        const near = await api('/api/v1/stations/nearby?lat=22.5431&lon=114.0579&radius_m=50000', { token });
        assert.deepEqual(await page.locator('#stations .station-name').allInnerTexts(), near.stations.map((s) => s.name));
        const d = near.stations[0].distance_m;
        assert.equal(await page.locator('#stations .distance').first().innerText(), d < 1000 ? `${Math.round(d)} m` : `${(Math.round(d / 100) / 10).toFixed(1)} km`);
    });
});

test('h5: a car gun starts by energy with the chosen prepaid amount, shows its power live and stops', async (t) => {
    const phone = nextPhone();
    const token = await riderToken(phone);
    // Money in first, through the same sandbox the wallet page uses.
    const order = await api('/api/v1/wallet/recharge', { method: 'POST', token, body: { amount_fen: 5000, channel: 'sandbox' } });
    await api(`/api/v1/pay/sandbox/${order.payment_id}/confirm`, { method: 'POST', token, body: {} });
    await withPage(t, { ...PHONE }, async (page) => {
        // The rider's token in the page's storage (the login form is tested above).
        await page.goto(`${URL_BASE}/h5/#/agreement`);
        await page.evaluate((tk) => localStorage.setItem('pilehub.h5.token', tk), token);
        const code = 'demo-ev002-2';
        await page.goto(`${URL_BASE}/h5/#/socket/${code}`);
        await page.locator('#socket-balance', { hasText: yuanZh(5000) }).waitFor();
        await page.locator('#mode-energy').check();
        await page.getByLabel('预付金额').selectOption('1000');
        await page.locator('#start').click();
        await page.locator('#session-state', { hasText: '充电中' }).waitFor({ timeout: 15000 });
        const sid = decodeURIComponent(page.url().split('#/session/')[1]);
        const s = await api(`/api/v1/sessions/${sid}`, { token });
        assert.equal(s.socket, code);
        assert.equal(s.mode, 'energy');
        assert.equal(s.max_fen, 1000);
        assert.match(await page.locator('#session').innerText(), /预付金额: ¥10\.00/);
        await waitUntil(async () => /kW$/.test(await statText(page, 'power')), { timeout: 15000, what: 'the gun\'s kW shown' });
        await page.locator('#stop').click();
        await page.locator('#bill').waitFor({ timeout: 30000 });
        const done = await api(`/api/v1/sessions/${sid}`, { token });
        assert.equal(await page.locator('#bill-total').innerText(), yuanZh(done.cost_fen));
    });
});

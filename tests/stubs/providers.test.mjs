// The provider stub (providers.mjs) as a client sees it. The stub runs as a child process; each
// test acts as PileHub's client would, signing and verifying with node:crypto from the key files
// the stub wrote: a second, independent implementation of the client side of every signature
// (nothing here imports the stub's signing code, except the published-example check of §4 which
// runs both). Notifications land on a small local HTTP server.
//
//   node --test tests/stubs/providers.test.mjs        (ctest -R test_provider_stubs)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
    createDecipheriv,
    createHmac,
    createPrivateKey,
    createPublicKey,
    createSign,
    createVerify,
    randomBytes,
    randomUUID,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { aliyunSignature } from './aliyun_sms.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const TAMPERS = ['signature', 'mchid', 'appid', 'amount', 'currency', 'state', 'unknown_order'];

// ---- the stub process, its files and the notification receiver ----

const stub = {};
const received = { wechat: [], alipay: [] };
let receiver;
let notifyBase;

// stdin 'pipe': the stub stops when the pipe closes; 'ignore' (/dev/null): only on SIGTERM.
function startStub(dir, stdin = 'pipe') {
    return new Promise((resolve, reject) => {
        const proc = spawn(process.execPath, [join(HERE, 'providers.mjs'), '--dir', dir, '--port', '0'], {
            stdio: [stdin, 'pipe', 'inherit'],
        });
        let out = '';
        proc.stdout.setEncoding('utf8');
        proc.stdout.on('data', (chunk) => {
            out += chunk;
            const nl = out.indexOf('\n');
            if (nl >= 0) resolve({ proc, line: out.slice(0, nl) });
        });
        proc.once('exit', (code) => reject(new Error(`stub exited ${code} before its line`)));
    });
}

function readConf(path) {
    const conf = new Map();
    for (const line of readFileSync(path, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        const eq = line.indexOf(' = ');
        conf.set(line.slice(0, eq), line.slice(eq + 3));
    }
    return conf;
}

before(async () => {
    stub.dir = mkdtempSync(join(tmpdir(), 'provider-stub-'));
    const { proc, line } = await startStub(stub.dir);
    stub.proc = proc;
    stub.line = line;
    const first = JSON.parse(line);
    stub.port = first.port;
    stub.config = first.config;
    stub.base = `http://127.0.0.1:${first.port}`;
    stub.conf = readConf(first.config);
    const file = (key) => readFileSync(stub.conf.get(key), 'utf8');
    stub.wechatSecret = file('pilehub-api.wechat.secret_file');
    stub.merchantKey = createPrivateKey(file('pilehub-api.wechatpay.merchant_key_file'));
    stub.apiv3Key = Buffer.from(file('pilehub-api.wechatpay.apiv3_key_file'), 'ascii');
    stub.platformKey = createPublicKey(file('pilehub-api.wechatpay.platform_public_key_file'));
    stub.alipayAppKey = createPrivateKey(file('pilehub-api.alipay.app_private_key_file'));
    stub.alipayKey = createPublicKey(file('pilehub-api.alipay.alipay_public_key_file'));
    stub.alipayAes = Buffer.from(file('pilehub-api.alipay.aes_key_file'), 'base64');
    stub.smsSecret = file('pilehub-api.sms.access_key_secret_file');

    receiver = createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            const which = req.url.startsWith('/alipay') ? 'alipay' : 'wechat';
            received[which].push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
            if (which === 'alipay') res.writeHead(200, { 'Content-Type': 'text/plain' }).end('success');
            else res.writeHead(204).end();
        });
    });
    await new Promise((ok) => receiver.listen(0, '127.0.0.1', ok));
    notifyBase = `http://127.0.0.1:${receiver.address().port}`;
});

after(async () => {
    stub.proc?.stdin.end(); // the stub exits when its stdin closes
    if (stub.proc && stub.proc.exitCode === null) await new Promise((ok) => stub.proc.once('exit', ok));
    receiver?.close();
    if (stub.dir) rmSync(stub.dir, { recursive: true, force: true });
});

async function call(method, path, { headers = {}, body } = {}) {
    const res = await fetch(stub.base + path, { method, headers, body });
    return { status: res.status, headers: res.headers, text: await res.text() };
}

async function control(method, path, body) {
    const r = await call(method, `/_stub/${path}`, {
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, json: JSON.parse(r.text) };
}

async function ok(method, path, body) {
    const r = await control(method, path, body);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json;
}

function rsa2Sign(key, text) {
    return createSign('sha256').update(text, 'utf8').sign(key, 'base64');
}

function rsa2Verify(key, text, sig) {
    return createVerify('sha256').update(text, 'utf8').verify(key, sig, 'base64');
}

function flipByte(b64) {
    const b = Buffer.from(b64, 'base64');
    b[3] ^= 0x80;
    return b.toString('base64');
}

// ---- §0 the files ----

describe('the stub process and its files', () => {
    test('prints one line naming its port and providers.conf in DIR', () => {
        assert.deepEqual(Object.keys(JSON.parse(stub.line)), ['port', 'config']);
        assert.equal(stub.config, join(stub.dir, 'providers.conf'));
        assert.ok(stub.port > 0);
    });

    test('providers.conf holds exactly the keys of the spec, in order, with the values filled in', () => {
        const d = stub.dir;
        const b = stub.base;
        const expected = [
            ['pilehub-api.wechat.appid', 'wxa1b2c3d4e5f60001'],
            ['pilehub-api.wechat.secret_file', `${d}/wechat-secret`],
            ['pilehub-api.wechat.base_url', `${b}/wechat`],
            ['pilehub-api.wechatpay.mchid', '1900000109'],
            ['pilehub-api.wechatpay.merchant_serial', /^[0-9A-F]{40}$/],
            ['pilehub-api.wechatpay.merchant_key_file', `${d}/wechatpay-merchant-key.pem`],
            ['pilehub-api.wechatpay.apiv3_key_file', `${d}/wechatpay-apiv3.key`],
            ['pilehub-api.wechatpay.platform_public_key_file', `${d}/wechatpay-platform-public.pem`],
            ['pilehub-api.wechatpay.platform_serial', /^PUB_KEY_ID_\d+$/],
            ['pilehub-api.wechatpay.base_url', `${b}/wechatpay`],
            ['pilehub-api.alipay.app_id', '2021000000000001'],
            ['pilehub-api.alipay.seller_id', '2088000000000001'],
            ['pilehub-api.alipay.app_private_key_file', `${d}/alipay-app-private.pem`],
            ['pilehub-api.alipay.alipay_public_key_file', `${d}/alipay-public.pem`],
            ['pilehub-api.alipay.aes_key_file', `${d}/alipay-aes.key`],
            ['pilehub-api.alipay.gateway_url', `${b}/alipay/gateway.do`],
            ['pilehub-api.sms.provider', 'aliyun'],
            ['pilehub-api.sms.access_key_id', 'LTAI5tStubAccessKey01'],
            ['pilehub-api.sms.access_key_secret_file', `${d}/aliyun-sms-secret`],
            ['pilehub-api.sms.sign_name', 'PileHub'],
            ['pilehub-api.sms.template_code', 'SMS_154950909'],
            ['pilehub-api.sms.endpoint', `${b}/aliyun-sms/`],
        ];
        assert.deepEqual([...stub.conf.keys()], expected.map(([k]) => k));
        for (const [k, v] of expected) {
            if (v instanceof RegExp) assert.match(stub.conf.get(k), v, k);
            else assert.equal(stub.conf.get(k), v, k);
        }
    });

    test('every file is mode 0600 and holds the form the spec names', () => {
        for (const name of [
            'providers.conf',
            'wechat-secret',
            'wechatpay-merchant-key.pem',
            'wechatpay-apiv3.key',
            'wechatpay-platform-public.pem',
            'alipay-app-private.pem',
            'alipay-public.pem',
            'alipay-aes.key',
            'aliyun-sms-secret',
        ])
            assert.equal(statSync(join(stub.dir, name)).mode & 0o777, 0o600, name);
        const text = (n) => readFileSync(join(stub.dir, n), 'utf8');
        assert.match(text('wechat-secret'), /^[0-9a-f]{32}$/);
        assert.match(text('wechatpay-apiv3.key'), /^[A-Za-z0-9]{32}$/);
        assert.equal(stub.alipayAes.length, 16);
        assert.match(text('aliyun-sms-secret'), /^.{30}$/);
        assert.match(text('wechatpay-merchant-key.pem'), /^-----BEGIN PRIVATE KEY-----\n/);
        assert.match(text('alipay-app-private.pem'), /^-----BEGIN PRIVATE KEY-----\n/);
        assert.match(text('wechatpay-platform-public.pem'), /^-----BEGIN PUBLIC KEY-----\n/);
        assert.match(text('alipay-public.pem'), /^-----BEGIN PUBLIC KEY-----\n/);
        for (const k of [stub.merchantKey, stub.alipayAppKey]) assert.equal(k.asymmetricKeyDetails.modulusLength, 2048);
    });

    test('with stdin /dev/null (as tests/support Process starts children) it serves until SIGTERM', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'provider-stub-null-'));
        try {
            const { proc, line } = await startStub(dir, 'ignore');
            const exited = new Promise((ok) => proc.once('exit', (code, signal) => ok({ code, signal })));
            const r = await fetch(`http://127.0.0.1:${JSON.parse(line).port}/_stub/log`);
            assert.deepEqual(await r.json(), []);
            assert.equal(proc.exitCode, null);
            proc.kill('SIGTERM');
            assert.deepEqual(await exited, { code: 0, signal: null });
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    test('a control call with a bad argument answers 400 {"error"}', async () => {
        const r = await control('POST', 'wechatpay/refund-mode', { mode: 'sometimes' });
        assert.equal(r.status, 400);
        assert.equal(typeof r.json.error, 'string');
    });
});

// ---- §1 WeChat mini-program login ----

describe('WeChat mini-program login', () => {
    const appid = 'wxa1b2c3d4e5f60001';
    const code2Session = (code, secret = stub.wechatSecret) =>
        call(
            'GET',
            `/wechat/sns/jscode2session?appid=${appid}&secret=${secret}&js_code=${code}&grant_type=authorization_code`,
        ).then((r) => JSON.parse(r.text));
    const token = () =>
        call('GET', `/wechat/cgi-bin/token?grant_type=client_credential&appid=${appid}&secret=${stub.wechatSecret}`).then(
            (r) => JSON.parse(r.text),
        );
    const phone = (tok, code) =>
        call('POST', `/wechat/wxa/business/getuserphonenumber?access_token=${tok}`, {
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ code }),
        }).then((r) => JSON.parse(r.text));

    test('a registered wx.login code gives its openid and unionid once; again 40163; unknown 40029', async () => {
        await ok('POST', 'wechat/codes', { code: 'wxcode-1', openid: 'o-rider-1', unionid: 'u-rider-1' });
        const s = await code2Session('wxcode-1');
        assert.equal(s.openid, 'o-rider-1');
        assert.equal(s.unionid, 'u-rider-1');
        assert.equal(typeof s.session_key, 'string');
        assert.equal((await code2Session('wxcode-1')).errcode, 40163);
        assert.equal((await code2Session('wxcode-never')).errcode, 40029);
    });

    test('a wrong AppSecret answers 40125', async () => {
        await ok('POST', 'wechat/codes', { code: 'wxcode-2', openid: 'o-rider-2' });
        assert.equal((await code2Session('wxcode-2', 'f'.repeat(32))).errcode, 40125);
    });

    test('a phone code gives the phone once with our appid in the watermark; an expired token answers 40001', async () => {
        const before = (await ok('GET', 'wechat/stats')).token_fetches;
        const t = await token();
        assert.equal(t.expires_in, 7200);
        assert.equal((await ok('GET', 'wechat/stats')).token_fetches, before + 1);
        await ok('POST', 'wechat/phone-codes', { code: 'pc-1', phone: '13800000000' });
        await ok('POST', 'wechat/phone-codes', { code: 'pc-2', phone: '91234567', country_code: '852' });
        const p = await phone(t.access_token, 'pc-1');
        assert.equal(p.errcode, 0);
        assert.equal(p.phone_info.purePhoneNumber, '13800000000');
        assert.equal(p.phone_info.countryCode, '86');
        assert.equal(p.phone_info.watermark.appid, appid);
        assert.equal((await phone(t.access_token, 'pc-1')).errcode, 40029);
        const hk = await phone(t.access_token, 'pc-2');
        assert.equal(hk.phone_info.phoneNumber, '+85291234567');
        await ok('POST', 'wechat/expire-token', {});
        await ok('POST', 'wechat/phone-codes', { code: 'pc-3', phone: '13800000001' });
        assert.equal((await phone(t.access_token, 'pc-3')).errcode, 40001);
        assert.equal((await phone((await token()).access_token, 'pc-3')).errcode, 0);
    });
});

// ---- §2 WeChat Pay API v3 ----

describe('WeChat Pay API v3', () => {
    const MCHID = '1900000109';
    const APPID = 'wxa1b2c3d4e5f60001';
    const serial = () => stub.conf.get('pilehub-api.wechatpay.merchant_serial');

    // The client's Authorization: SHA256withRSA over METHOD\nPATH\nSECS\nNONCE\nBODY\n, path from /v3.
    function authorization(method, path, body, { ts = Math.floor(Date.now() / 1000), serialNo = serial() } = {}) {
        const nonce = randomBytes(16).toString('hex');
        const sig = rsa2Sign(stub.merchantKey, `${method}\n${path}\n${ts}\n${nonce}\n${body}\n`);
        return `WECHATPAY2-SHA256-RSA2048 mchid="${MCHID}",nonce_str="${nonce}",signature="${sig}",timestamp="${ts}",serial_no="${serialNo}"`;
    }

    // WeChat's response / notification signature: SECS\nNONCE\nBODY\n with the platform key.
    function wechatSigned(headers, body) {
        const get = (n) => (typeof headers.get === 'function' ? headers.get(n) : headers[n.toLowerCase()]);
        const ts = get('Wechatpay-Timestamp');
        if (get('Wechatpay-Serial') !== stub.conf.get('pilehub-api.wechatpay.platform_serial')) return false;
        if (Math.abs(Number(ts) - Date.now() / 1000) > 300) return false;
        return rsa2Verify(stub.platformKey, `${ts}\n${get('Wechatpay-Nonce')}\n${body}\n`, get('Wechatpay-Signature'));
    }

    function decrypt(resource) {
        const raw = Buffer.from(resource.ciphertext, 'base64');
        const d = createDecipheriv('aes-256-gcm', stub.apiv3Key, Buffer.from(resource.nonce, 'ascii'));
        d.setAAD(Buffer.from(resource.associated_data, 'ascii'));
        d.setAuthTag(raw.subarray(raw.length - 16));
        return JSON.parse(Buffer.concat([d.update(raw.subarray(0, raw.length - 16)), d.final()]).toString('utf8'));
    }

    async function api(method, path, bodyObj, opts = {}) {
        const body = bodyObj === undefined ? '' : JSON.stringify(bodyObj);
        const headers = {
            Accept: 'application/json',
            Authorization: authorization(method, opts.signPath ?? path, opts.signBody ?? body, opts),
        };
        if (method === 'POST') headers['Content-Type'] = 'application/json';
        const r = await call(method, `/wechatpay${path}`, { headers, body: method === 'POST' ? body : undefined });
        return { ...r, json: r.text === '' ? null : JSON.parse(r.text) };
    }

    const order = (no, total = 1234) => ({
        appid: APPID,
        mchid: MCHID,
        description: 'PileHub charging',
        out_trade_no: no,
        notify_url: `${notifyBase}/wechat`,
        amount: { total, currency: 'CNY' },
        payer: { openid: 'o-payer' },
    });

    async function lastNotification(countBefore, n = 1) {
        assert.equal(received.wechat.length, countBefore + n);
        const got = received.wechat[received.wechat.length - 1];
        return { ...got, json: JSON.parse(got.body) };
    }

    test('a signed create answers a prepay_id with a verifying response signature; the same order again the same prepay_id', async () => {
        const r = await api('POST', '/v3/pay/transactions/jsapi', order('WX-1'));
        assert.equal(r.status, 200);
        assert.match(r.json.prepay_id, /^wx/);
        assert.ok(wechatSigned(r.headers, r.text));
        const again = await api('POST', '/v3/pay/transactions/jsapi', order('WX-1'));
        assert.equal(again.json.prepay_id, r.json.prepay_id);
    });

    test('a tampered body, another serial, an old timestamp or another signed path answer 401 SIGN_ERROR', async () => {
        const body = order('WX-2');
        const tampered = [
            { signBody: JSON.stringify({ ...body, amount: { total: 1, currency: 'CNY' } }) },
            { serialNo: '0'.repeat(40) },
            { ts: Math.floor(Date.now() / 1000) - 301 },
            { signPath: '/wechatpay/v3/pay/transactions/jsapi' },
        ];
        for (const opts of tampered) {
            const r = await api('POST', '/v3/pay/transactions/jsapi', body, opts);
            assert.equal(r.status, 401, JSON.stringify(opts));
            assert.equal(r.json.code, 'SIGN_ERROR');
        }
        const log = await ok('GET', 'log');
        const refused = log.filter((e) => e.provider === 'wechatpay' && e.status === 401);
        assert.equal(refused.length, tampered.length);
        assert.ok(refused.every((e) => e.verified === false && typeof e.error === 'string'));
    });

    test('missing fields answer 400 PARAM_ERROR; an unknown trade 404 ORDER_NOT_EXIST', async () => {
        const { payer: _payer, ...noPayer } = order('WX-3');
        const r = await api('POST', '/v3/pay/transactions/jsapi', noPayer);
        assert.equal(r.status, 400);
        assert.equal(r.json.code, 'PARAM_ERROR');
        const q = await api('GET', `/v3/pay/transactions/out-trade-no/WX-none?mchid=${MCHID}`);
        assert.equal(q.status, 404);
        assert.equal(q.json.code, 'ORDER_NOT_EXIST');
    });

    test('the rider pay parameters verify with the merchant key; a changed one does not', async () => {
        const { json } = await api('POST', '/v3/pay/transactions/jsapi', order('WX-4'));
        const p = {
            appId: APPID,
            timeStamp: String(Math.floor(Date.now() / 1000)),
            nonceStr: randomBytes(16).toString('hex'),
            package: `prepay_id=${json.prepay_id}`,
            signType: 'RSA',
        };
        p.paySign = rsa2Sign(stub.merchantKey, `${p.appId}\n${p.timeStamp}\n${p.nonceStr}\n${p.package}\n`);
        assert.equal((await ok('POST', 'wechatpay/verify-pay-params', p)).valid, true);
        assert.equal((await ok('POST', 'wechatpay/verify-pay-params', { ...p, nonceStr: 'x' })).valid, false);
    });

    test('paying notifies the order notify_url, signed and encrypted; the query shows SUCCESS', async () => {
        await api('POST', '/v3/pay/transactions/jsapi', order('WX-5', 500));
        const n = received.wechat.length;
        const paid = await ok('POST', 'wechatpay/pay', { out_trade_no: 'WX-5' });
        assert.match(paid.transaction_id, /^4200\d{24}$/);
        assert.deepEqual(paid.deliveries, [{ status: 204, body: '' }]);
        const note = await lastNotification(n);
        assert.ok(wechatSigned(note.headers, note.body));
        assert.equal(note.json.event_type, 'TRANSACTION.SUCCESS');
        assert.equal(note.json.resource.algorithm, 'AEAD_AES_256_GCM');
        assert.equal(note.json.resource.associated_data, 'transaction');
        assert.equal(note.json.resource.nonce.length, 12);
        const t = decrypt(note.json.resource);
        assert.equal(t.out_trade_no, 'WX-5');
        assert.equal(t.transaction_id, paid.transaction_id);
        assert.equal(t.trade_state, 'SUCCESS');
        assert.equal(t.mchid, MCHID);
        assert.equal(t.appid, APPID);
        assert.deepEqual(t.amount, { total: 500, payer_total: 500, currency: 'CNY', payer_currency: 'CNY' });
        const q = await api('GET', `/v3/pay/transactions/out-trade-no/WX-5?mchid=${MCHID}`);
        assert.ok(wechatSigned(q.headers, q.text));
        assert.equal(q.json.trade_state, 'SUCCESS');
        const close = await api('POST', '/v3/pay/transactions/out-trade-no/WX-5/close', { mchid: MCHID });
        assert.equal(close.status, 400);
        assert.equal(close.json.code, 'ORDERPAID');
    });

    test('each tamper mode notifies what it says, signed correctly but for "signature"; the trade stays NOTPAY', async () => {
        for (const tamper of TAMPERS) {
            const no = `WX-T-${tamper}`;
            await api('POST', '/v3/pay/transactions/jsapi', order(no, 700));
            const n = received.wechat.length;
            await ok('POST', 'wechatpay/pay', { out_trade_no: no, tamper });
            const note = await lastNotification(n);
            assert.equal(wechatSigned(note.headers, note.body), tamper !== 'signature', tamper);
            const t = decrypt(note.json.resource);
            const expect = {
                signature: () => assert.equal(t.trade_state, 'SUCCESS'),
                mchid: () => assert.notEqual(t.mchid, MCHID),
                appid: () => assert.notEqual(t.appid, APPID),
                amount: () => assert.equal(t.amount.total, 701),
                currency: () => assert.equal(t.amount.currency, 'USD'),
                state: () => assert.equal(t.trade_state, 'NOTPAY'),
                unknown_order: () => assert.notEqual(t.out_trade_no, no),
            };
            expect[tamper]();
            const q = await api('GET', `/v3/pay/transactions/out-trade-no/${no}?mchid=${MCHID}`);
            assert.equal(q.json.trade_state, 'NOTPAY', tamper);
        }
    });

    test('deliver:false pays without a notification; times:3 concurrent delivers three', async () => {
        await api('POST', '/v3/pay/transactions/jsapi', order('WX-6'));
        const n = received.wechat.length;
        const quiet = await ok('POST', 'wechatpay/pay', { out_trade_no: 'WX-6', deliver: false });
        assert.deepEqual(quiet.deliveries, []);
        assert.equal(received.wechat.length, n);
        const q = await api('GET', `/v3/pay/transactions/out-trade-no/WX-6?mchid=${MCHID}`);
        assert.equal(q.json.trade_state, 'SUCCESS');
        await api('POST', '/v3/pay/transactions/jsapi', order('WX-7'));
        const loud = await ok('POST', 'wechatpay/pay', { out_trade_no: 'WX-7', times: 3, concurrent: true });
        assert.equal(loud.deliveries.length, 3);
        assert.equal(received.wechat.length, n + 3);
    });

    test('an unpaid trade closes with 204 and a signed empty body', async () => {
        await api('POST', '/v3/pay/transactions/jsapi', order('WX-8'));
        const r = await api('POST', '/v3/pay/transactions/out-trade-no/WX-8/close', { mchid: MCHID });
        assert.equal(r.status, 204);
        assert.ok(wechatSigned(r.headers, ''));
        const q = await api('GET', `/v3/pay/transactions/out-trade-no/WX-8?mchid=${MCHID}`);
        assert.equal(q.json.trade_state, 'CLOSED');
    });

    test('a refund is PROCESSING until settled, then notified (REFUND.SUCCESS) and queried SUCCESS', async () => {
        await api('POST', '/v3/pay/transactions/jsapi', order('WX-9', 1000));
        const { transaction_id } = await ok('POST', 'wechatpay/pay', { out_trade_no: 'WX-9' });
        const refund = (no, amount) => ({
            transaction_id,
            out_trade_no: 'WX-9',
            out_refund_no: no,
            reason: 'unused balance',
            notify_url: `${notifyBase}/wechat`,
            amount: { refund: amount, total: 1000, currency: 'CNY' },
        });
        const r = await api('POST', '/v3/refund/domestic/refunds', refund('WXR-1', 400));
        assert.equal(r.status, 200);
        assert.ok(wechatSigned(r.headers, r.text));
        assert.equal(r.json.status, 'PROCESSING');
        assert.equal(r.json.amount.refund, 400);
        const again = await api('POST', '/v3/refund/domestic/refunds', refund('WXR-1', 400));
        assert.equal(again.json.refund_id, r.json.refund_id);
        const tooMuch = await api('POST', '/v3/refund/domestic/refunds', refund('WXR-2', 601));
        assert.equal(tooMuch.status, 400);
        assert.equal(tooMuch.json.code, 'INVALID_REQUEST');
        await ok('POST', 'wechatpay/refund-mode', { mode: 'reject' });
        const rejected = await api('POST', '/v3/refund/domestic/refunds', refund('WXR-3', 100));
        assert.equal(rejected.status, 403);
        assert.equal(rejected.json.code, 'NOT_ENOUGH');
        await ok('POST', 'wechatpay/refund-mode', { mode: 'processing' });

        const n = received.wechat.length;
        const settled = await ok('POST', 'wechatpay/refunds/WXR-1/settle', { status: 'SUCCESS' });
        assert.equal(settled.deliveries.length, 1);
        const note = await lastNotification(n);
        assert.ok(wechatSigned(note.headers, note.body));
        assert.equal(note.json.event_type, 'REFUND.SUCCESS');
        assert.equal(note.json.resource.original_type, 'refund');
        const plain = decrypt(note.json.resource);
        assert.equal(plain.out_refund_no, 'WXR-1');
        assert.equal(plain.refund_status, 'SUCCESS');
        assert.equal(plain.amount.refund, 400);
        const q = await api('GET', '/v3/refund/domestic/refunds/WXR-1');
        assert.equal(q.json.status, 'SUCCESS');
        const missing = await api('GET', '/v3/refund/domestic/refunds/WXR-none');
        assert.equal(missing.status, 404);
        const view = await ok('GET', 'wechatpay/trades/WX-9');
        assert.equal(view.request.out_trade_no, 'WX-9');
        assert.equal(view.trade.trade_state, 'REFUND');
        assert.equal(view.refunds.length, 1);
    });

    test('the stub verified every request but the ones tampered on purpose', async () => {
        const log = await ok('GET', 'log');
        const wx = log.filter((e) => e.provider === 'wechatpay');
        assert.ok(wx.length > 10);
        assert.equal(wx.filter((e) => !e.verified).length, 4); // the four refused above
    });
});

// ---- §3 Alipay ----

describe('Alipay open API', () => {
    const APP_ID = '2021000000000001';
    const SELLER_ID = '2088000000000001';

    const beijingNow = () => new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 19).replace('T', ' ');

    // Alipay's sign content: non-empty params but the excluded ones, sorted by name, k=v raw, '&'.
    function content(params, exclude) {
        return Object.keys(params)
            .filter((k) => !exclude.includes(k) && params[k] !== '')
            .sort()
            .map((k) => `${k}=${params[k]}`)
            .join('&');
    }

    async function gateway(method, biz, extra = {}, { tamper = false } = {}) {
        const p = {
            app_id: APP_ID,
            method,
            format: 'JSON',
            charset: 'utf-8',
            sign_type: 'RSA2',
            timestamp: beijingNow(),
            version: '1.0',
            ...extra,
        };
        if (biz !== undefined) p.biz_content = JSON.stringify(biz);
        p.sign = rsa2Sign(stub.alipayAppKey, content(p, ['sign']));
        if (tamper) p.biz_content = p.biz_content.replace('"}', ' "}');
        const form = Object.entries(p)
            .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
            .join('&');
        const r = await call('POST', '/alipay/gateway.do', {
            headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8' },
            body: form,
        });
        // The response member's exact text: between the member's colon and ',"sign":'.
        const member = Object.keys(JSON.parse(r.text)).find((k) => k !== 'sign');
        const start = r.text.indexOf(`"${member}":`) + member.length + 3;
        const end = r.text.lastIndexOf(',"sign":"');
        const text = r.text.slice(start, end);
        const signed = rsa2Verify(stub.alipayKey, text, JSON.parse(r.text).sign);
        return { member, signed, json: JSON.parse(text) };
    }

    function notified(countBefore) {
        assert.equal(received.alipay.length, countBefore + 1);
        const { headers, body } = received.alipay[received.alipay.length - 1];
        assert.match(headers['content-type'], /^application\/x-www-form-urlencoded/);
        const p = Object.fromEntries(new URLSearchParams(body));
        const signed = rsa2Verify(stub.alipayKey, content(p, ['sign', 'sign_type']), p.sign);
        return { p, signed };
    }

    const create = (no, amount = '12.34') =>
        gateway(
            'alipay.trade.create',
            {
                out_trade_no: no,
                total_amount: amount,
                subject: 'PileHub charging',
                buyer_id: '2088000000000777',
                product_code: 'JSAPI_PAY',
            },
            { notify_url: `${notifyBase}/alipay` },
        );

    test('oauth.token answers the code user_id once, signed; again isv.code-invalid', async () => {
        await ok('POST', 'alipay/codes', { code: 'ali-code-1', user_id: '2088000000000777' });
        const oauth = { grant_type: 'authorization_code', code: 'ali-code-1' };
        const r = await gateway('alipay.system.oauth.token', undefined, oauth);
        assert.ok(r.signed);
        assert.equal(r.member, 'alipay_system_oauth_token_response');
        assert.equal(r.json.user_id, '2088000000000777');
        assert.equal(typeof r.json.access_token, 'string');
        const again = await gateway('alipay.system.oauth.token', undefined, oauth);
        assert.equal(again.member, 'error_response');
        assert.equal(again.json.sub_code, 'isv.code-invalid');
    });

    test('a tampered request answers isv.invalid-signature', async () => {
        const r = await gateway('alipay.trade.query', { out_trade_no: 'ALI-none' }, {}, { tamper: true });
        assert.equal(r.member, 'error_response');
        assert.equal(r.json.code, '40002');
        assert.equal(r.json.sub_code, 'isv.invalid-signature');
    });

    test('create, query WAIT_BUYER_PAY, pay: a signed form notification, TRADE_SUCCESS', async () => {
        const c = await create('ALI-1');
        assert.ok(c.signed);
        assert.equal(c.json.code, '10000');
        assert.equal(c.json.out_trade_no, 'ALI-1');
        const q = await gateway('alipay.trade.query', { out_trade_no: 'ALI-1' });
        assert.equal(q.json.trade_status, 'WAIT_BUYER_PAY');
        assert.equal(q.json.total_amount, '12.34');
        const n = received.alipay.length;
        const paid = await ok('POST', 'alipay/pay', { out_trade_no: 'ALI-1' });
        assert.deepEqual(paid.deliveries, [{ status: 200, body: 'success' }]);
        const { p, signed } = notified(n);
        assert.ok(signed);
        assert.equal(p.notify_type, 'trade_status_sync');
        assert.equal(p.app_id, APP_ID);
        assert.equal(p.seller_id, SELLER_ID);
        assert.equal(p.trade_status, 'TRADE_SUCCESS');
        assert.equal(p.total_amount, '12.34');
        assert.equal(p.trade_no, c.json.trade_no);
        assert.equal(p.trans_currency, undefined);
        assert.match(p.gmt_payment, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
        const q2 = await gateway('alipay.trade.query', { out_trade_no: 'ALI-1' });
        assert.equal(q2.json.trade_status, 'TRADE_SUCCESS');
        const close = await gateway('alipay.trade.close', { out_trade_no: 'ALI-1' });
        assert.equal(close.json.sub_code, 'ACQ.TRADE_STATUS_ERROR');
        const unknown = await gateway('alipay.trade.query', { out_trade_no: 'ALI-none' });
        assert.equal(unknown.json.sub_code, 'ACQ.TRADE_NOT_EXIST');
    });

    test('each tamper mode notifies what it says; the trade stays WAIT_BUYER_PAY', async () => {
        for (const tamper of TAMPERS) {
            const no = `ALI-T-${tamper}`;
            await create(no, '7.00');
            const n = received.alipay.length;
            await ok('POST', 'alipay/pay', { out_trade_no: no, tamper });
            const { p, signed } = notified(n);
            assert.equal(signed, tamper !== 'signature', tamper);
            const expect = {
                signature: () => assert.equal(p.trade_status, 'TRADE_SUCCESS'),
                mchid: () => assert.notEqual(p.seller_id, SELLER_ID),
                appid: () => assert.notEqual(p.app_id, APP_ID),
                amount: () => assert.equal(p.total_amount, '7.01'),
                currency: () => assert.equal(p.trans_currency, 'USD'),
                state: () => assert.equal(p.trade_status, 'WAIT_BUYER_PAY'),
                unknown_order: () => assert.notEqual(p.out_trade_no, no),
            };
            expect[tamper]();
            const q = await gateway('alipay.trade.query', { out_trade_no: no });
            assert.equal(q.json.trade_status, 'WAIT_BUYER_PAY', tamper);
        }
    });

    test('refunds: idempotent, too much refused, settle notifies with out_biz_no, FAILED leaves the query without refund_status', async () => {
        await create('ALI-2', '10.00');
        await ok('POST', 'alipay/pay', { out_trade_no: 'ALI-2', deliver: false });
        const refund = (no, amount) =>
            gateway('alipay.trade.refund', {
                out_trade_no: 'ALI-2',
                refund_amount: amount,
                out_request_no: no,
                refund_reason: 'unused',
            });
        const r1 = await refund('ALIR-1', '4.00');
        assert.ok(r1.signed);
        assert.equal(r1.json.code, '10000');
        assert.equal(r1.json.refund_fee, '4.00');
        assert.equal(r1.json.fund_change, 'Y');
        // The same out_request_no again: the same refund, no money moved this time.
        assert.deepEqual((await refund('ALIR-1', '4.00')).json, { ...r1.json, fund_change: 'N' });
        assert.equal((await refund('ALIR-2', '6.01')).json.sub_code, 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL');
        const queryRefund = (no) =>
            gateway('alipay.trade.fastpay.refund.query', { out_trade_no: 'ALI-2', out_request_no: no });
        assert.equal((await queryRefund('ALIR-1')).json.refund_status, undefined); // processing

        const n = received.alipay.length;
        const s = await ok('POST', 'alipay/refunds/ALIR-1/settle', { status: 'SUCCESS' });
        assert.equal(s.deliveries.length, 1);
        const { p, signed } = notified(n);
        assert.ok(signed);
        assert.equal(p.out_biz_no, 'ALIR-1');
        assert.equal(p.refund_fee, '4.00');
        assert.equal(p.trade_status, 'TRADE_SUCCESS');
        assert.ok(p.gmt_refund);
        const q = await queryRefund('ALIR-1');
        assert.equal(q.json.refund_status, 'REFUND_SUCCESS');
        assert.equal(q.json.refund_amount, '4.00');

        const r3 = await refund('ALIR-3', '6.00');
        assert.equal(r3.json.refund_fee, '10.00');
        const m = received.alipay.length;
        const f = await ok('POST', 'alipay/refunds/ALIR-3/settle', { status: 'FAILED' });
        assert.deepEqual(f.deliveries, []);
        assert.equal(received.alipay.length, m);
        const q3 = await queryRefund('ALIR-3');
        assert.equal(q3.json.code, '10000');
        assert.equal(q3.json.refund_status, undefined);
        assert.equal(q3.json.refund_amount, undefined);

        const r4 = await refund('ALIR-4', '6.00');
        await ok('POST', 'alipay/refunds/ALIR-4/settle', { status: 'SUCCESS' });
        assert.equal(r4.json.refund_fee, '10.00');
        assert.equal(notified(m).p.trade_status, 'TRADE_CLOSED'); // fully refunded
        const view = await ok('GET', 'alipay/trades/ALI-2');
        assert.equal(view.refunds.length, 3);

        await ok('POST', 'alipay/refund-mode', { mode: 'reject' });
        await create('ALI-3', '1.00');
        await ok('POST', 'alipay/pay', { out_trade_no: 'ALI-3', deliver: false });
        const rejected = await gateway('alipay.trade.refund', {
            out_trade_no: 'ALI-3',
            refund_amount: '1.00',
            out_request_no: 'ALIR-5',
        });
        assert.equal(rejected.json.code, '40004');
        await ok('POST', 'alipay/refund-mode', { mode: 'processing' });
    });

    test('the phone text verifies with the Alipay key (ciphertext in quotes) and decrypts (AES-128-CBC, zero IV) to the mobile', async () => {
        const { phone_code } = await ok('POST', 'alipay/phone', { phone: '13800000000' });
        const t = JSON.parse(phone_code);
        assert.equal(t.sign_type, 'RSA2');
        assert.equal(t.encrypt_type, 'AES');
        // Alipay's guide: an encrypted response is verified with double quotes around the ciphertext.
        assert.ok(rsa2Verify(stub.alipayKey, `"${t.response}"`, t.sign));
        assert.equal(rsa2Verify(stub.alipayKey, t.response, t.sign), false);
        const d = createDecipheriv('aes-128-cbc', stub.alipayAes, Buffer.alloc(16));
        const plain = Buffer.concat([d.update(Buffer.from(t.response, 'base64')), d.final()]).toString('utf8');
        assert.deepEqual(JSON.parse(plain), { code: '10000', msg: 'Success', mobile: '13800000000' });
        assert.equal(rsa2Verify(stub.alipayKey, `"${t.response}"`, flipByte(t.sign)), false);
    });

    test('the stub verified every Alipay request but the tampered one', async () => {
        const log = await ok('GET', 'log');
        const ali = log.filter((e) => e.provider === 'alipay');
        assert.ok(ali.length > 10);
        assert.deepEqual(
            ali.filter((e) => !e.verified).map((e) => e.error),
            ['isv.invalid-signature: 验签出错'],
        );
    });
});

// ---- §4 Aliyun SMS ----

// RFC 3986 percent-encoding written out byte by byte (the client side; the stub has its own).
function enc(s) {
    let out = '';
    for (const b of Buffer.from(String(s), 'utf8')) {
        const c = String.fromCharCode(b);
        out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    }
    return out;
}

function clientSignature(params, secret) {
    const names = Object.keys(params).sort();
    const canonical = names.map((n) => `${enc(n)}=${enc(params[n])}`).join('&');
    return createHmac('sha1', `${secret}&`).update(`GET&${enc('/')}&${enc(canonical)}`).digest('base64');
}

describe('Aliyun SMS', () => {
    function sendParams(phone, extra = {}) {
        return {
            AccessKeyId: 'LTAI5tStubAccessKey01',
            Action: 'SendSms',
            Format: 'JSON',
            PhoneNumbers: phone,
            RegionId: 'cn-hangzhou',
            SignName: 'PileHub',
            SignatureMethod: 'HMAC-SHA1',
            SignatureNonce: randomUUID(),
            SignatureVersion: '1.0',
            TemplateCode: 'SMS_154950909',
            TemplateParam: JSON.stringify({ code: '123456' }),
            Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
            Version: '2017-05-25',
            ...extra,
        };
    }

    async function send(params, signature = clientSignature(params, stub.smsSecret)) {
        const q = Object.entries({ ...params, Signature: signature })
            .map(([k, v]) => `${enc(k)}=${enc(v)}`)
            .join('&');
        const r = await call('GET', `/aliyun-sms/?${q}`);
        return { status: r.status, json: JSON.parse(r.text) };
    }

    test('the published example signatures: both spellings of the timestamp reproduce their page', () => {
        // Alibaba Cloud "Signature mechanism" (RPC, V2), example DescribeRegions with testid/testsecret:
        // the Chinese example (developer.aliyun.com/ask/210168, and the overview URL of
        // help.aliyun.com/en/document_detail/145075.html) spells the parameter "TimeStamp" and shows
        // CT9X0VtwR86fNWSnsc6v8YGOjuE=; with the "Timestamp" spelling the APIs use (and the English
        // page's example per PROVIDERS-SPEC §4) the value is OLeaidS1JvxuMvnyHOwuJ+uX5qY=.
        const base = {
            Format: 'XML',
            AccessKeyId: 'testid',
            Action: 'DescribeRegions',
            SignatureMethod: 'HMAC-SHA1',
            SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
            Version: '2014-05-26',
            SignatureVersion: '1.0',
        };
        const chinese = { ...base, TimeStamp: '2016-02-23T12:46:24Z' };
        const english = { ...base, Timestamp: '2016-02-23T12:46:24Z' };
        assert.equal(clientSignature(chinese, 'testsecret'), 'CT9X0VtwR86fNWSnsc6v8YGOjuE=');
        assert.equal(aliyunSignature('GET', chinese, 'testsecret'), 'CT9X0VtwR86fNWSnsc6v8YGOjuE=');
        assert.equal(clientSignature(english, 'testsecret'), 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
        assert.equal(aliyunSignature('GET', english, 'testsecret'), 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
    });

    test('a signed SendSms answers OK and the message is listed with its code', async () => {
        const r = await send(sendParams('13800000042'));
        assert.equal(r.status, 200);
        assert.equal(r.json.Code, 'OK');
        assert.equal(typeof r.json.BizId, 'string');
        const msgs = await ok('GET', 'sms/messages?phone=13800000042');
        assert.equal(msgs.length, 1);
        assert.equal(msgs[0].sign_name, 'PileHub');
        assert.equal(msgs[0].template_code, 'SMS_154950909');
        assert.deepEqual(msgs[0].params, { code: '123456' });
    });

    test('a bad signature, a reused nonce, an old timestamp and an unknown key are refused', async () => {
        const p = sendParams('13800000043');
        const bad = await send(p, clientSignature({ ...p, PhoneNumbers: '13800000044' }, stub.smsSecret));
        assert.equal(bad.status, 400);
        assert.equal(bad.json.Code, 'SignatureDoesNotMatch');
        assert.equal((await send(p)).json.Code, 'OK');
        const reused = await send(p);
        assert.equal(reused.status, 400);
        assert.equal(reused.json.Code, 'SignatureNonceUsed');
        const stale = new Date(Date.now() - 16 * 60e3).toISOString().replace(/\.\d{3}Z$/, 'Z');
        const old = await send(sendParams('13800000043', { Timestamp: stale }));
        assert.equal(old.status, 400);
        assert.equal(old.json.Code, 'InvalidTimeStamp.Expired');
        const unknown = await send(sendParams('13800000043', { AccessKeyId: 'LTAI5tSomeoneElse' }));
        assert.equal(unknown.status, 404);
        assert.equal(unknown.json.Code, 'InvalidAccessKeyId.NotFound');
        assert.equal((await ok('GET', 'sms/messages?phone=13800000043')).length, 1);
    });

    test('a forced failure answers 200 with its Code and sends nothing', async () => {
        await ok('POST', 'sms/mode', { fail: 'isv.BUSINESS_LIMIT_CONTROL' });
        const r = await send(sendParams('13800000045'));
        assert.equal(r.status, 200);
        assert.equal(r.json.Code, 'isv.BUSINESS_LIMIT_CONTROL');
        await ok('POST', 'sms/mode', { fail: null });
        assert.deepEqual(await ok('GET', 'sms/messages?phone=13800000045'), []);
    });
});

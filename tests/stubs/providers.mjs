#!/usr/bin/env node
// The provider stub for tests: WeChat mini-program login, WeChat Pay API v3, Alipay open API and
// Aliyun SMS on one loopback port, each under its prefix, with a JSON control API under /_stub/.
//
//   node tests/stubs/providers.mjs --dir DIR [--port 0]
//
// Generates every key and secret fresh, writes them and providers.conf into DIR (mode 0600), prints
// one line {"port":N,"config":"DIR/providers.conf"} and serves until SIGTERM, or until its stdin
// closes when stdin is a pipe.
// Node 20 built-in modules only. The protocols: PROVIDERS-SPEC (issue 13), tests/stubs/README.md.
import { generateKeyPair, randomBytes } from 'node:crypto';
import { chmodSync, fstatSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createAlipay, APP_ID as ALIPAY_APP_ID, SELLER_ID } from './alipay.mjs';
import { createAliyunSms, ACCESS_KEY_ID, SIGN_NAME, TEMPLATE_CODE } from './aliyun_sms.mjs';
import { BadCall, jsonReply, randomDigits, randomHex, randomString, readBody } from './common.mjs';
import { createWechatLogin, APPID } from './wechat_login.mjs';
import { createWechatPay, MCHID } from './wechatpay.mjs';

function parseArgs(argv) {
    const args = { dir: null, port: 0 };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === '--dir') args.dir = argv[++i];
        else if (a === '--port') args.port = Number(argv[++i]);
        else throw new Error(`unknown argument ${a}`);
    }
    if (!args.dir) throw new Error('usage: providers.mjs --dir DIR [--port 0]');
    if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) throw new Error('bad --port');
    return args;
}

const rsaPair = () =>
    promisify(generateKeyPair)('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });

function writeSecret(dir, name, text) {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    chmodSync(path, 0o600); // mode applies only when the file is created
    return path;
}

// Keys and secrets of one run: every one fresh.
async function makeKeys() {
    const [merchant, platform, alipayApp, alipay] = await Promise.all([rsaPair(), rsaPair(), rsaPair(), rsaPair()]);
    return {
        wechatSecret: randomHex(32),
        merchant,
        merchantSerial: randomHex(40).toUpperCase(),
        apiv3Key: randomString(32),
        platform,
        platformSerial: `PUB_KEY_ID_${randomDigits(28)}`,
        alipayApp,
        alipay,
        alipayAesKey: randomBytes(16).toString('base64'),
        smsSecret: randomString(30),
    };
}

function writeFiles(dir, port, k) {
    const f = {
        wechatSecret: writeSecret(dir, 'wechat-secret', k.wechatSecret),
        merchantKey: writeSecret(dir, 'wechatpay-merchant-key.pem', k.merchant.privateKey),
        apiv3Key: writeSecret(dir, 'wechatpay-apiv3.key', k.apiv3Key),
        platformPublic: writeSecret(dir, 'wechatpay-platform-public.pem', k.platform.publicKey),
        alipayAppPrivate: writeSecret(dir, 'alipay-app-private.pem', k.alipayApp.privateKey),
        alipayPublic: writeSecret(dir, 'alipay-public.pem', k.alipay.publicKey),
        alipayAes: writeSecret(dir, 'alipay-aes.key', k.alipayAesKey),
        smsSecret: writeSecret(dir, 'aliyun-sms-secret', k.smsSecret),
    };
    const base = `http://127.0.0.1:${port}`;
    const conf = [
        `pilehub-api.wechat.appid = ${APPID}`,
        `pilehub-api.wechat.secret_file = ${f.wechatSecret}`,
        `pilehub-api.wechat.base_url = ${base}/wechat`,
        `pilehub-api.wechatpay.mchid = ${MCHID}`,
        `pilehub-api.wechatpay.merchant_serial = ${k.merchantSerial}`,
        `pilehub-api.wechatpay.merchant_key_file = ${f.merchantKey}`,
        `pilehub-api.wechatpay.apiv3_key_file = ${f.apiv3Key}`,
        `pilehub-api.wechatpay.platform_public_key_file = ${f.platformPublic}`,
        `pilehub-api.wechatpay.platform_serial = ${k.platformSerial}`,
        `pilehub-api.wechatpay.base_url = ${base}/wechatpay`,
        `pilehub-api.alipay.app_id = ${ALIPAY_APP_ID}`,
        `pilehub-api.alipay.seller_id = ${SELLER_ID}`,
        `pilehub-api.alipay.app_private_key_file = ${f.alipayAppPrivate}`,
        `pilehub-api.alipay.alipay_public_key_file = ${f.alipayPublic}`,
        `pilehub-api.alipay.aes_key_file = ${f.alipayAes}`,
        `pilehub-api.alipay.gateway_url = ${base}/alipay/gateway.do`,
        `pilehub-api.sms.provider = aliyun`,
        `pilehub-api.sms.access_key_id = ${ACCESS_KEY_ID}`,
        `pilehub-api.sms.access_key_secret_file = ${f.smsSecret}`,
        `pilehub-api.sms.sign_name = ${SIGN_NAME}`,
        `pilehub-api.sms.template_code = ${TEMPLATE_CODE}`,
        `pilehub-api.sms.endpoint = ${base}/aliyun-sms/`,
    ];
    return writeSecret(dir, 'providers.conf', conf.join('\n') + '\n');
}

// A control table's entry for "METHOD rest": the exact key, else a key whose one '*' segment
// stands for a non-empty path segment (handed to the entry as its third argument, decoded).
function findControl(table, method, rest) {
    const exact = table[`${method} ${rest}`];
    if (exact) return { fn: exact, param: undefined };
    const segs = rest.split('/');
    for (const [key, fn] of Object.entries(table)) {
        const [m, pattern] = key.split(' ');
        const ps = pattern.split('/');
        const star = ps.indexOf('*');
        if (m !== method || star < 0 || ps.length !== segs.length || segs[star] === '') continue;
        if (ps.every((p, i) => p === '*' || p === segs[i])) return { fn, param: decodeURIComponent(segs[star]) };
    }
    return null;
}

function makeRouter(providers) {
    const log = [];

    async function control(method, url, bodyText) {
        const rest = url.pathname.slice('/_stub/'.length);
        if (method === 'GET' && rest === 'log') return jsonReply(200, log);
        const slash = rest.indexOf('/');
        const table = slash < 0 ? null : providers[rest.slice(0, slash)]?.control;
        const found = table ? findControl(table, method, rest.slice(slash + 1)) : null;
        if (!found) return jsonReply(404, { error: `no control ${method} /_stub/${rest}` });
        let body = {};
        if (bodyText.length > 0) {
            try {
                body = JSON.parse(bodyText);
            } catch {
                return jsonReply(400, { error: 'body is not JSON' });
            }
            if (body === null || typeof body !== 'object' || Array.isArray(body))
                return jsonReply(400, { error: 'body must be a JSON object' });
        }
        try {
            return jsonReply(200, await found.fn(body, url, found.param));
        } catch (e) {
            if (e instanceof BadCall) return jsonReply(400, { error: e.message });
            return jsonReply(500, { error: String(e?.stack ?? e) });
        }
    }

    // A provider request: {provider, r: {reply, verified, error}} or null (no such path).
    function provider(method, url, raw, headers, bodyText) {
        const p = url.pathname;
        const query = url.search.slice(1);
        if (p.startsWith('/wechat/')) {
            const r = providers.wechat.handle(method, p.slice('/wechat'.length), query, bodyText);
            return r && { provider: 'wechat', r };
        }
        if (p.startsWith('/wechatpay/')) {
            const r = providers.wechatpay.handle(method, raw.slice('/wechatpay'.length), headers, bodyText);
            return r && { provider: 'wechatpay', r };
        }
        if (p === '/alipay/gateway.do' && (method === 'POST' || method === 'GET'))
            return { provider: 'alipay', r: providers.alipay.handle(method, query, headers, bodyText) };
        if ((p === '/aliyun-sms/' || p === '/aliyun-sms') && (method === 'GET' || method === 'POST'))
            return { provider: 'sms', r: providers.sms.handle(method, query, bodyText) };
        return null;
    }

    // The request path for the log, the AppSecret of a WeChat query left out.
    const logged = (raw) => raw.replace(/([?&]secret=)[^&]*/, '$1***');

    return async function route(req) {
        const raw = req.url;
        const url = new URL(raw, 'http://127.0.0.1');
        const bodyText = (await readBody(req)).toString('utf8');
        if (url.pathname.startsWith('/_stub/')) return control(req.method, url, bodyText);
        const found = provider(req.method, url, raw, req.headers, bodyText);
        const name = ['wechat', 'wechatpay', 'alipay', 'aliyun-sms'].find((x) => url.pathname.startsWith(`/${x}/`));
        if (!found) {
            const out = jsonReply(404, { error: `no such path ${req.method} ${url.pathname}` });
            log.push({
                provider: name === 'aliyun-sms' ? 'sms' : (name ?? 'none'),
                method: req.method,
                path: logged(raw),
                status: 404,
                verified: false,
                error: 'no such path',
            });
            return out;
        }
        const entry = {
            provider: found.provider,
            method: req.method,
            path: logged(raw),
            status: found.r.reply.status,
            verified: found.r.verified,
        };
        if (found.r.error) entry.error = found.r.error;
        log.push(entry);
        return found.r.reply;
    };
}

async function main() {
    const args = parseArgs(process.argv.slice(2));
    const dir = resolve(args.dir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const k = await makeKeys();
    const providers = {
        wechat: createWechatLogin({ secret: k.wechatSecret }),
        wechatpay: createWechatPay({
            merchantPublicKey: k.merchant.publicKey,
            platformPrivateKey: k.platform.privateKey,
            apiv3Key: k.apiv3Key,
            merchantSerial: k.merchantSerial,
            platformSerial: k.platformSerial,
        }),
        alipay: createAlipay({
            appPublicKey: k.alipayApp.publicKey,
            alipayPrivateKey: k.alipay.privateKey,
            aesKey: Buffer.from(k.alipayAesKey, 'base64'),
        }),
        sms: createAliyunSms({ secret: k.smsSecret }),
    };
    const route = makeRouter(providers);
    const server = createServer((req, res) => {
        route(req).then(
            (out) => {
                res.writeHead(out.status, { ...out.headers, 'Content-Length': Buffer.byteLength(out.body, 'utf8') });
                res.end(out.body);
            },
            (e) => {
                res.writeHead(500, { 'Content-Type': 'application/json' });
                res.end(JSON.stringify({ error: String(e?.stack ?? e) }));
            },
        );
    });
    server.keepAliveTimeout = 1000;
    await new Promise((ok, fail) => {
        server.once('error', fail);
        server.listen(args.port, '127.0.0.1', ok);
    });
    const port = server.address().port;
    const config = writeFiles(dir, port, k);
    process.stdout.write(JSON.stringify({ port, config }) + '\n');

    const stop = () => {
        server.close();
        server.closeAllConnections();
        process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    // Its stdin closing stops it when stdin is a pipe or socket (the parent holds the other end);
    // /dev/null (what tests/support's Process gives every child), a file or a terminal is not
    // watched: SIGTERM stops it then.
    const stdin = fstatSync(0);
    if (stdin.isFIFO() || stdin.isSocket()) {
        process.stdin.on('end', stop);
        process.stdin.on('close', stop);
        process.stdin.resume();
    }
}

main().catch((e) => {
    process.stderr.write(`providers.mjs: ${e?.stack ?? e}\n`);
    process.exit(1);
});

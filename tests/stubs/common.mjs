// Shared pieces of the provider stub (providers.mjs): random values, the providers' time and
// money formats, HTTP replies, and the delivery of notifications to a loopback notify_url.
// Node 20 built-in modules only.
import { createSign, createVerify, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { request } from 'node:http';

export const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// n characters drawn uniformly from alphabet (crypto.randomInt, no modulo bias).
export function randomString(n, alphabet = ALNUM) {
    let out = '';
    for (let i = 0; i < n; i++) out += alphabet[randomInt(alphabet.length)];
    return out;
}

export function randomDigits(n) {
    return randomString(n, '0123456789');
}

export function randomHex(n) {
    return randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n);
}

export { randomUUID };

// ---- times ----

function pad(n, w = 2) {
    return String(n).padStart(w, '0');
}

// The wall-clock fields of ms in Beijing time (UTC+8, no daylight saving).
function beijing(ms) {
    const d = new Date(ms + 8 * 3600 * 1000);
    return {
        y: d.getUTCFullYear(),
        mo: pad(d.getUTCMonth() + 1),
        d: pad(d.getUTCDate()),
        h: pad(d.getUTCHours()),
        mi: pad(d.getUTCMinutes()),
        s: pad(d.getUTCSeconds()),
        ms: pad(d.getUTCMilliseconds(), 3),
    };
}

// WeChat Pay: RFC 3339 with the +08:00 offset, "2026-12-07T15:04:05+08:00".
export function rfc3339Beijing(ms = Date.now()) {
    const t = beijing(ms);
    return `${t.y}-${t.mo}-${t.d}T${t.h}:${t.mi}:${t.s}+08:00`;
}

// Alipay: "yyyy-MM-dd HH:mm:ss" in Beijing time (withMillis: ".SSS" appended, as gmt_refund).
export function alipayTime(ms = Date.now(), withMillis = false) {
    const t = beijing(ms);
    const base = `${t.y}-${t.mo}-${t.d} ${t.h}:${t.mi}:${t.s}`;
    return withMillis ? `${base}.${t.ms}` : base;
}

// Alipay's timestamp parameter back to epoch ms, or null when it is not "yyyy-MM-dd HH:mm:ss".
export function parseAlipayTime(text) {
    const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text ?? '');
    if (!m) return null;
    const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
    const ms = Date.UTC(y, mo - 1, d, h, mi, s) - 8 * 3600 * 1000;
    return Number.isNaN(ms) ? null : ms;
}

export function yyyymmddBeijing(ms = Date.now()) {
    const t = beijing(ms);
    return `${t.y}${t.mo}${t.d}`;
}

export function nowSeconds() {
    return Math.floor(Date.now() / 1000);
}

// ---- money: integer fen inside, Alipay's yuan strings outside, never a float ----

export function fenToYuan(fen) {
    if (!Number.isSafeInteger(fen) || fen < 0) throw new Error(`bad amount ${fen}`);
    return `${Math.floor(fen / 100)}.${pad(fen % 100)}`;
}

// "12.34", "12.3", "12" -> fen; null for anything else (signs, exponents, 3 decimals, spaces).
export function yuanToFen(text) {
    const m = /^(0|[1-9]\d{0,11})(?:\.(\d{1,2}))?$/.exec(typeof text === 'string' ? text : '');
    if (!m) return null;
    return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

// ---- HTTP ----

export function readBody(req) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => resolve(Buffer.concat(chunks)));
        req.on('error', reject);
    });
}

// A reply the router writes: status, headers, body text (UTF-8).
export function reply(status, body = '', headers = {}) {
    return { status, body, headers };
}

export function jsonReply(status, obj, headers = {}) {
    return reply(status, JSON.stringify(obj), {
        'Content-Type': 'application/json; charset=utf-8',
        ...headers,
    });
}

// application/x-www-form-urlencoded (and query strings) to [name, value] pairs, in order; '+' is a
// space. Malformed percent-escapes throw (the callers answer that as a bad request).
export function parseForm(text) {
    const pairs = [];
    if (!text) return pairs;
    for (const part of text.split('&')) {
        if (part === '') continue;
        const eq = part.indexOf('=');
        const rawName = eq < 0 ? part : part.slice(0, eq);
        const rawValue = eq < 0 ? '' : part.slice(eq + 1);
        const dec = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
        pairs.push([dec(rawName), dec(rawValue)]);
    }
    return pairs;
}

export function formEncode(params) {
    return Object.entries(params)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
        .join('&');
}

// ---- notifications: loopback only ----

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

// null when url is an http(s) URL on a loopback host, else why not.
export function loopbackUrlProblem(url) {
    let u;
    try {
        u = new URL(url);
    } catch {
        return 'notify_url is not a URL';
    }
    if (u.protocol !== 'http:') return 'notify_url must be http:// on loopback (stub)';
    if (!LOOPBACK.has(u.hostname)) return `notify_url host ${u.hostname} is not loopback`;
    return null;
}

// POSTs body to a loopback url; resolves {status, body} (status 0 and error when it failed).
export function deliver(url, headers, body, timeoutMs = 10000) {
    const problem = loopbackUrlProblem(url);
    if (problem) return Promise.resolve({ status: 0, body: '', error: problem });
    return new Promise((resolve) => {
        const data = Buffer.from(body, 'utf8');
        const req = request(
            url,
            {
                method: 'POST',
                headers: { ...headers, 'Content-Length': data.length },
                timeout: timeoutMs,
            },
            (res) => {
                const chunks = [];
                res.on('data', (c) => chunks.push(c));
                res.on('end', () =>
                    resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }),
                );
                res.on('error', (e) => resolve({ status: 0, body: '', error: e.message }));
            },
        );
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', (e) => resolve({ status: 0, body: '', error: e.message }));
        req.end(data);
    });
}

// times deliveries of the same notification, all at once (concurrent) or one after another.
export async function deliverTimes(times, concurrent, send) {
    const n = Number.isSafeInteger(times) && times > 0 ? times : 1;
    if (concurrent) return Promise.all(Array.from({ length: n }, () => send()));
    const out = [];
    for (let i = 0; i < n; i++) out.push(await send());
    return out;
}

// A control call's bad argument: the router answers 400 {"error": message}.
export class BadCall extends Error {}

export function nonEmptyString(v, name) {
    if (typeof v !== 'string' || v === '') throw new BadCall(`${name} must be a non-empty string`);
    return v;
}

// ---- signatures (SHA256withRSA, PKCS#1 v1.5, base64: WeChat Pay v3 and Alipay RSA2) ----

export function rsaSign(privateKey, text) {
    return createSign('RSA-SHA256').update(text, 'utf8').sign(privateKey, 'base64');
}

export function rsaVerify(publicKey, text, signatureB64) {
    try {
        return createVerify('RSA-SHA256').update(text, 'utf8').verify(publicKey, signatureB64, 'base64');
    } catch {
        return false;
    }
}

// The signature with one byte flipped (tamper mode "signature").
export function flipSignature(b64) {
    const sig = Buffer.from(b64, 'base64');
    sig[sig.length >> 1] ^= 0x01;
    return sig.toString('base64');
}

// ---- the pay control call, the same for both payment providers ----

export const TAMPERS = ['none', 'signature', 'mchid', 'appid', 'amount', 'currency', 'state', 'unknown_order'];

// {"out_trade_no","tamper"?} of POST /_stub/<provider>/pay checked: the trade and the tamper mode.
export function payCall(trades, b) {
    const t = trades.get(b.out_trade_no);
    if (!t) throw new BadCall(`no trade ${b.out_trade_no}`);
    const tamper = b.tamper ?? 'none';
    if (!TAMPERS.includes(tamper)) throw new BadCall(`tamper must be one of ${TAMPERS.join(' ')}`);
    return { t, tamper };
}

// {"mode"} of POST /_stub/<provider>/refund-mode checked: what new refunds answer.
export function refundModeCall(b) {
    if (!['processing', 'success', 'reject'].includes(b.mode))
        throw new BadCall('mode must be processing, success or reject');
    return b.mode;
}

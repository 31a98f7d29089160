// Aliyun SMS (dysmsapi, RPC style, signature version 1.0) for the provider stub: SendSms verified
// as the POP gateway does (AccessKeyId, Timestamp window, Signature, SignatureNonce reuse), the
// messages kept in memory. The signature functions are exported for the tests.
//
// Follows Alibaba Cloud "Signature mechanism" (RPC, HMAC-SHA1) and the SendSms API reference.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { BadCall, jsonReply, parseForm, randomDigits, randomUUID } from './common.mjs';

export const ACCESS_KEY_ID = 'LTAI5tStubAccessKey01';
export const SIGN_NAME = 'PileHub';
export const TEMPLATE_CODE = 'SMS_154950909';
const WINDOW_MS = 15 * 60 * 1000;

// RFC 3986: A-Z a-z 0-9 - _ . ~ kept, every other UTF-8 byte %XX upper-case.
export function percentEncode(s) {
    return encodeURIComponent(String(s)).replace(
        /[!'()*]/g,
        (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
    );
}

// "GET&%2F&" + enc(CanonicalizedQuery); params: {name: value} without Signature.
export function stringToSign(method, params) {
    const canonical = Object.keys(params)
        .sort()
        .map((k) => `${percentEncode(k)}=${percentEncode(params[k])}`)
        .join('&');
    return `${method}&${percentEncode('/')}&${percentEncode(canonical)}`;
}

export function aliyunSignature(method, params, secret) {
    return createHmac('sha1', `${secret}&`)
        .update(stringToSign(method, params), 'utf8')
        .digest('base64');
}

function sameText(a, b) {
    const x = Buffer.from(a, 'utf8');
    const y = Buffer.from(b, 'utf8');
    return x.length === y.length && timingSafeEqual(x, y);
}

const REQUIRED = [
    'AccessKeyId',
    'Action',
    'Format',
    'SignatureMethod',
    'SignatureNonce',
    'SignatureVersion',
    'Timestamp',
    'Version',
    'Signature',
];

export function createAliyunSms({ secret }) {
    const nonces = new Map(); // nonce -> ms first seen
    const messages = [];
    let failCode = null;

    function error(status, code, message, requestId = randomUUID().toUpperCase()) {
        return jsonReply(status, {
            RequestId: requestId,
            HostId: 'dysmsapi.aliyuncs.com',
            Code: code,
            Message: message,
        });
    }

    // One gateway request: method GET (query) or POST (form body). Returns {reply, verified, error}.
    function handle(method, query, bodyText) {
        let pairs;
        try {
            pairs = parseForm(method === 'POST' ? bodyText : query);
        } catch {
            return fail(400, 'InvalidParameter', 'The request is not well-formed URL encoding.');
        }
        const params = {};
        for (const [k, v] of pairs) params[k] = v;
        for (const name of REQUIRED) {
            if (params[name] === undefined)
                return fail(400, `Missing${name}`, `${name} is mandatory for this action.`);
        }
        if (params.AccessKeyId !== ACCESS_KEY_ID)
            return fail(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
        if (params.SignatureMethod !== 'HMAC-SHA1')
            return fail(400, 'InvalidSignatureMethod', 'Specified signature method is not supported.');
        if (params.SignatureVersion !== '1.0')
            return fail(400, 'InvalidSignatureVersion', 'Specified signature version is not supported.');
        const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(params.Timestamp);
        if (!m)
            return fail(
                400,
                'InvalidTimeStamp.Format',
                'Specified time stamp or date value is not well formatted.',
            );
        const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
        const at = Date.UTC(y, mo - 1, d, h, mi, s);
        if (Number.isNaN(at) || Math.abs(Date.now() - at) > WINDOW_MS)
            return fail(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
        const { Signature: given, ...signed } = params;
        const expected = aliyunSignature(method, signed, secret);
        if (!sameText(given, expected))
            return fail(
                400,
                'SignatureDoesNotMatch',
                `Specified signature is not matched with our calculation. server string to sign is:${stringToSign(method, signed)}`,
            );
        const now = Date.now();
        for (const [n, seen] of nonces) if (now - seen > WINDOW_MS) nonces.delete(n);
        if (nonces.has(params.SignatureNonce))
            return fail(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
        nonces.set(params.SignatureNonce, now);
        // Authenticated from here on.
        if (params.Action !== 'SendSms')
            return done(
                error(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.'),
                true,
            );
        if (params.Version !== '2017-05-25')
            return done(error(400, 'InvalidVersion', 'Specified parameter Version is not valid.'), true);
        if (params.Format.toUpperCase() !== 'JSON')
            return done(error(400, 'InvalidFormat', 'Specified parameter Format is not valid (stub: JSON only).'), true);
        return done(send(params), true);
    }

    function done(r, verified, err) {
        return { reply: r, verified, error: err };
    }
    function fail(status, code, message) {
        return done(error(status, code, message), false, code);
    }

    function business(code, message) {
        return jsonReply(200, { RequestId: randomUUID().toUpperCase(), Code: code, Message: message });
    }

    function send(p) {
        const phones = (p.PhoneNumbers ?? '').split(',').filter((x) => x !== '');
        if (phones.length === 0 || phones.some((x) => !/^(\+?\d{5,20})$/.test(x)))
            return business('isv.MOBILE_NUMBER_ILLEGAL', '非法手机号');
        if (p.SignName !== SIGN_NAME) return business('isv.SMS_SIGNATURE_ILLEGAL', '该账号下找不到对应签名');
        if (p.TemplateCode !== TEMPLATE_CODE) return business('isv.SMS_TEMPLATE_ILLEGAL', '该账号下找不到对应模板');
        let templateParams = {};
        if (p.TemplateParam !== undefined) {
            try {
                templateParams = JSON.parse(p.TemplateParam);
            } catch {
                return business('isv.INVALID_JSON_PARAM', 'JSON参数不合法，只接受字符串值');
            }
            if (
                templateParams === null ||
                typeof templateParams !== 'object' ||
                Array.isArray(templateParams) ||
                Object.values(templateParams).some((v) => typeof v !== 'string')
            )
                return business('isv.INVALID_JSON_PARAM', 'JSON参数不合法，只接受字符串值');
        }
        if (failCode) return business(failCode, '触发分钟级流控Permits:1');
        const at = new Date().toISOString();
        for (const phone of phones)
            messages.push({
                phone,
                sign_name: p.SignName,
                template_code: p.TemplateCode,
                params: templateParams,
                at,
            });
        return jsonReply(200, {
            Message: 'OK',
            RequestId: randomUUID().toUpperCase(),
            BizId: `${randomDigits(18)}^0`,
            Code: 'OK',
        });
    }

    const control = {
        'GET messages': (_body, url) => {
            const phone = url.searchParams.get('phone');
            return phone === null ? messages : messages.filter((m) => m.phone === phone);
        },
        'POST mode': (body) => {
            if (body.fail !== null && typeof body.fail !== 'string')
                throw new BadCall('fail must be a Code string or null');
            failCode = body.fail;
            return { fail: failCode };
        },
    };

    return { handle, control };
}

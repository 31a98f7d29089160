// WeChat Pay API v3 (direct merchant, JSAPI / mini-program) for the provider stub: requests
// verified (Authorization WECHATPAY2-SHA256-RSA2048 with the merchant key), responses and
// notifications signed with the platform key (Wechatpay-* headers), notification resources
// AEAD_AES_256_GCM with the APIv3 key. Trades and refunds in memory, amounts integer fen.
//
// Follows pay.weixin.qq.com: "签名认证" (request signature), "验证应答签名" (response signature),
// "JSAPI下单", "商户订单号查询订单", "关闭订单", "支付成功回调通知", "退款申请", "查询单笔退款",
// "退款结果回调通知" and "证书和回调报文解密" (AES-256-GCM).
import { createCipheriv, randomUUID } from 'node:crypto';
import {
    BadCall,
    deliver,
    flipSignature,
    deliverTimes,
    jsonReply,
    loopbackUrlProblem,
    nowSeconds,
    payCall,
    randomDigits,
    randomHex,
    randomString,
    refundModeCall,
    reply,
    rfc3339Beijing,
    rsaSign,
    rsaVerify,
} from './common.mjs';
import { APPID } from './wechat_login.mjs';

export const MCHID = '1900000109';
const SIGNATURE_TYPE = 'WECHATPAY2-SHA256-RSA2048';
const WINDOW_S = 300;

// "k1="v1",k2="v2"" (spaces after commas allowed) -> {k1: v1, ...}; null when not that shape.
function parseAuthorization(header) {
    const prefix = `${SIGNATURE_TYPE} `;
    if (typeof header !== 'string' || !header.startsWith(prefix)) return null;
    const fields = {};
    const re = /^\s*([a-z_]+)="([^"]*)"\s*(?:,|$)/;
    let rest = header.slice(prefix.length);
    while (rest.length > 0) {
        const m = re.exec(rest);
        if (!m) return null;
        fields[m[1]] = m[2];
        rest = rest.slice(m[0].length);
    }
    return fields;
}

const STATE_DESC = {
    SUCCESS: '支付成功',
    REFUND: '转入退款',
    NOTPAY: '未支付',
    CLOSED: '已关闭',
};

export function createWechatPay({ merchantPublicKey, platformPrivateKey, apiv3Key, merchantSerial, platformSerial }) {
    const trades = new Map(); // out_trade_no -> trade
    const refunds = new Map(); // out_refund_no -> refund
    let refundMode = 'processing';

    // ---- signatures ----

    function signedHeaders(bodyText, { tamper = false } = {}) {
        const ts = String(nowSeconds());
        const nonce = randomHex(32).toUpperCase();
        let sig = rsaSign(platformPrivateKey, `${ts}\n${nonce}\n${bodyText}\n`);
        if (tamper) sig = flipSignature(sig);
        return {
            'Wechatpay-Timestamp': ts,
            'Wechatpay-Nonce': nonce,
            'Wechatpay-Serial': platformSerial,
            'Wechatpay-Signature': sig,
            'Wechatpay-Signature-Type': SIGNATURE_TYPE,
        };
    }

    function encryptResource(plain, originalType) {
        const nonce = randomString(12);
        const cipher = createCipheriv('aes-256-gcm', Buffer.from(apiv3Key, 'ascii'), Buffer.from(nonce, 'ascii'));
        cipher.setAAD(Buffer.from(originalType, 'ascii'));
        const ct = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final(), cipher.getAuthTag()]);
        return {
            original_type: originalType,
            algorithm: 'AEAD_AES_256_GCM',
            ciphertext: ct.toString('base64'),
            associated_data: originalType,
            nonce,
        };
    }

    // The request's Authorization, as WeChat Pay checks it. Returns null when it verifies.
    function authProblem(method, pathWithQuery, headers, bodyText) {
        const f = parseAuthorization(headers.authorization);
        if (!f) return 'Authorization is not WECHATPAY2-SHA256-RSA2048 k="v",...';
        for (const k of ['mchid', 'nonce_str', 'signature', 'timestamp', 'serial_no'])
            if (!f[k]) return `Authorization lacks ${k}`;
        if (f.mchid !== MCHID) return `mchid ${f.mchid} is not the merchant`;
        if (f.serial_no !== merchantSerial) return `serial_no ${f.serial_no} is not the merchant's certificate`;
        if (!/^\d{1,12}$/.test(f.timestamp) || Math.abs(Number(f.timestamp) - nowSeconds()) > WINDOW_S)
            return `timestamp ${f.timestamp} is not within ${WINDOW_S} s of now`;
        const message = `${method}\n${pathWithQuery}\n${f.timestamp}\n${f.nonce_str}\n${bodyText}\n`;
        if (!rsaVerify(merchantPublicKey, message, f.signature)) return 'signature does not verify';
        return null;
    }

    const apiError = (status, code, message) => ({ status, body: { code, message } });

    // ---- objects ----

    function queryObject(t) {
        const paid = t.state === 'SUCCESS' || t.state === 'REFUND';
        const o = {
            appid: t.appid,
            mchid: t.mchid,
            out_trade_no: t.out_trade_no,
        };
        if (t.transaction_id && paid) o.transaction_id = t.transaction_id;
        o.trade_type = 'JSAPI';
        o.trade_state = t.state;
        o.trade_state_desc = STATE_DESC[t.state];
        if (paid) {
            o.bank_type = 'OTHERS';
            o.attach = '';
            o.success_time = t.success_time;
        }
        o.payer = { openid: t.openid };
        o.amount = paid
            ? { total: t.total, payer_total: t.total, currency: t.currency, payer_currency: t.currency }
            : { total: t.total, currency: t.currency, payer_currency: t.currency };
        return o;
    }

    function refundObject(r) {
        const o = {
            refund_id: r.refund_id,
            out_refund_no: r.out_refund_no,
            transaction_id: r.transaction_id,
            out_trade_no: r.out_trade_no,
            channel: 'ORIGINAL',
            user_received_account: '支付用户零钱',
        };
        if (r.status === 'SUCCESS') o.success_time = r.success_time;
        o.create_time = r.create_time;
        o.status = r.status;
        o.funds_account = 'AVAILABLE';
        o.amount = {
            total: r.total,
            refund: r.refund,
            from: [],
            payer_total: r.total,
            payer_refund: r.refund,
            settlement_refund: r.refund,
            settlement_total: r.total,
            discount_refund: 0,
            currency: 'CNY',
            refund_fee: 0,
        };
        o.promotion_detail = [];
        return o;
    }

    function refundNotifyPlain(r) {
        const o = {
            mchid: MCHID,
            out_trade_no: r.out_trade_no,
            transaction_id: r.transaction_id,
            out_refund_no: r.out_refund_no,
            refund_id: r.refund_id,
            refund_status: r.status,
        };
        if (r.status === 'SUCCESS') o.success_time = r.success_time;
        o.user_received_account = '支付用户零钱';
        o.amount = { total: r.total, refund: r.refund, payer_total: r.total, payer_refund: r.refund };
        return o;
    }

    function unrefunded(t) {
        let left = t.total;
        for (const no of t.refunds) {
            const r = refunds.get(no);
            if (r.status === 'PROCESSING' || r.status === 'SUCCESS') left -= r.refund;
        }
        return left;
    }

    // ---- API ----

    function missing(body, paths) {
        for (const p of paths) {
            let v = body;
            for (const k of p.split('.')) v = v !== null && typeof v === 'object' ? v[k] : undefined;
            if (v === undefined || v === null || v === '') return p;
        }
        return null;
    }

    function createJsapi(body) {
        const miss = missing(body, [
            'appid',
            'mchid',
            'description',
            'out_trade_no',
            'notify_url',
            'amount.total',
            'payer.openid',
        ]);
        if (miss) return apiError(400, 'PARAM_ERROR', `输入源“/body/${miss.replace('.', '/')}”映射到字段“${miss}”必填性规则校验失败，此字段为必填项`);
        if (!Number.isSafeInteger(body.amount.total) || body.amount.total <= 0)
            return apiError(400, 'PARAM_ERROR', 'amount.total 必须为正整数（分）');
        const currency = body.amount.currency ?? 'CNY';
        if (currency !== 'CNY') return apiError(400, 'PARAM_ERROR', 'amount.currency 仅支持 CNY');
        if (body.mchid !== MCHID) return apiError(400, 'MCH_NOT_EXISTS', '商户号不存在');
        if (body.appid !== APPID) return apiError(400, 'APPID_MCHID_NOT_MATCH', 'AppID和mch_id不匹配');
        const bad = loopbackUrlProblem(body.notify_url);
        if (bad) return apiError(400, 'PARAM_ERROR', `notify_url 格式不正确: ${bad}`);
        const existing = trades.get(body.out_trade_no);
        if (existing) {
            if (existing.state === 'SUCCESS' || existing.state === 'REFUND')
                return apiError(400, 'ORDERPAID', '该订单已支付');
            if (existing.state === 'CLOSED') return apiError(400, 'ORDER_CLOSED', '订单已关闭');
            const same =
                existing.description === body.description &&
                existing.total === body.amount.total &&
                existing.openid === body.payer.openid &&
                existing.notify_url === body.notify_url;
            if (!same) return apiError(403, 'OUT_TRADE_NO_USED', '商户订单号重复');
            return { status: 200, body: { prepay_id: existing.prepay_id } };
        }
        const t = {
            request: body,
            prepay_id: `wx${rfc3339Beijing().replace(/\D/g, '').slice(0, 14)}${randomHex(22)}`,
            out_trade_no: body.out_trade_no,
            appid: body.appid,
            mchid: body.mchid,
            description: body.description,
            notify_url: body.notify_url,
            total: body.amount.total,
            currency,
            openid: body.payer.openid,
            state: 'NOTPAY',
            transaction_id: null,
            success_time: null,
            refunds: [],
        };
        trades.set(t.out_trade_no, t);
        return { status: 200, body: { prepay_id: t.prepay_id } };
    }

    function query(outTradeNo, q) {
        if (q.get('mchid') !== MCHID) return apiError(400, 'PARAM_ERROR', 'mchid 与请求商户不一致');
        const t = trades.get(outTradeNo);
        if (!t) return apiError(404, 'ORDER_NOT_EXIST', '订单不存在');
        return { status: 200, body: queryObject(t) };
    }

    function close(outTradeNo, body) {
        if (!body || body.mchid === undefined) return apiError(400, 'PARAM_ERROR', '缺少参数 mchid');
        if (body.mchid !== MCHID) return apiError(400, 'MCH_NOT_EXISTS', '商户号不存在');
        const t = trades.get(outTradeNo);
        if (!t) return apiError(404, 'ORDER_NOT_EXIST', '订单不存在');
        if (t.state === 'SUCCESS' || t.state === 'REFUND') return apiError(400, 'ORDERPAID', '订单已支付');
        t.state = 'CLOSED';
        return { status: 204, body: null };
    }

    function createRefund(body) {
        const miss = missing(body, ['out_refund_no', 'amount.refund', 'amount.total', 'amount.currency']);
        if (miss) return apiError(400, 'PARAM_ERROR', `缺少参数 ${miss}`);
        if (!body.transaction_id && !body.out_trade_no)
            return apiError(400, 'PARAM_ERROR', 'transaction_id 与 out_trade_no 必填其一');
        const { refund, total, currency } = body.amount;
        if (!Number.isSafeInteger(refund) || refund <= 0 || !Number.isSafeInteger(total) || total <= 0)
            return apiError(400, 'PARAM_ERROR', 'amount.refund / amount.total 必须为正整数（分）');
        if (currency !== 'CNY') return apiError(400, 'PARAM_ERROR', 'amount.currency 仅支持 CNY');
        if (body.notify_url !== undefined) {
            const bad = loopbackUrlProblem(body.notify_url);
            if (bad) return apiError(400, 'PARAM_ERROR', `notify_url 格式不正确: ${bad}`);
        }
        let t = body.transaction_id
            ? [...trades.values()].find((x) => x.transaction_id === body.transaction_id)
            : trades.get(body.out_trade_no);
        if (t && body.out_trade_no && t.out_trade_no !== body.out_trade_no) t = undefined;
        if (!t || !(t.state === 'SUCCESS' || t.state === 'REFUND'))
            return apiError(404, 'RESOURCE_NOT_EXISTS', '订单不存在');
        const again = refunds.get(body.out_refund_no);
        if (again) {
            if (again.out_trade_no !== t.out_trade_no || again.refund !== refund)
                return apiError(400, 'INVALID_REQUEST', '商户退款单号已被使用，退款信息不一致');
            return { status: 200, body: refundObject(again) };
        }
        if (total !== t.total) return apiError(400, 'INVALID_REQUEST', '订单金额与原订单不一致');
        if (refundMode === 'reject') return apiError(403, 'NOT_ENOUGH', '基本账户余额不足，请充值后重新发起');
        if (refund > unrefunded(t)) return apiError(400, 'INVALID_REQUEST', '申请退款金额超过订单可退金额');
        const now = Date.now();
        const r = {
            request: body,
            refund_id: `50${randomDigits(27)}`,
            out_refund_no: body.out_refund_no,
            transaction_id: t.transaction_id,
            out_trade_no: t.out_trade_no,
            notify_url: body.notify_url ?? null,
            total,
            refund,
            status: refundMode === 'success' ? 'SUCCESS' : 'PROCESSING',
            create_time: rfc3339Beijing(now),
            success_time: refundMode === 'success' ? rfc3339Beijing(now) : null,
        };
        refunds.set(r.out_refund_no, r);
        t.refunds.push(r.out_refund_no);
        if (r.status === 'SUCCESS') t.state = 'REFUND';
        return { status: 200, body: refundObject(r) };
    }

    function queryRefund(outRefundNo) {
        const r = refunds.get(outRefundNo);
        if (!r) return apiError(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
        return { status: 200, body: refundObject(r) };
    }

    // pathWithQuery relative to /wechatpay. Returns {reply, verified, error} or null (unknown path).
    function handle(method, pathWithQuery, headers, bodyText) {
        const qAt = pathWithQuery.indexOf('?');
        const path = qAt < 0 ? pathWithQuery : pathWithQuery.slice(0, qAt);
        const q = new URLSearchParams(qAt < 0 ? '' : pathWithQuery.slice(qAt + 1));
        const seg = path.split('/').map((s) => {
            try {
                return decodeURIComponent(s);
            } catch {
                return s;
            }
        });
        // ['', 'v3', 'pay', 'transactions', ...]
        let route = null;
        if (method === 'POST' && path === '/v3/pay/transactions/jsapi') route = (b) => createJsapi(b);
        else if (method === 'GET' && seg.length === 6 && path.startsWith('/v3/pay/transactions/out-trade-no/'))
            route = () => query(seg[5], q);
        else if (
            method === 'POST' &&
            seg.length === 7 &&
            path.startsWith('/v3/pay/transactions/out-trade-no/') &&
            seg[6] === 'close'
        )
            route = (b) => close(seg[5], b);
        else if (method === 'POST' && path === '/v3/refund/domestic/refunds') route = (b) => createRefund(b);
        else if (method === 'GET' && seg.length === 6 && path.startsWith('/v3/refund/domestic/refunds/'))
            route = () => queryRefund(seg[5]);
        if (!route) return null;

        const problem = authProblem(method, pathWithQuery, headers, bodyText);
        if (problem) {
            return {
                reply: jsonReply(401, { code: 'SIGN_ERROR', message: `签名错误: ${problem}` }),
                verified: false,
                error: problem,
            };
        }
        let r;
        const accept = headers.accept ?? '';
        if (!/application\/json|\*\/\*/.test(accept)) {
            r = apiError(400, 'INVALID_REQUEST', 'HTTP 请求不符合微信支付 APIv3 接口规则: Accept 须为 application/json');
        } else if (method === 'POST' && !/^application\/json/i.test(headers['content-type'] ?? '')) {
            r = apiError(400, 'INVALID_REQUEST', 'HTTP 请求不符合微信支付 APIv3 接口规则: Content-Type 须为 application/json');
        } else {
            let body = null;
            if (method === 'POST') {
                try {
                    body = JSON.parse(bodyText);
                } catch {
                    body = undefined;
                }
            }
            r = body === undefined ? apiError(400, 'PARAM_ERROR', '请求体不是合法的 JSON') : route(body);
        }
        const text = r.body === null ? '' : JSON.stringify(r.body);
        const h = { ...signedHeaders(text), 'Request-ID': randomUUID() };
        if (r.body !== null) h['Content-Type'] = 'application/json; charset=utf-8';
        return { reply: reply(r.status, text, h), verified: true };
    }

    // ---- notifications ----

    function notificationBody(eventType, summary, originalType, plain) {
        return JSON.stringify({
            id: randomUUID(),
            create_time: rfc3339Beijing(),
            resource_type: 'encrypt-resource',
            event_type: eventType,
            summary,
            resource: encryptResource(plain, originalType),
        });
    }

    function post(url, bodyText, tamperSignature) {
        return deliver(
            url,
            {
                'Content-Type': 'application/json',
                'User-Agent': 'Mozilla/4.0 (stub WeChat Pay notify)',
                ...signedHeaders(bodyText, { tamper: tamperSignature }),
            },
            bodyText,
        );
    }

    async function controlPay(b) {
        const { t, tamper } = payCall(trades, b);
        if (t.state === 'CLOSED') throw new BadCall(`trade ${t.out_trade_no} is CLOSED`);
        const transactionId = t.transaction_id ?? `4200${randomDigits(24)}`;
        const now = Date.now();
        let plain;
        if (tamper === 'none') {
            t.transaction_id = transactionId;
            if (t.state === 'NOTPAY') {
                t.state = 'SUCCESS';
                t.success_time = rfc3339Beijing(now);
            }
            plain = queryObject(t);
        } else {
            const paid = { transaction_id: transactionId, state: 'SUCCESS', success_time: rfc3339Beijing(now) };
            plain = queryObject({ ...t, ...paid });
            if (tamper === 'mchid') plain.mchid = '1900000999';
            if (tamper === 'appid') plain.appid = 'wxa1b2c3d4e5f69999';
            if (tamper === 'amount') (plain.amount.total += 1), (plain.amount.payer_total += 1);
            if (tamper === 'currency') (plain.amount.currency = 'USD'), (plain.amount.payer_currency = 'USD');
            if (tamper === 'state') {
                plain = queryObject(t);
                plain.transaction_id = transactionId;
            }
            if (tamper === 'unknown_order') plain.out_trade_no = `STUB${randomDigits(20)}`;
        }
        const deliveries = [];
        if (b.deliver !== false) {
            const text = notificationBody('TRANSACTION.SUCCESS', '支付成功', 'transaction', plain);
            const send = () => post(t.notify_url, text, tamper === 'signature');
            deliveries.push(...(await deliverTimes(b.times ?? 1, b.concurrent === true, send)));
        }
        return { transaction_id: transactionId, deliveries };
    }

    async function controlSettle(outRefundNo, b) {
        const r = refunds.get(outRefundNo);
        if (!r) throw new BadCall(`no refund ${outRefundNo}`);
        const status = b.status ?? 'SUCCESS';
        if (!['SUCCESS', 'ABNORMAL', 'CLOSED'].includes(status))
            throw new BadCall('status must be SUCCESS, ABNORMAL or CLOSED');
        r.status = status;
        if (status === 'SUCCESS') {
            r.success_time ??= rfc3339Beijing();
            trades.get(r.out_trade_no).state = 'REFUND';
        }
        const deliveries = [];
        if (b.deliver !== false) {
            if (!r.notify_url) throw new BadCall(`refund ${outRefundNo} carried no notify_url`);
            const summary = { SUCCESS: '退款成功', ABNORMAL: '退款异常', CLOSED: '退款关闭' }[status];
            const text = notificationBody(`REFUND.${status}`, summary, 'refund', refundNotifyPlain(r));
            const send = () => post(r.notify_url, text, false);
            deliveries.push(...(await deliverTimes(b.times ?? 1, b.concurrent === true, send)));
        }
        return { deliveries };
    }

    function controlVerifyPayParams(b) {
        const fields = ['appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign'];
        for (const f of fields) if (typeof b[f] !== 'string') return { valid: false, reason: `${f} missing` };
        if (b.appId !== APPID) return { valid: false, reason: 'appId is not the mini-program' };
        if (b.signType !== 'RSA') return { valid: false, reason: 'signType must be RSA' };
        const m = /^prepay_id=(.+)$/.exec(b.package);
        if (!m || ![...trades.values()].some((t) => t.prepay_id === m[1]))
            return { valid: false, reason: 'package is not prepay_id=<a known prepay_id>' };
        const msg = `${b.appId}\n${b.timeStamp}\n${b.nonceStr}\n${b.package}\n`;
        if (!rsaVerify(merchantPublicKey, msg, b.paySign)) return { valid: false, reason: 'paySign does not verify' };
        return { valid: true };
    }

    const control = {
        'POST pay': controlPay,
        'POST refund-mode': (b) => ({ mode: (refundMode = refundModeCall(b)) }),
        'POST verify-pay-params': controlVerifyPayParams,
        // Parameterised: /_stub/wechatpay/refunds/{no}/settle, /_stub/wechatpay/trades/{no}
        'POST refunds/*/settle': (b, _url, no) => controlSettle(no, b),
        'GET trades/*': (_b, _url, no) => {
            const t = trades.get(no);
            if (!t) throw new BadCall(`no trade ${no}`);
            const list = t.refunds.map((x) => refundObject(refunds.get(x)));
            return { request: t.request, trade: queryObject(t), refunds: list };
        },
    };

    return { handle, control };
}

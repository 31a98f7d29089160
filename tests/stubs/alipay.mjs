// Alipay open API (one gateway, RSA2) for the provider stub: requests verified with the app public
// key, responses signed with Alipay's private key over the response member's exact JSON text,
// asynchronous notifications form-encoded and signed, the mini-program phone text (AES-128-CBC +
// RSA2). Trades and refunds in memory, amounts integer fen inside, yuan strings outside.
//
// Follows opendocs.alipay.com: "自行实现签名" / "自行实现验签" (request signing, response and
// notification verification), alipay.system.oauth.token, alipay.trade.create (JSAPI_PAY),
// alipay.trade.query, alipay.trade.close, alipay.trade.refund, alipay.trade.fastpay.refund.query,
// "异步通知" (trade_status_sync) and my.getPhoneNumber ("内容加密接入指引",
// docs.alipay.com/mini/introduce/aes: AES/CBC/PKCS5, zero IV).
import { createCipheriv, createHash } from 'node:crypto';
import {
    BadCall,
    alipayTime,
    deliver,
    deliverTimes,
    fenToYuan,
    flipSignature,
    jsonReply,
    loopbackUrlProblem,
    parseAlipayTime,
    nonEmptyString as str,
    parseForm,
    payCall,
    randomDigits,
    randomString,
    refundModeCall,
    reply,
    rsaSign,
    rsaVerify,
    yuanToFen,
    yyyymmddBeijing,
} from './common.mjs';

export const APP_ID = '2021000000000001';
export const SELLER_ID = '2088000000000001';
const WINDOW_MS = 15 * 60 * 1000;
const METHODS = new Set([
    'alipay.system.oauth.token',
    'alipay.trade.create',
    'alipay.trade.query',
    'alipay.trade.close',
    'alipay.trade.refund',
    'alipay.trade.fastpay.refund.query',
]);

// The text Alipay signs: every param but the excluded ones with a non-empty value, sorted by name
// (byte order), name=value raw, joined by '&'. Requests exclude sign; notifications exclude sign
// and sign_type.
export function signContent(params, exclude = ['sign']) {
    return Object.keys(params)
        .filter((k) => !exclude.includes(k) && params[k] !== undefined && params[k] !== null && params[k] !== '')
        .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
        .map((k) => `${k}=${params[k]}`)
        .join('&');
}

export function createAlipay({ appPublicKey, alipayPrivateKey, aesKey }) {
    const codes = new Map(); // auth code -> {user_id, used}
    const trades = new Map(); // out_trade_no -> trade
    let refundMode = 'processing';

    // ---- responses ----

    // {"<member>":<json>,"sign":"<RSA2 over json>"}: the signed text is exactly what the body holds.
    function signedBody(member, obj) {
        const text = JSON.stringify(obj);
        const sign = rsaSign(alipayPrivateKey, text);
        return `{"${member}":${text},"sign":"${sign}"}`;
    }

    const memberOf = (method) => `${method.replace(/\./g, '_')}_response`;
    const ok = (fields) => ({ code: '10000', msg: 'Success', ...fields });
    const bizFail = (subCode, subMsg) => ({
        code: '40004',
        msg: 'Business Failed',
        sub_code: subCode,
        sub_msg: subMsg,
    });
    const invalid = (subCode, subMsg) => ({
        code: '40002',
        msg: 'Invalid Arguments',
        sub_code: subCode,
        sub_msg: subMsg,
    });

    // ---- objects ----

    function refundedFen(t) {
        let sum = 0;
        for (const r of t.refunds.values()) if (r.state !== 'FAILED') sum += r.fen;
        return sum;
    }

    function queryObject(t) {
        const o = ok({
            trade_no: t.trade_no,
            out_trade_no: t.out_trade_no,
            buyer_logon_id: '138******00',
            buyer_user_id: t.buyer_id,
            trade_status: t.state,
            total_amount: fenToYuan(t.total),
        });
        if (t.state === 'TRADE_SUCCESS' || t.state === 'TRADE_FINISHED' || (t.state === 'TRADE_CLOSED' && t.paid)) {
            o.buyer_pay_amount = fenToYuan(t.total);
            o.receipt_amount = fenToYuan(t.total);
            o.send_pay_date = t.gmt_payment;
        }
        return o;
    }

    // fundChange: 'Y' the first time; a repeated out_request_no answers the same refund with 'N'
    // (no money moved this time), as Alipay does.
    function refundAnswer(t, r, fundChange = 'Y') {
        return ok({
            trade_no: t.trade_no,
            out_trade_no: t.out_trade_no,
            buyer_logon_id: '138******00',
            buyer_user_id: t.buyer_id,
            fund_change: fundChange,
            refund_fee: fenToYuan(r.cumulative),
            gmt_refund_pay: r.gmt_refund,
            send_back_fee: fenToYuan(r.fen),
        });
    }

    function refundQueryObject(t, outRequestNo) {
        const r = t.refunds.get(outRequestNo);
        const o = ok({
            trade_no: t.trade_no,
            out_trade_no: t.out_trade_no,
            out_request_no: outRequestNo,
            total_amount: fenToYuan(t.total),
        });
        if (r && r.state === 'SUCCESS') {
            o.refund_amount = fenToYuan(r.fen);
            o.refund_status = 'REFUND_SUCCESS';
            o.gmt_refund_pay = r.gmt_refund;
        }
        return o;
    }

    // ---- methods: (params, biz) -> the response member's object ----

    function parseBiz(params) {
        if (params.biz_content === undefined) return {};
        try {
            const b = JSON.parse(params.biz_content);
            return b !== null && typeof b === 'object' && !Array.isArray(b) ? b : null;
        } catch {
            return null;
        }
    }

    function oauthToken(p) {
        if (p.grant_type !== 'authorization_code' && p.grant_type !== 'refresh_token')
            return { error: invalid('isv.grant-type-invalid', 'grant_type参数不正确') };
        const c = codes.get(p.code ?? '');
        if (!c || c.used) return { error: invalid('isv.code-invalid', '授权码code无效') };
        c.used = true;
        return {
            body: {
                user_id: c.user_id,
                open_id: `0${createHash('sha256').update(`${APP_ID}/${c.user_id}`).digest('hex').slice(0, 23)}`,
                access_token: `authusrB${randomString(32)}`,
                expires_in: 1296000,
                refresh_token: `authusrB${randomString(32)}`,
                re_expires_in: 2592000,
                auth_start: alipayTime(),
            },
        };
    }

    function tradeCreate(p, biz) {
        for (const k of ['out_trade_no', 'total_amount', 'subject'])
            if (typeof biz[k] !== 'string' || biz[k] === '')
                return bizFail('ACQ.INVALID_PARAMETER', `参数无效: ${k}`);
        if (typeof biz.buyer_id !== 'string' && typeof biz.buyer_open_id !== 'string')
            return bizFail('ACQ.INVALID_PARAMETER', '参数无效: buyer_id 与 buyer_open_id 必填其一');
        if (biz.product_code !== undefined && biz.product_code !== 'JSAPI_PAY')
            return bizFail('ACQ.PRODUCT_AMOUNT_LIMIT_ERROR', 'product_code 须为 JSAPI_PAY (stub)');
        const fen = yuanToFen(biz.total_amount);
        if (fen === null || fen <= 0) return bizFail('ACQ.INVALID_PARAMETER', '参数无效: total_amount');
        if (p.notify_url !== undefined) {
            const bad = loopbackUrlProblem(p.notify_url);
            if (bad) return bizFail('ACQ.INVALID_PARAMETER', `notify_url: ${bad}`);
        }
        const buyer = biz.buyer_id ?? biz.buyer_open_id;
        const existing = trades.get(biz.out_trade_no);
        if (existing) {
            if (existing.state === 'TRADE_SUCCESS' || existing.state === 'TRADE_FINISHED')
                return bizFail('ACQ.TRADE_HAS_SUCCESS', '交易已被支付');
            if (existing.state === 'TRADE_CLOSED') return bizFail('ACQ.TRADE_HAS_CLOSE', '交易已经关闭');
            if (existing.total !== fen || existing.subject !== biz.subject || existing.buyer_id !== buyer)
                return bizFail('ACQ.CONTEXT_INCONSISTENT', '交易信息被篡改');
            return ok({ out_trade_no: existing.out_trade_no, trade_no: existing.trade_no });
        }
        const now = Date.now();
        const t = {
            request: { ...p, biz_content: biz },
            out_trade_no: biz.out_trade_no,
            trade_no: `${yyyymmddBeijing(now)}22${randomDigits(18)}`,
            subject: biz.subject,
            total: fen,
            buyer_id: buyer,
            notify_url: p.notify_url ?? null,
            state: 'WAIT_BUYER_PAY',
            paid: false,
            gmt_create: alipayTime(now),
            gmt_payment: null,
            refunds: new Map(), // out_request_no -> refund
        };
        trades.set(t.out_trade_no, t);
        return ok({ out_trade_no: t.out_trade_no, trade_no: t.trade_no });
    }

    // The refund's out_request_no; without one Alipay takes the out_trade_no.
    function requestNo(biz, t) {
        return typeof biz.out_request_no === 'string' && biz.out_request_no !== '' ? biz.out_request_no : t.out_trade_no;
    }

    function findTrade(biz) {
        if (typeof biz.out_trade_no === 'string') return trades.get(biz.out_trade_no);
        if (typeof biz.trade_no === 'string') return [...trades.values()].find((t) => t.trade_no === biz.trade_no);
        return undefined;
    }

    function tradeQuery(_p, biz) {
        const t = findTrade(biz);
        if (!t) return bizFail('ACQ.TRADE_NOT_EXIST', '交易不存在');
        return queryObject(t);
    }

    function tradeClose(_p, biz) {
        const t = findTrade(biz);
        if (!t) return bizFail('ACQ.TRADE_NOT_EXIST', '交易不存在');
        if (t.state !== 'WAIT_BUYER_PAY' && t.state !== 'TRADE_CLOSED')
            return bizFail('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
        t.state = 'TRADE_CLOSED';
        return ok({ trade_no: t.trade_no, out_trade_no: t.out_trade_no });
    }

    function tradeRefund(_p, biz) {
        if (typeof biz.refund_amount !== 'string') return bizFail('ACQ.INVALID_PARAMETER', '参数无效: refund_amount');
        const fen = yuanToFen(biz.refund_amount);
        if (fen === null || fen <= 0) return bizFail('ACQ.INVALID_PARAMETER', '参数无效: refund_amount');
        const t = findTrade(biz);
        if (!t) return bizFail('ACQ.TRADE_NOT_EXIST', '交易不存在');
        const no = requestNo(biz, t);
        const again = t.refunds.get(no);
        if (again) {
            if (again.fen !== fen) return bizFail('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额与原请求不一致');
            return refundAnswer(t, again, 'N');
        }
        if (t.state !== 'TRADE_SUCCESS') return bizFail('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
        if (refundMode === 'reject') return bizFail('ACQ.SELLER_BALANCE_NOT_ENOUGH', '卖家余额不足');
        if (fen > t.total - refundedFen(t)) return bizFail('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额超限');
        const r = {
            request: biz,
            out_request_no: no,
            fen,
            reason: biz.refund_reason ?? '',
            state: refundMode === 'success' ? 'SUCCESS' : 'PROCESSING',
            cumulative: refundedFen(t) + fen,
            gmt_refund: alipayTime(Date.now(), true),
        };
        t.refunds.set(no, r);
        if (r.state === 'SUCCESS') settled(t);
        return refundAnswer(t, r);
    }

    function refundQuery(_p, biz) {
        const t = findTrade(biz);
        if (!t) return bizFail('ACQ.TRADE_NOT_EXIST', '交易不存在');
        const no = requestNo(biz, t);
        return refundQueryObject(t, no);
    }

    // A fully refunded trade is closed (Alipay's TRADE_CLOSED after a full refund).
    function settled(t) {
        let done = 0;
        for (const r of t.refunds.values()) if (r.state === 'SUCCESS') done += r.fen;
        if (done >= t.total) t.state = 'TRADE_CLOSED';
    }

    // ---- the gateway ----

    // One gateway request. Returns {reply, verified, error}.
    function handle(method, query, headers, bodyText) {
        let params = {};
        try {
            for (const [k, v] of parseForm(query)) params[k] = v;
            if (method === 'POST' && bodyText !== '') {
                const ct = headers['content-type'] ?? '';
                if (!/^application\/x-www-form-urlencoded/i.test(ct))
                    return refuse(invalid('isv.invalid-content-type', `Content-Type ${ct} 不是表单`));
                for (const [k, v] of parseForm(bodyText)) params[k] = v;
            }
        } catch {
            return refuse(invalid('isv.invalid-parameter', '参数不是合法的 URL 编码'));
        }
        for (const k of ['app_id', 'method', 'charset', 'sign_type', 'sign', 'timestamp', 'version'])
            if (params[k] === undefined || params[k] === '')
                return refuse(invalid(`isv.missing-${k.replace(/_/g, '-')}`, `缺少参数 ${k}`));
        if (params.app_id !== APP_ID) return refuse(invalid('isv.invalid-app-id', '无效的AppID参数'));
        if (params.sign_type !== 'RSA2') return refuse(invalid('isv.invalid-signature-type', '无效的签名类型'));
        if (params.charset.toLowerCase() !== 'utf-8')
            return refuse(invalid('isv.invalid-charset', '字符集错误 (stub: utf-8)'));
        if (params.format !== undefined && params.format.toUpperCase() !== 'JSON')
            return refuse(invalid('isv.invalid-format', '无效的数据格式'));
        if (params.version !== '1.0') return refuse(invalid('isv.invalid-version', '无效的版本号'));
        const at = parseAlipayTime(params.timestamp);
        if (at === null || Math.abs(at - Date.now()) > WINDOW_MS)
            return refuse(invalid('isv.invalid-timestamp', `非法的时间戳参数 ${params.timestamp}`));
        if (!rsaVerify(appPublicKey, signContent(params), params.sign))
            return refuse(invalid('isv.invalid-signature', '验签出错'));
        // Authenticated from here on.
        if (!METHODS.has(params.method))
            return answer('error_response', invalid('isv.invalid-method', '不存在的方法名'), true);
        const biz = parseBiz(params);
        const member = memberOf(params.method);
        if (biz === null)
            return answer(member, invalid('isv.invalid-parameter', 'biz_content 不是 JSON 对象'), true);
        if (params.method === 'alipay.system.oauth.token') {
            const r = oauthToken(params);
            return r.error ? answer('error_response', r.error, true) : answer(member, r.body, true);
        }
        const fn = {
            'alipay.trade.create': tradeCreate,
            'alipay.trade.query': tradeQuery,
            'alipay.trade.close': tradeClose,
            'alipay.trade.refund': tradeRefund,
            'alipay.trade.fastpay.refund.query': refundQuery,
        }[params.method];
        return answer(member, fn(params, biz), true);
    }

    function answer(member, obj, verified, error) {
        return {
            reply: reply(200, signedBody(member, obj), { 'Content-Type': 'application/json;charset=utf-8' }),
            verified,
            error,
        };
    }

    function refuse(obj) {
        return answer('error_response', obj, false, `${obj.sub_code}: ${obj.sub_msg}`);
    }

    // ---- notifications ----

    function notifyParams(t, extra) {
        const p = {
            notify_time: alipayTime(),
            notify_type: 'trade_status_sync',
            notify_id: `2026${randomString(30).toLowerCase()}`,
            app_id: APP_ID,
            auth_app_id: APP_ID,
            charset: 'utf-8',
            version: '1.0',
            sign_type: 'RSA2',
            trade_no: t.trade_no,
            out_trade_no: t.out_trade_no,
            buyer_id: t.buyer_id,
            buyer_logon_id: '138******00',
            seller_id: SELLER_ID,
            trade_status: t.state,
            total_amount: fenToYuan(t.total),
            receipt_amount: fenToYuan(t.total),
            buyer_pay_amount: fenToYuan(t.total),
            invoice_amount: fenToYuan(t.total),
            point_amount: '0.00',
            subject: t.subject,
            gmt_create: t.gmt_create,
            gmt_payment: t.gmt_payment,
            ...extra,
        };
        return p;
    }

    // Signs p (sign_type stays, not signed) and form-encodes it as Alipay posts it ('+' for space).
    function notifyBody(p, tamperSignature) {
        let sign = rsaSign(alipayPrivateKey, signContent(p, ['sign', 'sign_type']));
        if (tamperSignature) sign = flipSignature(sign);
        return new URLSearchParams({ ...p, sign }).toString();
    }

    function post(url, body) {
        return deliver(url, { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' }, body);
    }

    async function controlPay(b) {
        const { t, tamper } = payCall(trades, b);
        if (t.state === 'TRADE_CLOSED' && !t.paid) throw new BadCall(`trade ${t.out_trade_no} is TRADE_CLOSED`);
        if (b.deliver !== false && !t.notify_url) throw new BadCall(`trade ${t.out_trade_no} carried no notify_url`);
        const now = Date.now();
        let view;
        if (tamper === 'none') {
            if (t.state === 'WAIT_BUYER_PAY') {
                t.state = 'TRADE_SUCCESS';
                t.paid = true;
                t.gmt_payment = alipayTime(now);
            }
            view = t;
        } else {
            view = { ...t, state: 'TRADE_SUCCESS', gmt_payment: alipayTime(now) };
        }
        const p = notifyParams(view, {});
        if (tamper === 'mchid') p.seller_id = '2088000000009999';
        if (tamper === 'appid') (p.app_id = '2021000000009999'), (p.auth_app_id = p.app_id);
        if (tamper === 'amount') {
            const more = fenToYuan(t.total + 1);
            for (const k of ['total_amount', 'receipt_amount', 'buyer_pay_amount', 'invoice_amount']) p[k] = more;
        }
        if (tamper === 'currency') p.trans_currency = 'USD';
        if (tamper === 'state') (p.trade_status = 'WAIT_BUYER_PAY'), delete p.gmt_payment;
        if (tamper === 'unknown_order') p.out_trade_no = `STUB${randomDigits(20)}`;
        const deliveries = [];
        if (b.deliver !== false) {
            const body = notifyBody(p, tamper === 'signature');
            const send = () => post(t.notify_url, body);
            deliveries.push(...(await deliverTimes(b.times ?? 1, b.concurrent === true, send)));
        }
        return { trade_no: t.trade_no, transaction_id: t.trade_no, deliveries };
    }

    async function controlSettle(outRequestNo, b) {
        let t;
        let r;
        for (const x of trades.values())
            if (x.refunds.has(outRequestNo)) (t = x), (r = x.refunds.get(outRequestNo));
        if (!r) throw new BadCall(`no refund ${outRequestNo}`);
        const status = b.status ?? 'SUCCESS';
        if (status !== 'SUCCESS' && status !== 'FAILED') throw new BadCall('status must be SUCCESS or FAILED');
        const deliveries = [];
        if (status === 'FAILED') {
            r.state = 'FAILED';
            return { deliveries };
        }
        r.state = 'SUCCESS';
        settled(t);
        if (b.deliver !== false) {
            if (!t.notify_url) throw new BadCall(`trade ${t.out_trade_no} carried no notify_url`);
            const p = notifyParams(t, {
                out_biz_no: r.out_request_no,
                refund_fee: fenToYuan(r.cumulative),
                gmt_refund: r.gmt_refund,
            });
            const body = notifyBody(p, false);
            const send = () => post(t.notify_url, body);
            deliveries.push(...(await deliverTimes(b.times ?? 1, b.concurrent === true, send)));
        }
        return { deliveries };
    }

    // The text my.getPhoneNumber gives the mini-program, for phone. Alipay's guide "内容加密接入指引"
    // (docs.alipay.com/mini/introduce/aes, its Java demo) verifies an encrypted response with quotes
    // added around the ciphertext: sign = RSA2 over "\"" + response + "\"" (PROVIDERS-SPEC §3 said
    // over the bare base64 text; the documentation wins).
    function phoneCode(phone) {
        const cipher = createCipheriv('aes-128-cbc', aesKey, Buffer.alloc(16));
        const plain = JSON.stringify({ code: '10000', msg: 'Success', mobile: phone });
        const response = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
        return JSON.stringify({
            response,
            // Signed as the response member of an encrypted answer: the JSON string, quotes included.
            sign: rsaSign(alipayPrivateKey, `"${response}"`),
            sign_type: 'RSA2',
            encrypt_type: 'AES',
            charset: 'UTF-8',
        });
    }

    const control = {
        'POST codes': (b) => {
            codes.set(str(b.code, 'code'), { user_id: str(b.user_id, 'user_id'), used: false });
            return { code: b.code };
        },
        'POST phone': (b) => ({ phone_code: phoneCode(str(b.phone, 'phone')) }),
        'POST pay': controlPay,
        'POST refund-mode': (b) => ({ mode: (refundMode = refundModeCall(b)) }),
        'POST refunds/*/settle': (b, _url, no) => controlSettle(no, b),
        'GET trades/*': (_b, _url, no) => {
            const t = trades.get(no);
            if (!t) throw new BadCall(`no trade ${no}`);
            return {
                request: t.request,
                trade: queryObject(t),
                refunds: [...t.refunds.values()].map((r) => ({
                    out_request_no: r.out_request_no,
                    refund_amount: fenToYuan(r.fen),
                    refund_reason: r.reason,
                    status: r.state,
                    refund_fee: fenToYuan(r.cumulative),
                    gmt_refund: r.gmt_refund,
                })),
            };
        },
    };

    return { handle, control };
}

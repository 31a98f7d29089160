// WeChat mini-program server APIs for the provider stub (base wechat.base_url): code2Session
// (wx.login codes), getAccessToken and getPhoneNumber (phone codes).
//
// Follows the mini-program server API reference: auth.code2Session
// (GET /sns/jscode2session), auth.getAccessToken (GET /cgi-bin/token) and
// phonenumber.getPhoneNumber (POST /wxa/business/getuserphonenumber).
import { jsonReply, nonEmptyString as str, randomString, randomUUID, nowSeconds } from './common.mjs';

export const APPID = 'wxa1b2c3d4e5f60001';

export function createWechatLogin({ secret }) {
    const codes = new Map(); // code -> {openid, unionid?, used}
    const phoneCodes = new Map(); // code -> {phone, country_code, used}
    const tokens = new Map(); // access_token -> {valid}
    let tokenFetches = 0;

    const err = (errcode, errmsg) => ({ errcode, errmsg: `${errmsg} rid: ${randomUUID().slice(0, 24)}` });

    // The app's credentials as the real API checks them: appid first (40013), then secret (40125).
    function credentialsProblem(q) {
        if (q.get('appid') !== APPID) return err(40013, 'invalid appid');
        if (q.get('secret') !== secret) return err(40125, 'invalid appsecret');
        return null;
    }

    function code2Session(q) {
        const bad = credentialsProblem(q);
        if (bad) return { body: bad, verified: false, error: `errcode ${bad.errcode}` };
        if (q.get('grant_type') !== 'authorization_code')
            return { body: err(40002, 'invalid grant_type'), verified: false, error: 'grant_type' };
        const entry = codes.get(q.get('js_code') ?? '');
        if (!entry) return { body: err(40029, 'invalid code'), verified: true };
        if (entry.used) return { body: err(40163, 'code been used'), verified: true };
        entry.used = true;
        const body = { session_key: randomString(22) + '==', openid: entry.openid };
        if (entry.unionid) body.unionid = entry.unionid;
        return { body, verified: true };
    }

    function getAccessToken(q) {
        const bad = credentialsProblem(q);
        if (bad) return { body: bad, verified: false, error: `errcode ${bad.errcode}` };
        if (q.get('grant_type') !== 'client_credential')
            return { body: err(40002, 'invalid grant_type'), verified: false, error: 'grant_type' };
        tokenFetches++;
        const token = randomString(136);
        tokens.set(token, { valid: true });
        return { body: { access_token: token, expires_in: 7200 }, verified: true };
    }

    function getPhoneNumber(q, bodyText) {
        const token = q.get('access_token');
        if (!token) return { body: err(41001, 'access_token missing'), verified: false, error: 'no token' };
        const t = tokens.get(token);
        if (!t || !t.valid)
            return {
                body: err(40001, 'invalid credential, access_token is invalid or not latest'),
                verified: false,
                error: 'bad token',
            };
        let code;
        try {
            code = JSON.parse(bodyText).code;
        } catch {
            return { body: err(47001, 'data format error'), verified: true };
        }
        const entry = typeof code === 'string' ? phoneCodes.get(code) : undefined;
        if (!entry || entry.used) return { body: err(40029, 'invalid code'), verified: true };
        entry.used = true;
        const pure = entry.phone;
        const cc = entry.country_code;
        return {
            body: {
                errcode: 0,
                errmsg: 'ok',
                phone_info: {
                    phoneNumber: cc === '86' ? pure : `+${cc}${pure}`,
                    purePhoneNumber: pure,
                    countryCode: cc,
                    watermark: { timestamp: nowSeconds(), appid: APPID },
                },
            },
            verified: true,
        };
    }

    // path relative to /wechat. Returns {reply, verified, error} or null for an unknown path.
    function handle(method, path, query, bodyText) {
        const q = new URLSearchParams(query);
        let r = null;
        if (method === 'GET' && path === '/sns/jscode2session') r = code2Session(q);
        else if (method === 'GET' && path === '/cgi-bin/token') r = getAccessToken(q);
        else if (method === 'POST' && path === '/wxa/business/getuserphonenumber') r = getPhoneNumber(q, bodyText);
        if (!r) return null;
        // The real API answers HTTP 200 with errcode in the body, success or not.
        return { reply: jsonReply(200, r.body), verified: r.verified, error: r.error };
    }

    const control = {
        'POST codes': (b) => {
            const entry = { openid: str(b.openid, 'openid'), used: false };
            if (b.unionid !== undefined) entry.unionid = str(b.unionid, 'unionid');
            codes.set(str(b.code, 'code'), entry);
            return { code: b.code };
        },
        'POST phone-codes': (b) => {
            const cc = b.country_code === undefined ? '86' : str(b.country_code, 'country_code');
            phoneCodes.set(str(b.code, 'code'), { phone: str(b.phone, 'phone'), country_code: cc, used: false });
            return { code: b.code };
        },
        'POST expire-token': () => {
            let n = 0;
            for (const t of tokens.values()) if (t.valid) (t.valid = false), n++;
            return { expired: n };
        },
        'GET stats': () => ({ token_fetches: tokenFetches }),
    };

    return { handle, control };
}

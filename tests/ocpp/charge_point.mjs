// One OCPP 1.6-J charge point for integration tests: ocpp-rpc's RPCClient in strict mode (every
// CALL, CALLRESULT and CALLERROR checked against the official 1.6 JSON schemas, both ways), driven
// by newline-delimited JSON on stdin and reporting newline-delimited JSON on stdout. Diagnostics
// that are not part of the protocol go to stderr. tests/ocpp/ocpp_peer.hpp drives it from C++;
// tests/ocpp/README.md has the protocol with examples.
//
// Requests, one JSON object per line; `tag` (any JSON value) is echoed in the answer:
//   {"op":"connect","tag":1,"url":"ws://127.0.0.1:9000/ocpp","identity":"CP1","password":"…",
//    "protocols":["ocpp1.6"],"ca":"/path/ca.pem","reconnect":false,"callTimeoutMs":10000}
//       -> {"tag":1,"ok":true,"protocol":"ocpp1.6"}
//       |  {"tag":1,"ok":false,"error":{"kind":"http","status":401,"message":"Unauthorized"}}
//       |  {"tag":1,"ok":false,"error":{"kind":"socket","code":"ECONNREFUSED","message":"…"}}
//   {"op":"call","tag":2,"action":"BootNotification","payload":{…},"timeoutMs":10000}
//       -> {"tag":2,"ok":true,"result":{…}}
//       |  {"tag":2,"ok":false,"error":{"kind":K,"code":"…","message":"…","details":{…}}}
//          K: callerror        the server answered a CALLERROR (code and details as sent)
//             invalid_request  strict mode refused OUR payload; nothing was sent
//             invalid_response strict mode refused the server's CALLRESULT
//             timeout          no answer within timeoutMs
//             closed           the connection is not open or closed while waiting
//   {"op":"raw","tag":3,"text":"[2,\"x1\",\"Heartbeat\",[]]"}   one text frame, no validation
//       -> {"tag":3,"ok":true}
//   {"op":"handle","tag":4,"action":"RemoteStartTransaction","respond":{"status":"Accepted"},"once":false}
//   {"op":"handle","tag":5,"action":"Reset","respond":{"error":{"code":"NotSupported","message":"…"}}}
//       -> {"tag":4,"ok":true}        how later CALLs of that action are answered (a respond
//                                     object whose only key is "error" means a CALLERROR);
//                                     an action never configured is answered NotImplemented
//   {"op":"close","tag":6,"code":1000,"reason":"bye","force":false}
//       -> {"tag":6,"ok":true,"code":1000,"reason":"bye"}   force: drop the TCP connection, no close frame
//   {"op":"exit","tag":7}  -> {"tag":7,"ok":true}, then the process exits (so does EOF on stdin)
// Events, one JSON object per line, in the order they happen:
//   {"event":"open","protocol":"ocpp1.6"}
//   {"event":"close","code":1000,"reason":"…"}        an open connection closed (1006: dropped)
//   {"event":"call","action":"…","payload":{…},"uniqueId":"…"}   every CALL from the server,
//                                                     before it is validated and answered
//   {"event":"strict_violation","isCall":true|false,"action":"…","uniqueId":"…","code":"…","message":"…"}
//       the server sent us a CALL or CALLRESULT the schemas refuse (a refused CALL is answered
//       with a CALLERROR carrying that code by ocpp-rpc)
//   {"event":"raw_message","text":"…","error":"…"}   a frame ocpp-rpc matched to none of our
//       calls or could not read: the reply to a `raw` frame, or garbage from the server
//   {"event":"log","message":"…"}                    diagnostics (socket errors, our own
//       configured response refused by strict mode: the server then got an InternalError)
//
// What of ocpp-rpc this relies on: its public API only. `raw` is RPCClient.sendRaw() (public,
// unvalidated); replies to raw frames come out of its 'badMessage' event, because no pending call
// of ours has their unique id. The kind of a failed call is told apart by error object identity:
// 'strictValidationFailure' names the very error object call() then rejects with.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import rpc from 'ocpp-rpc';

const { RPCClient, createRPCError, TimeoutError, UnexpectedHttpResponse } = rpc;

function emit(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

function plainError(err) {
    return { code: err?.rpcErrorCode ?? err?.code, message: err?.message ?? String(err), details: err?.details };
}

let client = null;
const handlers = new Map(); // action -> {respond, once}
const refusedOutbound = new WeakSet(); // errors of our own CALLs refused by strict mode
const refusedInbound = new WeakSet(); // errors of the server's CALLRESULTs refused by strict mode
const callErrorIds = new WeakMap(); // error -> unique id of our CALL it failed
const callErrorsSeen = new Map(); // unique id -> the server's CALLERROR as sent

function answerIncoming({ method, params }) {
    const h = handlers.get(method);
    if (!h) throw createRPCError('NotImplemented', `charge_point.mjs: no handler for ${method}`);
    if (h.once) handlers.delete(method);
    const r = h.respond ?? {};
    const keys = Object.keys(r);
    if (keys.length === 1 && keys[0] === 'error') throw createRPCError(r.error.code, r.error.message, r.error.details);
    return r;
}

function attach(c) {
    c.handle(answerIncoming);
    let opened = false; // a refused connect also makes ocpp-rpc emit 'close': not reported
    c.on('open', () => {
        opened = true;
        emit({ event: 'open', protocol: c.protocol });
    });
    c.on('close', ({ code, reason }) => {
        if (opened) emit({ event: 'close', code, reason: String(reason ?? '') });
        opened = false;
    });
    c.on('call', ({ outbound, payload }) => {
        if (!outbound) emit({ event: 'call', action: payload[2], payload: payload[3], uniqueId: payload[1] });
    });
    c.on('response', ({ outbound, payload }) => {
        if (!outbound && payload[0] === 4)
            callErrorsSeen.set(payload[1], { code: payload[2], message: payload[3], details: payload[4] });
    });
    c.on('callError', ({ outbound, messageId, error }) => {
        if (outbound && error && typeof error === 'object') callErrorIds.set(error, messageId);
    });
    c.on('strictValidationFailure', ({ messageId, method, error, outbound, isCall }) => {
        if (outbound && isCall) refusedOutbound.add(error);
        else if (outbound) emit({ event: 'log', message: `our response to ${method} refused by strict mode: ${error.message}` });
        else {
            if (!isCall) refusedInbound.add(error);
            emit({ event: 'strict_violation', isCall, action: method, uniqueId: messageId, code: error.rpcErrorCode, message: error.message });
        }
    });
    c.on('badMessage', ({ buffer, error }) => emit({ event: 'raw_message', text: buffer.toString('utf8'), error: error?.message }));
    c.on('socketError', (err) => emit({ event: 'log', message: `socket error: ${err.message}` }));
}

function callFailure(err) {
    if (refusedOutbound.has(err)) return { kind: 'invalid_request', ...plainError(err) };
    if (refusedInbound.has(err)) return { kind: 'invalid_response', ...plainError(err) };
    if (err instanceof TimeoutError) return { kind: 'timeout', message: err.message };
    const id = callErrorIds.get(err);
    const sent = callErrorsSeen.get(id);
    callErrorsSeen.delete(id);
    if (sent) return { kind: 'callerror', ...sent };
    return { kind: 'closed', message: err?.message ?? String(err) };
}

const ops = {
    async connect(req) {
        if (client) client.removeAllListeners();
        const wsOpts = req.ca ? { ca: readFileSync(req.ca) } : {};
        client = new RPCClient({
            endpoint: req.url,
            identity: req.identity,
            password: req.password ?? null,
            protocols: req.protocols ?? ['ocpp1.6'],
            strictMode: true,
            reconnect: req.reconnect ?? false,
            callTimeoutMs: req.callTimeoutMs ?? 10000,
            wsOpts,
        });
        attach(client);
        try {
            await client.connect();
            return { ok: true, protocol: client.protocol };
        } catch (err) {
            if (err instanceof UnexpectedHttpResponse)
                return { ok: false, error: { kind: 'http', status: err.code, message: err.message } };
            return { ok: false, error: { kind: 'socket', code: err.code, message: err.message } };
        }
    },
    async call(req) {
        if (!client) return { ok: false, error: { kind: 'closed', message: 'not connected' } };
        try {
            const options = req.timeoutMs ? { callTimeoutMs: req.timeoutMs } : {};
            return { ok: true, result: await client.call(req.action, req.payload ?? {}, options) };
        } catch (err) {
            return { ok: false, error: callFailure(err) };
        }
    },
    async raw(req) {
        if (!client) return { ok: false, error: { kind: 'closed', message: 'not connected' } };
        client.sendRaw(req.text);
        return { ok: true };
    },
    async handle(req) {
        handlers.set(req.action, { respond: req.respond, once: !!req.once });
        return { ok: true };
    },
    async close(req) {
        if (!client) return { ok: true };
        const r = await client.close({ code: req.code, reason: req.reason, force: !!req.force });
        return { ok: true, code: r?.code, reason: String(r?.reason ?? '') };
    },
};

async function exitNow(answer) {
    if (client) await client.close({ force: true }).catch(() => {});
    process.stdout.write(answer ? JSON.stringify(answer) + '\n' : '', () => process.exit(0));
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', async (line) => {
    if (!line.trim()) return;
    let req;
    try {
        req = JSON.parse(line);
    } catch (err) {
        emit({ event: 'log', message: `unreadable request: ${err.message}` });
        return;
    }
    if (req.op === 'exit') return exitNow({ tag: req.tag, ok: true });
    const op = ops[req.op];
    try {
        const answer = op ? await op(req) : { ok: false, error: { kind: 'usage', message: `unknown op ${req.op}` } };
        emit({ tag: req.tag, ...answer });
    } catch (err) {
        emit({ tag: req.tag, ok: false, error: { kind: 'usage', message: err.message } });
    }
});
lines.on('close', () => exitNow(null));

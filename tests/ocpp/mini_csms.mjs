// A minimal OCPP 1.6-J central system for test_ocpp_peer only (the bridge's self-test; gateway
// tests use the real pilehub-ocpp): ocpp-rpc's RPCServer in strict mode on 127.0.0.1.
//
//   node mini_csms.mjs <port> [<tls dir with broker.crt, broker.key>]
//
// Accepts identity CP1 with Basic-auth password "secret" and subprotocol ocpp1.6 (anything else:
// HTTP 401); answers BootNotification Accepted and Heartbeat, and Authorize with a CALLRESULT the
// schema refuses (idTagInfo.status "Bogus", sent raw past its own strict mode); never answers
// DataTransfer. Reports on stdout, one JSON object a line: {"event":"listening"},
// {"event":"client","identity":…}, {"event":"disconnect","code":…},
// {"event":"remote_start_result","ok":…,"result"|"error":…}, and {"event":"unmatched","text":…}
// (a frame answering none of its calls: the reply to a raw one).
// Lines on stdin: {"op":"remote_start","idTag":…} sends the connected charge point a
// RemoteStartTransaction, {"op":"raw","text":…} sends it one unvalidated frame; EOF ends the process.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { createInterface } from 'node:readline';
import rpc from 'ocpp-rpc';

const { RPCServer, NOREPLY } = rpc;
const [port, tlsDir] = process.argv.slice(2);

function emit(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
server.auth((accept, reject, handshake) => {
    const password = handshake.password?.toString('utf8');
    if (handshake.identity === 'CP1' && password === 'secret') accept();
    else reject(401, 'Unauthorized');
});

let current = null;
server.on('client', (client) => {
    current = client;
    emit({ event: 'client', identity: client.identity, protocol: client.protocol });
    client.handle('BootNotification', () => ({
        status: 'Accepted',
        currentTime: new Date().toISOString(),
        interval: 300,
    }));
    client.handle('Heartbeat', () => ({ currentTime: new Date().toISOString() }));
    client.handle('Authorize', ({ messageId }) => {
        client.sendRaw(JSON.stringify([3, messageId, { idTagInfo: { status: 'Bogus' } }]));
        return NOREPLY;
    });
    client.handle('DataTransfer', () => NOREPLY);
    client.on('badMessage', ({ buffer }) => emit({ event: 'unmatched', text: buffer.toString('utf8') }));
    client.on('close', ({ code }) => emit({ event: 'disconnect', identity: client.identity, code }));
});

const commands = createInterface({ input: process.stdin });
commands.on('close', () => process.exit(0)); // the test is done with us
commands.on('line', async (line) => {
    const req = JSON.parse(line);
    if (req.op === 'raw' && current) return current.sendRaw(req.text);
    if (req.op !== 'remote_start' || !current) return emit({ event: 'log', message: `ignored ${line}` });
    try {
        const result = await current.call('RemoteStartTransaction', { idTag: req.idTag, connectorId: 1 });
        emit({ event: 'remote_start_result', ok: true, result });
    } catch (err) {
        emit({ event: 'remote_start_result', ok: false, error: { code: err.rpcErrorCode, message: err.message } });
    }
});

if (tlsDir) {
    const https = createServer({
        cert: readFileSync(`${tlsDir}/broker.crt`),
        key: readFileSync(`${tlsDir}/broker.key`),
    });
    https.on('upgrade', server.handleUpgrade);
    await new Promise((resolve) => https.listen(Number(port), '127.0.0.1', resolve));
} else {
    await server.listen(Number(port), '127.0.0.1');
}
emit({ event: 'listening' });

#!/usr/bin/env node
// The demo's OCPP 1.6-J chargers: every `"protocol": "ocpp1.6"` entry of a fleet file (written by
// `pilehubctl fleet provision --ocpp N`) played by npm ocpp-rpc's RPCClient in strict mode, a charge
// point nobody on the PileHub team wrote, so the demo shows the gateway talking to a real OCPP
// stack (every message both ways checked against the official OCPP 1.6 JSON schemas).
//
//   node scripts/ocpp-charger.mjs --fleet <fleet.json> [--power-w 7000] [--battery-wh 60000]
//
// Each charger boots, reports its guns Available, and then only does what the central system asks,
// the way a real one does when a rider starts from the app:
//   RemoteStartTransaction → Accepted, Preparing, StartTransaction (the given idTag), Charging,
//     MeterValues every MeterValueSampleInterval seconds (register, power, SoC of a car arriving at
//     30 %), SuspendedEV when the car is full (the platform's auto-stop then stops it);
//   RemoteStopTransaction → Accepted, StopTransaction (reason Remote), Finishing, Available;
//   Reset, UnlockConnector, ChangeAvailability, ChangeConfiguration, GetConfiguration,
//   TriggerMessage, UpdateFirmware (with FirmwareStatusNotification) answered as a charger would.
// It reconnects by itself when the gateway restarts. Logs go to stderr. SIGTERM stops it.
import { readFileSync } from 'node:fs';
import rpc from 'ocpp-rpc';

const { RPCClient, createRPCError } = rpc;

function arg(name, fallback) {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const fleetFile = arg('fleet');
if (!fleetFile) {
    console.error('usage: ocpp-charger.mjs --fleet <fleet.json> [--power-w W] [--battery-wh WH]');
    process.exit(2);
}
const powerW = Number(arg('power-w', '7000')); // the 7 kW AC gun `fleet provision` registers
const batteryWh = Number(arg('battery-wh', '60000'));
const log = (...a) => console.error(new Date().toISOString(), ...a);
const now = () => new Date().toISOString();

class Charger {
    constructor(entry) {
        this.id = entry.id;
        this.url = entry.ocpp_url.slice(0, entry.ocpp_url.length - entry.id.length - 1); // ocpp-rpc appends /<id>
        this.password = entry.ocpp_password;
        this.guns = Array.from({ length: entry.guns ?? 1 }, (_, i) => ({
            n: i + 1, status: 'Available', registerWh: 1_000_000 * (i + 1), tx: null, timer: null,
        }));
        this.config = { MeterValueSampleInterval: '10', HeartbeatInterval: '300' };
        this.firmware = 'ocpp-rpc-demo-1.0';
        this.client = new RPCClient({
            endpoint: this.url, identity: this.id, password: this.password, protocols: ['ocpp1.6'],
            strictMode: true, reconnect: true, maxReconnects: Infinity,
        });
        this.client.on('open', () => this.boot().catch((e) => log(this.id, 'boot failed:', e.message)));
        this.client.on('close', ({ code }) => log(this.id, 'closed', code));
        this.client.on('strictValidationFailure', ({ method, error, outbound }) =>
            log(this.id, `strict mode refused ${outbound ? 'our' : "the gateway's"} ${method}: ${error.message}`));
        this.handlers();
    }

    async start() {
        await this.client.connect();
    }

    async boot() {
        const r = await this.client.call('BootNotification', {
            chargePointVendor: 'ocpp-rpc', chargePointModel: 'demo-dc', chargePointSerialNumber: this.id,
            firmwareVersion: this.firmware,
        });
        log(this.id, 'BootNotification', r.status, 'interval', r.interval);
        clearInterval(this.heartbeat);
        this.heartbeat = setInterval(() => this.client.call('Heartbeat', {}).catch(() => {}),
            Math.max(10, r.interval) * 1000);
        await this.status(0, 'Available');
        for (const g of this.guns) await this.status(g.n, g.status);
    }

    async status(n, status) {
        if (n > 0) this.guns[n - 1].status = status;
        await this.client.call('StatusNotification', { connectorId: n, errorCode: 'NoError', status, timestamp: now() });
    }

    gun(n) {
        const g = this.guns[n - 1];
        if (!g) throw createRPCError('PropertyConstraintViolation', `no connector ${n}`);
        return g;
    }

    handlers() {
        const c = this.client;
        c.handle('RemoteStartTransaction', ({ params }) => {
            const g = this.guns[(params.connectorId ?? 1) - 1];
            if (!g || g.tx || g.status !== 'Available') return { status: 'Rejected' };
            setTimeout(() => this.startTx(g, params.idTag).catch((e) => log(this.id, 'start failed:', e.message)), 500);
            return { status: 'Accepted' };
        });
        c.handle('RemoteStopTransaction', ({ params }) => {
            const g = this.guns.find((x) => x.tx && x.tx.id === params.transactionId);
            if (!g) return { status: 'Rejected' };
            setTimeout(() => this.stopTx(g, 'Remote').catch((e) => log(this.id, 'stop failed:', e.message)), 200);
            return { status: 'Accepted' };
        });
        c.handle('Reset', ({ params }) => {
            log(this.id, 'Reset', params.type);
            return { status: 'Accepted' };
        });
        c.handle('UnlockConnector', ({ params }) => {
            this.gun(params.connectorId);
            return { status: 'Unlocked' };
        });
        c.handle('ChangeAvailability', ({ params }) => {
            const targets = params.connectorId === 0 ? this.guns : [this.gun(params.connectorId)];
            if (targets.some((g) => g.tx)) return { status: 'Scheduled' };
            const status = params.type === 'Operative' ? 'Available' : 'Unavailable';
            setTimeout(() => targets.forEach((g) => this.status(g.n, status).catch(() => {})), 100);
            return { status: 'Accepted' };
        });
        c.handle('ChangeConfiguration', ({ params }) => {
            if (!(params.key in this.config)) return { status: 'NotSupported' };
            if (!/^[0-9]+$/.test(params.value)) return { status: 'Rejected' };
            this.config[params.key] = params.value;
            return { status: 'Accepted' };
        });
        c.handle('GetConfiguration', ({ params }) => {
            const keys = params.key?.length ? params.key : Object.keys(this.config);
            return {
                configurationKey: keys.filter((k) => k in this.config).map((k) => ({ key: k, readonly: false, value: this.config[k] })),
                unknownKey: keys.filter((k) => !(k in this.config)),
            };
        });
        c.handle('TriggerMessage', ({ params }) => {
            const what = params.requestedMessage;
            if (what === 'Heartbeat') setTimeout(() => c.call('Heartbeat', {}).catch(() => {}), 100);
            else if (what === 'StatusNotification') {
                const gs = params.connectorId ? [this.gun(params.connectorId)] : this.guns;
                setTimeout(() => gs.forEach((g) => this.status(g.n, g.status).catch(() => {})), 100);
            } else if (what === 'BootNotification') setTimeout(() => this.boot().catch(() => {}), 100);
            else return { status: 'NotImplemented' };
            return { status: 'Accepted' };
        });
        c.handle('UpdateFirmware', ({ params }) => {
            log(this.id, 'UpdateFirmware from', params.location);
            const steps = ['Downloading', 'Downloaded', 'Installing', 'Installed'];
            steps.forEach((status, i) => setTimeout(() => {
                if (status === 'Installed') this.firmware = 'ocpp-rpc-demo-1.1';
                c.call('FirmwareStatusNotification', { status }).catch(() => {});
            }, 1000 * (i + 1)));
            return {};
        });
    }

    async startTx(g, idTag) {
        await this.status(g.n, 'Preparing');
        const r = await this.client.call('StartTransaction', {
            connectorId: g.n, idTag, meterStart: g.registerWh, timestamp: now(),
        });
        if (r.idTagInfo.status !== 'Accepted') {
            log(this.id, `gun ${g.n}: ${idTag} ${r.idTagInfo.status}`);
            await this.client.call('StopTransaction', {
                transactionId: r.transactionId, meterStop: g.registerWh, timestamp: now(), reason: 'DeAuthorized',
            });
            await this.status(g.n, 'Available');
            return;
        }
        g.tx = { id: r.transactionId, socPct: 30, last: Date.now() };
        log(this.id, `gun ${g.n}: transaction ${g.tx.id} for ${idTag}`);
        await this.status(g.n, 'Charging');
        const tick = async () => {
            if (!g.tx) return;
            const t = Date.now();
            const full = g.tx.socPct >= 100;
            const wh = full ? 0 : Math.round((powerW * (t - g.tx.last)) / 3_600_000);
            g.tx.last = t;
            g.registerWh += wh;
            g.tx.socPct = Math.min(100, g.tx.socPct + (100 * wh) / batteryWh);
            if (full && g.status !== 'SuspendedEV') await this.status(g.n, 'SuspendedEV');
            await this.client.call('MeterValues', {
                connectorId: g.n, transactionId: g.tx.id,
                meterValue: [{
                    timestamp: now(),
                    sampledValue: [
                        { value: (g.registerWh / 1000).toFixed(3), measurand: 'Energy.Active.Import.Register', unit: 'kWh', context: 'Sample.Periodic' },
                        { value: String(full ? 0 : powerW), measurand: 'Power.Active.Import', unit: 'W', context: 'Sample.Periodic' },
                        { value: String(Math.floor(g.tx.socPct)), measurand: 'SoC', unit: 'Percent', location: 'EV', context: 'Sample.Periodic' },
                    ],
                }],
            }).catch(() => {});
            g.timer = setTimeout(tick, Number(this.config.MeterValueSampleInterval) * 1000);
        };
        g.timer = setTimeout(tick, Number(this.config.MeterValueSampleInterval) * 1000);
    }

    async stopTx(g, reason) {
        if (!g.tx) return;
        clearTimeout(g.timer);
        const tx = g.tx;
        g.tx = null;
        await this.client.call('StopTransaction', { transactionId: tx.id, meterStop: g.registerWh, timestamp: now(), reason });
        log(this.id, `gun ${g.n}: transaction ${tx.id} stopped (${reason})`);
        await this.status(g.n, 'Finishing');
        await this.status(g.n, 'Available');
    }
}

const fleet = JSON.parse(readFileSync(fleetFile, 'utf8'));
const entries = (fleet.devices ?? []).filter((d) => d.protocol === 'ocpp1.6');
if (entries.length === 0) {
    log('no ocpp1.6 charger in', fleetFile);
    process.exit(0);
}
const chargers = entries.map((e) => new Charger(e));
for (const c of chargers) c.start().catch((e) => log(c.id, 'connect failed:', e.message));
const bye = async () => {
    await Promise.allSettled(chargers.map((c) => c.client.close({ code: 1000, reason: 'shutdown' })));
    process.exit(0);
};
process.on('SIGTERM', bye);
process.on('SIGINT', bye);

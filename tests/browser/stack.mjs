// The PileHub stack the browser tests run against: scripts/up on free loopback ports and a temporary
// data directory, from an existing build (PILEHUB_SKIP_BUILD=1), with pilehub-api serving the web
// pages from `webRoot`. scripts/up starts the broker, every daemon, the simulated fleet and the demo
// tariff; `stop()` runs scripts/down with the same environment.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// Stacks started or starting in this process, so that a signal handler can stop them all.
const live = new Set();

/** `count` distinct free TCP ports on 127.0.0.1: each is listened on at once (port 0), then closed. */
export async function freePorts(count) {
    const servers = [];
    try {
        for (let i = 0; i < count; i++) {
            const srv = createServer();
            await new Promise((ok, fail) => {
                srv.once('error', fail);
                srv.listen(0, '127.0.0.1', ok);
            });
            servers.push(srv);
        }
        return servers.map((s) => s.address().port);
    } finally {
        await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
    }
}

/** Whether the built pilehub-api knows the setting `pilehub-api.web_root` (its --help lists every key). */
function apiServesWebRoot(buildDir) {
    const out = spawnSync(join(buildDir, 'web-api/pilehub-api'), ['--help'], { encoding: 'utf8', timeout: 10000 });
    return `${out.stdout}${out.stderr}`.includes('pilehub-api.web_root');
}

/**
 * Starts the stack. Options: `webRoot` (default: this repository's web-api/www), `buildDir`
 * (default: PILEHUB_BUILD_DIR, else <repo>/build). Resolves to {url, adminUser, adminPassword,
 * dataDir, logDir, webRoot, stop()}; `webRoot` is null when the build's pilehub-api does not know
 * the setting yet (no static serving: the line would make it refuse its configuration).
 */
export async function startStack({ webRoot, buildDir } = {}) {
    buildDir = resolve(buildDir ?? process.env.PILEHUB_BUILD_DIR ?? join(REPO, 'build'));
    webRoot = resolve(webRoot ?? join(REPO, 'web-api/www'));
    const api = join(buildDir, 'web-api/pilehub-api');
    try {
        accessSync(api, constants.X_OK);
    } catch {
        throw new Error(`startStack: ${api} is not built (PILEHUB_BUILD_DIR=${buildDir})`);
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'pilehub-browser-'));
    const servesWeb = apiServesWebRoot(buildDir);
    const extra = join(dataDir, 'config-extra.conf');
    writeFileSync(extra, servesWeb ? `pilehub-api.web_root = ${webRoot}\n` : '');
    const [http, mqtt, mqtts, ocpp, ocpps] = await freePorts(5);
    const adminPassword = randomBytes(18).toString('base64url');
    const env = {
        ...process.env,
        PILEHUB_BUILD_DIR: buildDir,
        PILEHUB_DATA_DIR: dataDir,
        PILEHUB_HTTP_PORT: String(http),
        PILEHUB_MQTT_PORT: String(mqtt),
        PILEHUB_MQTTS_PORT: String(mqtts),
        PILEHUB_OCPP_PORT: String(ocpp),
        PILEHUB_OCPPS_PORT: String(ocpps),
        PILEHUB_DEV: '1',
        PILEHUB_SKIP_BUILD: '1',
        PILEHUB_SIM_TRAFFIC: '0', // no parking traffic: the tests bring their own cars
        PILEHUB_ADMIN_PASSWORD: adminPassword,
        PILEHUB_CONFIG_EXTRA: extra,
    };
    const logDir = join(dataDir, 'log');
    const upLog = join(dataDir, 'up.log');
    let stopped = false;
    const stack = {
        url: `http://127.0.0.1:${http}`,
        adminUser: 'admin',
        adminPassword,
        dataDir,
        logDir,
        webRoot: servesWeb ? webRoot : null,
        upChild: null,
        /** Stops every process scripts/up started (synchronous, so it also runs in signal handlers). */
        stop({ removeData = false } = {}) {
            if (!stopped) {
                stopped = true;
                if (stack.upChild && stack.upChild.exitCode === null) stack.upChild.kill('SIGTERM');
                spawnSync(join(REPO, 'scripts/down'), { env, stdio: 'ignore', timeout: 60000 });
                live.delete(stack);
            }
            if (removeData) rmSync(dataDir, { recursive: true, force: true });
        },
    };
    live.add(stack);
    const fd = openSync(upLog, 'a');
    const code = await new Promise((ok) => {
        const child = spawn(join(REPO, 'scripts/up'), [], { env, stdio: ['ignore', fd, fd] });
        stack.upChild = child;
        child.on('exit', (c, sig) => ok(c ?? sig));
        child.on('error', (e) => ok(e.message));
    });
    closeSync(fd);
    stack.upChild = null;
    if (code !== 0) {
        const tail = readFileSync(upLog, 'utf8').split('\n').slice(-15).join('\n');
        stack.stop();
        throw new Error(`scripts/up failed (${code}); its output (${upLog}):\n${tail}\nlogs: ${logDir}`);
    }
    return stack;
}

/** Stops every stack of this process that is not stopped yet (for SIGINT/SIGTERM handlers). */
export function stopAllStacks() {
    for (const s of [...live]) s.stop();
}

// Runs the browser tests against one stack started for the run (stack.mjs):
//
//   node tests/browser/run.mjs                 every tests/browser/*.test.mjs
//   node tests/browser/run.mjs devices h5      only devices.test.mjs and h5.test.mjs
//
// PILEHUB_BUILD_DIR names the build to run (default <repo>/build; nothing is built). The tests get
// PILEHUB_TEST_URL, PILEHUB_TEST_ADMIN_PASSWORD, PILEHUB_TEST_DATA_DIR and PILEHUB_TEST_WEB_ROOT and
// run one file at a time (node --test --test-concurrency=1). The stack is stopped whatever happens
// (also on SIGINT/SIGTERM); its data directory is removed when every test passed and kept, with its
// logs, when one failed. Exits with the test run's status; 77 (CTest's skip) when Chromium or
// playwright-core is missing.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, startStack, stopAllStacks } from './stack.mjs';

const HERE = join(REPO, 'tests/browser');
const SKIP = 77;

function files(names) {
    if (names.length === 0) {
        return readdirSync(HERE).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => join(HERE, f));
    }
    return names.map((n) => {
        const f = join(HERE, n.endsWith('.test.mjs') ? n : `${n}.test.mjs`);
        if (!existsSync(f)) {
            console.error(`run.mjs: no ${f}`);
            process.exit(2);
        }
        return f;
    });
}

if (!existsSync('/usr/bin/chromium')) {
    console.error('run.mjs: SKIP: /usr/bin/chromium is missing (scripts/install-deps installs Debian\'s chromium)');
    process.exit(SKIP);
}
if (!existsSync(join(REPO, 'node_modules/playwright-core'))) {
    console.error('run.mjs: SKIP: node_modules/playwright-core is missing (scripts/install-deps runs npm ci)');
    process.exit(SKIP);
}

const tests = files(process.argv.slice(2));
let child = null;
for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
        console.error(`run.mjs: ${sig}: stopping the tests and the stack`);
        if (child && child.exitCode === null) child.kill('SIGTERM');
        stopAllStacks();
        process.exit(sig === 'SIGINT' ? 130 : 143);
    });
}

const t0 = Date.now();
let stack;
try {
    stack = await startStack();
} catch (e) {
    console.error(`run.mjs: the stack did not start: ${e.message}`);
    process.exit(1);
}
console.error(`run.mjs: stack up at ${stack.url} in ${((Date.now() - t0) / 1000).toFixed(1)} s (data: ${stack.dataDir}` +
    `${stack.webRoot ? `, pages from ${stack.webRoot}` : ', this build serves no pages yet'})`);

let status = 1;
try {
    status = await new Promise((ok) => {
        child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=300000', ...tests], {
            stdio: 'inherit',
            env: {
                ...process.env,
                PILEHUB_TEST_URL: stack.url,
                PILEHUB_TEST_ADMIN_PASSWORD: stack.adminPassword,
                PILEHUB_TEST_DATA_DIR: stack.dataDir,
                PILEHUB_TEST_WEB_ROOT: stack.webRoot ?? '',
            },
        });
        child.on('exit', (code, sig) => ok(code ?? (sig ? 1 : 0)));
        child.on('error', (e) => {
            console.error(`run.mjs: ${e.message}`);
            ok(1);
        });
    });
} finally {
    stack.stop({ removeData: status === 0 });
}
if (status !== 0) console.error(`run.mjs: tests failed; the stack's logs are in ${stack.logDir}`);
process.exit(status);

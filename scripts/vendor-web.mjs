// The vendored web libraries: which files of which npm package go where under
// web-api/www/static/vendor/, written by scripts/vendor-web and checked by scripts/check-vendor.
//
//   node scripts/vendor-web.mjs          (re)write web-api/www/static/vendor/ from node_modules/
//   node scripts/vendor-web.mjs --check  exit 1 listing every vendored file that differs from its
//                                        node_modules/ source, is missing or is left over (a version
//                                        directory that package-lock.json no longer names)
//
// Node 20 built-ins only. The version of each directory is the one package-lock.json locks; the
// installed node_modules/ must hold that same version (scripts/install-deps runs npm ci).
import { readFileSync, writeFileSync, mkdirSync, rmSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const VENDOR = join(ROOT, 'web-api/www/static/vendor');
const VENDOR_REL = 'web-api/www/static/vendor';

// One directory per package, <package>-<version>/, holding `files` (vendored name: path inside
// node_modules/). `licences` names every licence the files carry (a bundled package's too).
const PACKAGES = [
    {
        pkg: 'htm',
        what: 'htm with Preact and its hooks in one ES module (`import { html, render, useState } from ...`)',
        files: {
            'standalone.module.js': 'htm/preact/standalone.module.js',
            LICENSE: 'htm/LICENSE',
            // The standalone build bundles Preact 10.5.14 (its hooks' useContext is that release's);
            // package.json pins that preact for this licence text.
            'LICENSE.preact': 'preact/LICENSE',
        },
        licences: 'htm: Apache-2.0 (`LICENSE`); the Preact it bundles: MIT (`LICENSE.preact`, npm `preact` @PREACT@)',
    },
    {
        pkg: 'chart.js',
        what: 'Chart.js, UMD build: a classic `<script>` that defines `window.Chart`',
        files: {
            'chart.umd.min.js': 'chart.js/dist/chart.umd.min.js',
            LICENSE: 'chart.js/LICENSE.md',
            // The UMD build bundles @kurkle/color (Chart.js's colour parser).
            'LICENSE.kurkle-color': '@kurkle/color/LICENSE',
        },
        licences: 'Chart.js: MIT (`LICENSE`); the @kurkle/color it bundles: MIT (`LICENSE.kurkle-color`, npm `@kurkle/color` @KURKLE@)',
    },
];

function lockedVersions() {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
    const version = (name) => {
        const v = lock.packages?.[`node_modules/${name}`]?.version;
        if (!v) throw new Error(`package-lock.json does not lock ${name}`);
        return v;
    };
    return version;
}

function installedVersion(name) {
    const p = join(ROOT, 'node_modules', name, 'package.json');
    return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')).version : null;
}

// Every file of the vendor directory as { rel: contents } (README.md included), from node_modules/.
function expected() {
    const locked = lockedVersions();
    const problems = [];
    for (const name of ['htm', 'preact', 'chart.js', '@kurkle/color']) {
        const have = installedVersion(name);
        if (have !== locked(name)) {
            problems.push(`node_modules/${name} is ${have ?? 'missing'}, package-lock.json locks ${locked(name)} (run scripts/install-deps)`);
        }
    }
    if (problems.length) return { problems };
    const files = {};
    const rows = [];
    for (const p of PACKAGES) {
        const dir = `${p.pkg}-${locked(p.pkg)}`;
        for (const [name, src] of Object.entries(p.files)) {
            files[`${dir}/${name}`] = readFileSync(join(ROOT, 'node_modules', src));
        }
        const licences = p.licences.replace('@PREACT@', locked('preact')).replace('@KURKLE@', locked('@kurkle/color'));
        const list = Object.entries(p.files).map(([n, s]) => `\`${n}\` (from \`${s}\`)`).join(', ');
        rows.push(`| \`${dir}/\` | ${p.what} | npm \`${p.pkg}\` ${locked(p.pkg)}: ${list} | ${licences} |`);
    }
    files['README.md'] = Buffer.from(`# static/vendor/

Third-party JavaScript the web pages load from the installation itself (no CDN: CONTRACT.md part H),
copied unchanged from the npm packages that package.json pins exactly. **Generated: do not edit.**
Regenerate with \`scripts/vendor-web\` after changing a version in package.json (\`npm install
--save-exact <pkg>@<version>\`); \`scripts/check-vendor\` (CTest \`check_vendor\`, label \`check\`) fails
when a file here differs from its node_modules/ source or a directory's version is not the one
package-lock.json locks. Each directory is named \`<package>-<version>/\`, so pilehub-api may serve it
with \`Cache-Control: immutable\`.

| directory | what | from | licence |
| --- | --- | --- | --- |
${rows.join('\n')}

chart.umd.min.js ends with a \`sourceMappingURL\` comment; its map (1 MB) is not vendored, so browser
developer tools say it is missing and nothing else does.
`);
    return { files };
}

function listTree(dir, prefix = '') {
    if (!existsSync(dir)) return [];
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? listTree(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]);
}

const check = process.argv.includes('--check');
const { files, problems } = expected();
if (problems) {
    for (const p of problems) console.error(`${check ? 'check-vendor' : 'vendor-web'}: ${p}`);
    process.exit(1);
}

if (!check) {
    rmSync(VENDOR, { recursive: true, force: true });
    for (const [rel, data] of Object.entries(files)) {
        mkdirSync(dirname(join(VENDOR, rel)), { recursive: true });
        writeFileSync(join(VENDOR, rel), data);
    }
    console.log(`vendor-web: wrote ${Object.keys(files).length} files to ${VENDOR_REL}/`);
    process.exit(0);
}

const bad = [];
const present = new Set(listTree(VENDOR));
for (const [rel, data] of Object.entries(files)) {
    if (!present.has(rel)) bad.push(`missing: ${VENDOR_REL}/${rel}`);
    else if (!readFileSync(join(VENDOR, rel)).equals(data)) bad.push(`differs from node_modules/: ${VENDOR_REL}/${rel}`);
}
for (const rel of present) {
    if (!(rel in files)) bad.push(`not from package-lock.json's versions (an old version?): ${VENDOR_REL}/${rel}`);
}
if (bad.length) {
    for (const b of bad.sort()) console.error(`check-vendor: ${b}`);
    console.error('check-vendor: run scripts/vendor-web and commit web-api/www/static/vendor/');
    process.exit(1);
}
console.log(`check-vendor: ${Object.keys(files).length} vendored files match package-lock.json and node_modules/`);

// Turns the chaos suite's figures (one JSON line each: test, figure, bar, pass, scale) into a table:
// printed always; with --write FILE also put between the markers of docs/reliability.md with the
// machine, the command and the date. Exit 1 when a figure failed its bar or none was recorded.
// Usage: node scripts/chaos-report.mjs --figures F --scale quick|full --seconds N --command TEXT [--write FILE]
import fs from 'node:fs';
import os from 'node:os';
import { execFileSync } from 'node:child_process';

const opts = {};
for (let i = 2; i < process.argv.length; i += 2) opts[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const lines = fs.existsSync(opts.figures) ? fs.readFileSync(opts.figures, 'utf8').split('\n').filter(Boolean) : [];
const figures = lines.map((l) => JSON.parse(l));
// "#12 …" sorts by its number in the target table; other names after.
const rank = (t) => { const m = /^#(\d+)/.exec(t); return m ? Number(m[1]) : 1000; };
figures.sort((a, b) => rank(a.test) - rank(b.test) || a.test.localeCompare(b.test));
const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const table = ['| Test | Figure | Pass bar | Result |', '|---|---|---|---|',
  ...figures.map((f) => `| ${cell(f.test)} | ${cell(f.figure)} | ${cell(f.bar)} | ${f.pass ? 'pass' : '**FAIL**'} |`)].join('\n');
const failed = figures.filter((f) => !f.pass).length;
console.log(`\nchaos (${opts.scale}): ${figures.length} figure(s), ${failed} failed, ${opts.seconds} s\n`);
console.log(table);

if (opts.write) {
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] || 'unknown CPU';
  let rev = 'unknown';
  try { rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(); } catch {}
  const machine = `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
    `Linux ${os.release()}; commit ${rev}; ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const block = ['<!-- figures:begin (written by scripts/chaos; do not edit by hand) -->',
    `Command: \`${opts.command}\` (${opts.seconds} s). Machine: ${machine}.`, '', table,
    '<!-- figures:end -->'].join('\n');
  const doc = fs.readFileSync(opts.write, 'utf8');
  const re = /<!-- figures:begin[^]*?<!-- figures:end -->/;
  if (!re.test(doc)) { console.error(`${opts.write} has no figures markers`); process.exit(1); }
  fs.writeFileSync(opts.write, doc.replace(re, block));
  console.log(`\nwritten to ${opts.write}`);
}
process.exit(failed || figures.length === 0 ? 1 : 0);

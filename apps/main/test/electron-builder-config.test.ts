import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ajvModule from 'ajv';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const require = createRequire(import.meta.url);
// ajv is CommonJS; under NodeNext its class is the `default` property of the module (Ajv.default === Ajv at runtime).
const Ajv = ajvModule.default;

/** electron-builder's own schema (draft-07), from the installed app-builder-lib. */
function validator() {
  const schemaPath = path.join(path.dirname(require.resolve('app-builder-lib/package.json')), 'scheme.json');
  const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8')) as object;
  // The schema uses union types and keywords Ajv's strict mode rejects; it is still checked fully.
  const ajv = new Ajv({ allowUnionTypes: true, strict: false, allErrors: true });
  return ajv.compile(schema);
}

const configText = fs.readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8');
const config = YAML.parse(configText) as {
  appId: string;
  productName: string;
  npmRebuild?: boolean;
  asarUnpack: string[];
  mac: { category: string; hardenedRuntime: boolean; target: Array<{ target: string; arch: string[] }> };
};

describe('electron-builder.yml', () => {
  it("validates against electron-builder's JSON schema", () => {
    const validate = validator();
    const valid = validate(config);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('fails validation with a typo in a key (the check can fail)', () => {
    const validate = validator();
    const typo = YAML.parse(configText.replace(/^mac:/m, 'macc:')) as object;
    expect(typo).toHaveProperty('macc');
    expect(validate(typo)).toBe(false);
    expect(validate.errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ keyword: 'additionalProperties', params: { additionalProperty: 'macc' } })]),
    );
  });

  it('builds dmg and zip for arm64 and x64', () => {
    const targets = Object.fromEntries(config.mac.target.map((entry) => [entry.target, [...entry.arch].sort()]));
    expect(targets).toEqual({ dmg: ['arm64', 'x64'], zip: ['arm64', 'x64'] });
    expect(config.mac.category).toBe('public.app-category.developer-tools');
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(config.appId).toBe('dev.keel.app');
    expect(config.productName).toBe('Keel');
  });

  it('unpacks native modules from the asar and rebuilds them at package time', () => {
    expect(config.asarUnpack).toContain('**/*.node');
    expect(config.asarUnpack.some((pattern) => pattern.includes('better-sqlite3'))).toBe(true);
    expect(config.npmRebuild).not.toBe(false);
  });
});

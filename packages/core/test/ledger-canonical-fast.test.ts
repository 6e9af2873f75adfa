// The append path's canonical encoder (issue 16, per-event CPU) must give exactly canonicalJson's
// bytes — or its error — for every value: hashes and exports depend on it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/contract/canonical-json.js';
import { canonicalRecordJson } from '../src/ledger/hash-chain.js';

const outcome = (encode: (value: unknown) => string, value: unknown) => {
  try {
    return { ok: encode(value) };
  } catch (error) {
    return { error: (error as Error).constructor.name };
  }
};

describe('canonicalRecordJson', () => {
  it('equals canonicalJson on generated JSON-like values, sorted or not, with integer-like keys and undefined members', () => {
    const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('0', '1', '10', '9', '__proto__x', 'a', 'B', 'é'));
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.double(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.constant(undefined),
        fc.array(tie('node'), { maxLength: 5 }),
        fc.dictionary(key, tie('node'), { maxKeys: 6 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, (generated) => {
        expect(outcome(canonicalRecordJson, generated)).toEqual(outcome(canonicalJson, generated));
      }),
      { numRuns: 3_000 },
    );
  });

  it('equals canonicalJson on the values JSON.stringify treats otherwise: Dates, sparse arrays, NaN, functions, bigints, null prototypes, sorted records', () => {
    const sparse: unknown[] = [1];
    sparse[3] = 2;
    const bare = Object.create(null) as Record<string, unknown>;
    bare.b = 1;
    bare.a = [2];
    const cases: unknown[] = [
      { a: new Date(0) },
      sparse,
      { a: Number.NaN },
      { a: Infinity },
      { a: () => 1 },
      { a: 1n },
      bare,
      { a: 1, b: { c: [1, { d: 'x', e: undefined }] } },
      { 10: 'x', 9: 'y', a: 'z' },
      [undefined, null, -0],
      new Uint8Array([3, 1]),
    ];
    for (const value of cases) expect(outcome(canonicalRecordJson, value)).toEqual(outcome(canonicalJson, value));
  });
});

// frameChannel: newline-delimited JSON over real streams, with Keel's own checks. Every bad
// line is a protocol error and the channel goes on with the next line.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ProtocolErrorKind } from '../src/contract/schemas/ledger.js';
import { DEFAULT_MAX_MESSAGE_BYTES, frameChannel } from '../src/runtime/framing.js';

interface Feed {
  messages: Array<Record<string, unknown>>;
  errors: Array<{ kind: ProtocolErrorKind; detail: string; sample?: string }>;
  traffic: Array<['in' | 'out', string]>;
  activity: number;
  output: Buffer[];
  send(message: object): void;
}

/** Writes `chunks` one by one into a real stream, ends it, and returns what the channel made of them. */
async function feed(chunks: Array<string | Buffer>, options: { maxMessageBytes?: number } = {}): Promise<Feed> {
  const input = new PassThrough();
  const output = new PassThrough();
  const result: Feed = { messages: [], errors: [], traffic: [], activity: 0, output: [], send: () => undefined };
  output.on('data', (chunk: Buffer) => result.output.push(chunk));
  const channel = frameChannel(input, output, {
    ...options,
    onProtocolError: (kind, detail, sample) => result.errors.push({ kind, detail, ...(sample === undefined ? {} : { sample }) }),
    onTraffic: (direction, line) => result.traffic.push([direction, line]),
    onActivity: () => (result.activity += 1),
  });
  channel.onMessage((message) => result.messages.push(message));
  result.send = (message) => channel.send(message);
  for (const chunk of chunks) {
    // One write per event-loop turn, so each arrives as its own 'data' chunk.
    input.write(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
  input.end();
  await channel.closed;
  return result;
}

const kinds = (result: Feed) => result.errors.map((error) => error.kind);

describe('frameChannel', () => {
  it('reassembles lines split across chunks, including a UTF-8 character split between two chunks', async () => {
    const e = Buffer.from('é'); // two bytes
    const result = await feed([
      '{"a":',
      Buffer.concat([Buffer.from('"h'), e.subarray(0, 1)]),
      Buffer.concat([e.subarray(1), Buffer.from('llo"}\n{"b":2}\n{"c"')]),
      ':3}',
      '\n',
    ]);
    expect(result.messages).toEqual([{ a: 'héllo' }, { b: 2 }, { c: 3 }]);
    expect(result.errors).toEqual([]);
    expect(result.activity).toBe(5);
    expect(result.traffic.map(([direction]) => direction)).toEqual(['in', 'in', 'in']);
  });

  it('several messages in one chunk, and a last line without a newline at the end of the stream', async () => {
    const result = await feed(['{"a":1}\n{"b":2}\n{"c":3}\n{"d":4}']);
    expect(result.messages).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }, { d: 4 }]);
    expect(result.errors).toEqual([]);
  });

  it('CRLF line endings and blank lines are accepted', async () => {
    const result = await feed(['{"a":1}\r\n', '\r\n', '\n', '{"b":', '2}\r', '\n{"c":3}\r\n']);
    expect(result.messages).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
    expect(result.errors).toEqual([]);
  });

  it('oversize: drops exactly the oversized line (one error, even across many chunks) and recovers on the next line', async () => {
    const max = 64;
    const exact = `{"x":"${'a'.repeat(max - 8)}"}`; // exactly 64 bytes: allowed
    expect(Buffer.byteLength(exact)).toBe(max);
    const big = `{"x":"${'b'.repeat(200)}"}`;
    const result = await feed(
      [
        '{"before":1}\n',
        big.slice(0, 40),
        big.slice(40, 80),
        big.slice(80, 120),
        `${big.slice(120)}\n{"after":1}\n`,
        `${exact}\n`,
        `${big}\n{"last":1}\n`,
      ],
      { maxMessageBytes: max },
    );
    expect(result.messages).toEqual([{ before: 1 }, { after: 1 }, JSON.parse(exact), { last: 1 }]);
    expect(kinds(result)).toEqual(['oversize', 'oversize']);
    expect(result.errors[0]!.detail).toContain('64-byte limit');
    expect(result.errors[0]!.sample!.length).toBeLessThanOrEqual(120);
    // The dropped line never reaches the protocol log either.
    expect(result.traffic.some(([, line]) => line.includes('bbbb'))).toBe(false);
  });

  it('oversize where the newline is the first byte of the next chunk, and an oversized unterminated tail', async () => {
    const result = await feed(['{"x":"' + 'c'.repeat(100) + '"}', '\n{"ok":1}\n', '{"tail":"' + 'd'.repeat(100)], { maxMessageBytes: 32 });
    expect(result.messages).toEqual([{ ok: 1 }]);
    expect(kinds(result)).toEqual(['oversize', 'oversize']);
  });

  it('invalid UTF-8 is its own error kind, with a printable sample; the next line is read', async () => {
    const bad = Buffer.concat([Buffer.from('{"t":"'), Buffer.from([0x80, 0xc3, 0x28, 0xfe, 0xff]), Buffer.from('"}\n')]);
    const result = await feed([bad, '{"fine":"ü"}\n']);
    expect(kinds(result)).toEqual(['invalid_utf8']);
    expect(result.errors[0]!.sample).toMatch(/^[\x20-\x7e]*$/);
    expect(result.messages).toEqual([{ fine: 'ü' }]);
  });

  it('lines that are not JSON are garbage; JSON that is not an object is invalid_message; neither closes the channel', async () => {
    const result = await feed(['this is not json {\n', '[1,2]\n42\n"text"\nnull\ntrue\n', '{"still":"here"}\n']);
    expect(kinds(result)).toEqual(['garbage', 'invalid_message', 'invalid_message', 'invalid_message', 'invalid_message', 'invalid_message']);
    expect(result.messages).toEqual([{ still: 'here' }]);
  });

  it('send() writes one JSON line and logs it as outgoing traffic', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const traffic: string[] = [];
    const channel = frameChannel(input, output, { onProtocolError: () => undefined, onTraffic: (direction, line) => traffic.push(`${direction} ${line}`) });
    channel.send({ jsonrpc: '2.0', id: 1, method: 'initialize' });
    output.end();
    const written: Buffer[] = [];
    for await (const chunk of output) written.push(chunk as Buffer);
    expect(Buffer.concat(written).toString('utf8')).toBe('{"jsonrpc":"2.0","id":1,"method":"initialize"}\n');
    expect(traffic).toEqual(['out {"jsonrpc":"2.0","id":1,"method":"initialize"}']);
    input.end();
    await channel.closed;
  });

  it('the default limit is 16 MiB', () => {
    expect(DEFAULT_MAX_MESSAGE_BYTES).toBe(16 * 1024 * 1024);
  });
});

import type { Readable, Writable } from 'node:stream';
import type { ProtocolErrorKind } from '../contract/schemas/ledger.js';
import type { MessageChannel } from './adapter.js';

/** Default largest message an agent may send (a line of newline-delimited JSON). */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface FramingOptions {
  maxMessageBytes?: number;
  /** A line that could not be turned into a message; the channel stays open. */
  onProtocolError(kind: ProtocolErrorKind, detail: string, sample?: string): void;
  /** Every raw line in and out, for the per-run protocol log. */
  onTraffic?(direction: 'in' | 'out', line: string): void;
  /** Any bytes from the agent (for the hang watchdog). */
  onActivity?(): void;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const sampleOf = (bytes: Buffer) => bytes.subarray(0, 120).toString('utf8').replace(/[^\x20-\x7e]/g, '?');

/**
 * Newline-delimited JSON over a child's stdio, with Keel's own checks: a maximum message
 * size, strict UTF-8, and JSON objects only. Bad lines become protocol errors, never crashes.
 */
export function frameChannel(input: Readable, output: Writable, options: FramingOptions): MessageChannel {
  const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const listeners: Array<(message: Record<string, unknown>) => void> = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let discarding = false;

  const deliver = (line: Buffer) => {
    if (line.length === 0 || (line.length === 1 && line[0] === 13)) return;
    let text: string;
    try {
      text = decoder.decode(line);
    } catch {
      options.onProtocolError('invalid_utf8', `a ${line.length}-byte line is not valid UTF-8`, sampleOf(line));
      return;
    }
    options.onTraffic?.('in', text);
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      options.onProtocolError('garbage', `a ${line.length}-byte line is not JSON`, sampleOf(line));
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      options.onProtocolError('invalid_message', 'a line is JSON but not a message object', sampleOf(line));
      return;
    }
    for (const listener of listeners) listener(message as Record<string, unknown>);
  };

  input.on('data', (chunk: Buffer) => {
    options.onActivity?.();
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(10, start);
      const end = newline === -1 ? chunk.length : newline;
      const piece = chunk.subarray(start, end);
      if (!discarding) {
        if (pendingBytes + piece.length > max) {
          options.onProtocolError('oversize', `a message exceeded the ${max}-byte limit and was dropped`, sampleOf(Buffer.concat([...pending, piece]).subarray(0, 120)));
          pending = [];
          pendingBytes = 0;
          discarding = true;
        } else if (piece.length > 0) {
          pending.push(piece);
          pendingBytes += piece.length;
        }
      }
      if (newline === -1) break;
      if (!discarding) deliver(pending.length === 1 ? pending[0]! : Buffer.concat(pending));
      pending = [];
      pendingBytes = 0;
      discarding = false;
      start = newline + 1;
    }
  });

  const closed = new Promise<void>((resolve) => {
    input.once('end', () => {
      if (pendingBytes > 0 && !discarding) deliver(Buffer.concat(pending));
      resolve();
    });
    input.once('close', () => resolve());
  });

  return {
    send(message) {
      const line = JSON.stringify(message);
      options.onTraffic?.('out', line);
      if (!output.writable) return;
      output.write(`${line}\n`);
    },
    onMessage(listener) {
      listeners.push(listener);
    },
    closed,
  };
}

import type { Writable } from 'node:stream';

/**
 * The one writer of stdout. The SDK's JSON lines and the deliberate fault lines go through
 * the same queue, one complete line per write, each waiting for the previous to be handed to
 * the OS, so a raw line can never land inside a JSON line.
 */
export class StdoutSink {
  private queue: Promise<void> = Promise.resolve();

  /** For `ndJsonStream`: the SDK writes one complete JSON line per chunk. */
  readonly writable: WritableStream<Uint8Array>;

  constructor(private readonly out: Writable) {
    this.writable = new WritableStream<Uint8Array>({ write: (chunk) => this.enqueue(chunk) });
  }

  /** Writes one raw line (a newline is appended) after everything already queued. */
  writeRawLine(bytes: Uint8Array): Promise<void> {
    const line = new Uint8Array(bytes.length + 1);
    line.set(bytes);
    line[bytes.length] = 10;
    return this.enqueue(line);
  }

  /** Resolves once everything queued so far reached the OS. */
  idle(): Promise<void> {
    return this.queue.catch(() => undefined);
  }

  private enqueue(bytes: Uint8Array): Promise<void> {
    const write = this.queue.then(
      () => new Promise<void>((resolve, reject) => this.out.write(bytes, (error) => (error ? reject(error) : resolve()))),
    );
    this.queue = write.catch(() => undefined);
    return write;
  }
}

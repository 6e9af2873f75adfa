import { randomUUID } from 'node:crypto';
import type { AgentContext, SessionUpdate, ToolCallContent } from '@agentclientprotocol/sdk';
import { sleep } from './sleep.js';

/** Splits text into `pieces` near-equal parts on code-point boundaries (never more parts than characters). */
export function splitText(text: string, pieces: number): string[] {
  const chars = Array.from(text);
  const count = Math.max(1, Math.min(pieces, chars.length));
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    parts.push(chars.slice(Math.floor((i * chars.length) / count), Math.floor(((i + 1) * chars.length) / count)).join(''));
  }
  return parts;
}

export const textContent = (text: string): ToolCallContent => ({ type: 'content', content: { type: 'text', text } });

/**
 * Sends one turn's `session/update` notifications. Every send is awaited, so when a method
 * returns the lines are on stdout (what raw fault writes rely on). `slowStreamMs` is put
 * between any two chunks of the turn.
 */
export class Reporter {
  private chunksSent = 0;

  constructor(
    private readonly client: AgentContext,
    private readonly sessionId: string,
    private readonly slowStreamMs: number,
    private readonly signal: AbortSignal,
  ) {}

  update(update: SessionUpdate): Promise<void> {
    return this.client.notify('session/update', { sessionId: this.sessionId, update });
  }

  async chunk(kind: 'agent_message_chunk' | 'agent_thought_chunk', text: string, messageId: string, extraDelayMs = 0): Promise<void> {
    if (this.chunksSent > 0) await sleep(Math.max(this.slowStreamMs, extraDelayMs), this.signal);
    this.chunksSent += 1;
    await this.update({ sessionUpdate: kind, content: { type: 'text', text }, messageId });
  }

  /** An agent message in `pieces` chunks sharing one messageId (returned). */
  async message(text: string, pieces = 1, messageId: string = randomUUID()): Promise<string> {
    for (const part of splitText(text, pieces)) await this.chunk('agent_message_chunk', part, messageId);
    return messageId;
  }

  async thought(text: string): Promise<void> {
    await this.chunk('agent_thought_chunk', text, randomUUID());
  }
}

import type { KeelClient } from '@keel/core/contract';

export declare function connectClient(keel: { origin: string; token: string }): { client: KeelClient; close(): void };

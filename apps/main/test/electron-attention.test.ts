// Electron's attention (issue 15 point 22): the real watchAttention over a real workstation and
// the real built-in agent, with a stand-in for the `electron` module (no display here). It proves
// main applies core's rule: the dock badge counts runs waiting, a notification when a run waits
// or finishes with no Keel window in front, a click opens that run, and the setting turns it off.
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { useWorkstations } from '../../../packages/core/test/fixtures/workstation-kit.js';
import { Changes, waitUntil } from '../../../packages/core/test/fixtures/wait-kit.js';
import { tempDir } from '../../../packages/core/test/helpers.js';

const fake = vi.hoisted(() => {
  const state = {
    badges: [] as number[],
    shown: [] as Array<{ title: string; body: string; emitter: { emit(event: string): boolean } }>,
    focused: false,
    changed: () => {},
  };
  return { state };
});

vi.mock('electron', async () => {
  const { EventEmitter: Emitter } = await import('node:events');
  class Notification extends Emitter {
    static isSupported() {
      return true;
    }
    constructor(readonly options: { title: string; body: string }) {
      super();
    }
    show() {
      fake.state.shown.push({ ...this.options, emitter: this });
      fake.state.changed();
    }
  }
  const electron = {
    app: {
      setBadgeCount: (count: number) => {
        fake.state.badges.push(count);
        fake.state.changed();
      },
    },
    BrowserWindow: { getFocusedWindow: () => (fake.state.focused ? {} : null) },
    Notification,
  };
  return { ...electron, default: electron };
});

const { watchAttention } = await import('../src/electron/attention.js');
const { start } = useWorkstations();
const electronCalls = new Changes();
fake.state.changed = () => electronCalls.notify();

describe('Electron attention', () => {
  it('badges the dock with the runs waiting, notifies a wait and a finish in the background, and a click opens the run', { timeout: 90_000 }, async () => {
    const { workstation, client } = await start();
    const executed: string[] = [];
    const window = { webContents: { executeJavaScript: async (code: string) => void executed.push(code) } };
    const focusWindow = vi.fn(() => window as never);
    const stop = watchAttention(workstation, focusWindow);
    try {
      const run = await client.invoke('runs.create', { workspace: tempDir(), agent: { kind: 'builtin', script: 'edit-and-test' }, title: 'Greeting file' });
      await client.invoke('run.prompt', { runId: run.id, text: 'Write hello.txt and check it' });
      const shownWith = (count: number) => waitUntil(() => fake.state.shown.length >= count, 30_000, `${count} notifications`, electronCalls.subscribe);
      const commits = (onChange: () => void) => workstation.ledger.onCommit(onChange);
      await shownWith(1);
      expect(fake.state.shown[0]).toMatchObject({ title: 'Keel: an agent is waiting for you', body: 'Greeting file asks for an approval.' });
      expect(fake.state.badges.at(-1)).toBe(1);

      fake.state.shown[0]!.emitter.emit('click');
      expect(focusWindow).toHaveBeenCalled();
      expect(executed).toEqual([`location.hash = "run=${run.id}"`]);

      for (let decided = 0; decided < 2; decided++) {
        const approvalId = await waitUntil(() => workstation.runs.events(run.id).filter((e) => e.type === 'approval.requested')[decided]?.payload as { approvalId: string } | undefined, 30_000, 'an approval', commits);
        await client.invoke('approval.decide', { runId: run.id, approvalId: approvalId.approvalId, decision: 'allow_once' });
      }
      // The second request may come within main's 50 ms settle window after the first decision
      // (the run is seen waiting again, no change): one or two waits, then the finish.
      await waitUntil(() => fake.state.shown.at(-1)?.body === 'Greeting file finished its turn.', 30_000, 'the finish notified', electronCalls.subscribe);
      const bodies = fake.state.shown.map((shown) => shown.body);
      expect(bodies.slice(0, -1).every((body) => body === 'Greeting file asks for an approval.')).toBe(true);
      expect(fake.state.badges.at(-1)).toBe(0);

      // Off: the next turn's finish is not notified (checked once main has applied its last run.state).
      await client.invoke('settings.update', { patch: { notifications: false } });
      const before = fake.state.shown.length;
      let badgesAtIdle = -1;
      const stopWatching = workstation.ledger.onCommit((event) => {
        if (event.run_id === run.id && event.type === 'run.state' && (event.payload as { state: string }).state === 'idle') badgesAtIdle = fake.state.badges.length;
      });
      const { turn } = await client.invoke('run.prompt', { runId: run.id, text: 'Again' });
      await workstation.runs.get(run.id).waitForTurn(turn);
      await waitUntil(() => badgesAtIdle >= 0 && fake.state.badges.length > badgesAtIdle, 30_000, 'main to apply the idle state', electronCalls.subscribe);
      stopWatching();
      expect(fake.state.shown.length).toBe(before);
      expect(fake.state.badges.at(-1)).toBe(0);
    } finally {
      stop();
    }
  });
});

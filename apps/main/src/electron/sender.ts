import { isAppUrl } from './app-origin.js';

/** The parts of Electron's WebFrameMain the sender check reads. */
export interface FrameLike {
  readonly url: string;
  readonly parent: unknown;
  readonly processId: number;
  readonly routingId: number;
}

/** The parts of Electron's WebContents the sender check reads. */
export interface ContentsLike {
  readonly id: number;
  readonly mainFrame: FrameLike;
}

/** The parts of an IPC event (invoke or send) the sender check reads. */
export interface SenderEventLike {
  readonly sender: ContentsLike;
  readonly senderFrame: FrameLike | null;
}

export type SenderVerdict = { ok: true } | { ok: false; reason: string };
export type SenderCheck = (event: SenderEventLike) => SenderVerdict;

export interface SenderCheckOptions {
  /** True when these web contents belong to one of the app's own windows. */
  isAppContents(contents: ContentsLike): boolean;
}

/**
 * The one gate every IPC message passes (I11): it must come from the main frame of one of
 * our own windows, currently showing a page from our own origin. Subframes, other web
 * contents (devtools, a future webview) and anything navigated elsewhere are refused.
 */
export function createSenderCheck(options: SenderCheckOptions): SenderCheck {
  return (event) => {
    const frame = event.senderFrame;
    // Null when the frame navigated away or was destroyed while the message was in flight.
    if (!frame) return { ok: false, reason: 'the sending frame is gone' };
    if (!options.isAppContents(event.sender)) return { ok: false, reason: 'the sender is not an app window' };
    const main = event.sender.mainFrame;
    // Process + routing id identify a frame host; comparing them does not rely on wrapper identity.
    if (frame.parent !== null || frame.processId !== main.processId || frame.routingId !== main.routingId) {
      return { ok: false, reason: 'the sender is not the main frame' };
    }
    if (!isAppUrl(frame.url)) return { ok: false, reason: `the sender is not on the app origin (${describeUrl(frame.url)})` };
    return { ok: true };
  };
}

/** Scheme and host only: a rejected URL may carry tokens in its path or query. */
function describeUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}`;
  } catch {
    return 'unparseable URL';
  }
}

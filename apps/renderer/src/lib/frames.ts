export interface CoalescedTask {
  (): void;
  /** Run now if scheduled. */
  flush(): void;
  cancel(): void;
}

export interface FrameScheduler {
  /** A function that, however often it is called, runs `task` once on the next frame. */
  coalesce(task: () => void): CoalescedTask;
}

/**
 * requestAnimationFrame where there is one; a 16 ms timer otherwise. A hidden tab gets no
 * frames, so a timer also fires after `maxDelayMs` to keep the view from going stale.
 */
export function frameScheduler(maxDelayMs = 250): FrameScheduler {
  const raf = typeof requestAnimationFrame === 'function' ? requestAnimationFrame : null;
  return {
    coalesce(task) {
      let frame: number | null = null;
      let timer: ReturnType<typeof setTimeout> | null = null;
      const clear = () => {
        if (frame !== null && raf) cancelAnimationFrame(frame);
        if (timer !== null) clearTimeout(timer);
        frame = null;
        timer = null;
      };
      const run = () => {
        clear();
        task();
      };
      const scheduled = (() => {
        if (timer !== null) return;
        if (raf) frame = raf(run);
        timer = setTimeout(run, raf ? maxDelayMs : 16);
      }) as CoalescedTask;
      scheduled.flush = () => {
        if (timer !== null) run();
      };
      scheduled.cancel = clear;
      return scheduled;
    },
  };
}

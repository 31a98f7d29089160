// Live data without reloading: calls `fn` now and then every `ms` (never more often than once a
// second), skipping while the tab is hidden or the previous call is still running.
import { useEffect, useRef } from './preact.js';

export const MIN_POLL_MS = 1000;

export function usePoll(fn, ms, deps = []) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    let busy = false;
    let stopped = false;
    const tick = async () => {
      if (busy || stopped || document.hidden) return;
      busy = true;
      try {
        await saved.current();
      } catch {
        /* the caller shows its own errors */
      } finally {
        busy = false;
      }
    };
    tick();
    const id = setInterval(tick, Math.max(MIN_POLL_MS, ms));
    const vis = () => !document.hidden && tick();
    document.addEventListener('visibilitychange', vis);
    return () => {
      stopped = true;
      clearInterval(id);
      document.removeEventListener('visibilitychange', vis);
    };
  }, deps);
}

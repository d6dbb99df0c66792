/**
 * Makes `target` abort (with the same reason) when `source` aborts, at once if it already has.
 * Returns the function that stops following; call it when the target's work is done so the
 * long-lived source keeps no listener behind. The one helper for linked abort signals.
 * @internal
 */
export function followAbort(source: AbortSignal, target: AbortController): () => void {
  if (source.aborted) {
    if (!target.signal.aborted) target.abort(source.reason);
    return noop;
  }
  const forward = (): void => {
    if (!target.signal.aborted) target.abort(source.reason);
  };
  source.addEventListener('abort', forward, { once: true });
  return () => source.removeEventListener('abort', forward);
}

function noop(): void {}

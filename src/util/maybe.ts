// Values that are ready now or later. The command path is written once and completes
// synchronously whenever nothing in it has to wait (page-cache I/O, host data in memory), so a
// front end that can use the answer at once (the NVMe/TCP target) pays no promise per command;
// a step that must wait (fdatasync, the thread pool, a fault delay) turns the rest into a
// promise at that point and only there.
//
// Failure follows the step: a synchronous step throws, an asynchronous one rejects. Callers
// that map failures to statuses use `attempt`, which handles both.

export type MaybePromise<T> = T | Promise<T>;

/** `f(v)` now when `v` is ready, else when it settles. */
export function then<T, U>(v: MaybePromise<T>, f: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return v instanceof Promise ? v.then(f) : f(v);
}

/**
 * Runs `step`; a throw or a rejection becomes `onError()`'s value instead. `T` must not overlap
 * the error value's type for callers to tell them apart (statuses are numbers, data objects).
 */
export function attempt<T, E>(step: () => MaybePromise<T>, onError: () => E): MaybePromise<T | E> {
  let v: MaybePromise<T>;
  try {
    v = step();
  } catch {
    return onError();
  }
  return v instanceof Promise ? v.catch(onError) : v;
}

/**
 * Calls `fn(i)` for i = from, from + step, ... below `end` while it returns 0; the first
 * non-zero value ends the walk and is returned (0 when every call returned 0). Synchronous as
 * long as `fn` is.
 */
export function walk(
  from: number,
  end: number,
  step: number,
  fn: (i: number) => MaybePromise<number>,
): MaybePromise<number> {
  for (let i = from; i < end; i += step) {
    const s = fn(i);
    if (s instanceof Promise) {
      const next = i + step;
      return s.then((st) => (st !== 0 ? st : walk(next, end, step, fn)));
    }
    if (s !== 0) return s;
  }
  return 0;
}

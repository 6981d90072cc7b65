/**
 * One queue for the keychain backends' FFI work. The blocking library calls run on Deno's worker
 * threads (`nonblocking`); keeping them in order keeps the libraries' shared state (libsecret's
 * one D-Bus connection, the Security framework's session) simple.
 */
let queue: Promise<unknown> = Promise.resolve();

/** Runs `task` after every task queued before it, whether those succeeded or failed. */
export function serial<T>(task: () => Promise<T>): Promise<T> {
  const run = queue.then(task, task);
  queue = run.catch(() => {});
  return run;
}

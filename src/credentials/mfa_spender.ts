/**
 * Spends MFA codes. A code is single-use at AWS (it refuses a second call with the same code,
 * saying only "invalid MFA one time pass code"), so:
 * - every STS call that carries a code for a device runs under one lock per MFA serial, whatever
 *   role or session it is for: two shells needing a code at once take turns instead of both
 *   sending the one an `mfa_process` prints during a 30 s step;
 * - the last code spent per device is remembered (its hash and time step) in that lock's file,
 *   beside the lock and under it, where `clear` does not reach: a run that gets the same code
 *   again waits for the next one with one line saying so (`mfa_process`), asks again (the
 *   prompt), or stops before calling STS (`--mfa-token`). A spent code is worthless, and still
 *   only its hash is kept. The keychain would do as well, but its items are sessions or keys to
 *   every listing of it, and this record is neither;
 * - a code STS refuses is reported in one line saying what to do, not as STS's AccessDenied.
 */
import { mfaCodeUnspent } from "../aws/sts.ts";
import { errorMessage, VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { withFileLock } from "../util/file_lock.ts";
import type { MfaCodeSource, MfaRequest } from "./mfa.ts";

/** Runs `call` with a code for `request`'s device, at a moment the code may be sent. */
export type SpendMfa = <T>(request: MfaRequest, call: (code: string) => Promise<T>) => Promise<T>;

export interface MfaSpenderOptions {
  readonly codes: MfaCodeSource;
  /** Where lock files go. */
  readonly lockDir: string;
  readonly lockTimeoutMs: number;
  /** Milliseconds since the epoch (tests pass their own clock). */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const STEP_MS = 30_000;
/** AWS accepts a code one step either side of its own: past that no spent code matters. */
const REMEMBER_STEPS = 3;
/** A code the user typed or a process printed, refused as spent, is asked for this many times. */
const MAX_ATTEMPTS = 3;
const USED = "this MFA code was already used; wait for the next one";

interface Spent {
  readonly step: number;
  readonly hash: string;
}

export function mfaSpender(options: MfaSpenderOptions): SpendMfa {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ??
    ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const { codes } = options;

  return <T>(request: MfaRequest, call: (code: string) => Promise<T>) =>
    withFileLock(
      options.lockDir,
      `mfa ${request.serial}`,
      options.lockTimeoutMs,
      `MFA device ${request.serial}`,
      async (record) => {
        const what = `profile "${request.profile}"`;
        const spent = await readSpent(record, now());
        const origin = codes.origin(request);
        if (origin === "prompt" && spent !== undefined && step(now()) <= spent.step) {
          log.info(`the MFA code your device shows now was already used; enter the next one`);
        }
        let code = "";
        for (let attempt = 1;; attempt++) {
          code = await codes.code(request);
          if (spent === undefined || await codeHash(request.serial, code) !== spent.hash) break;
          if (origin === "token") {
            throw new VaultshError(what, USED, { hint: "pass the next code with --mfa-token" });
          }
          if (attempt === MAX_ATTEMPTS) throw new VaultshError(what, USED);
          if (origin === "prompt") {
            log.warn(USED);
            continue;
          }
          // an mfa_process prints the same code for the rest of its 30 s step
          const wait = (step(now()) + 1) * STEP_MS - now() + 1_000;
          log.info(
            `the MFA code for ${request.serial} was already used; waiting ${
              Math.ceil(wait / 1000)
            } s for the next one…`,
          );
          await sleep(wait);
        }
        // sent is spent, even when the answer is lost on the way back
        try {
          await writeSpent(record, {
            step: step(now()),
            hash: await codeHash(request.serial, code),
          });
        } catch (error) {
          // the code still serves this run (a full disk says so once, when caching); only a
          // second run in the same 30 s could resend it, and STS's refusal then says what to do
          log.debug(`could not record the spent MFA code: ${errorMessage(error)}`);
        }
        try {
          return await call(code);
        } catch (error) {
          if (mfaCodeUnspent(error)) {
            // throttled or never delivered: STS has not seen the code, the next run may send it
            await (spent === undefined ? forgetSpent(record) : writeSpent(record, spent))
              .catch(() => {});
          }
          throw refusal(error, what, request.serial) ?? error;
        }
      },
    );
}

function step(ms: number): number {
  return Math.floor(ms / STEP_MS);
}

/** STS's AccessDenied for a code, in one line saying what to do; undefined for other errors. */
function refusal(error: unknown, what: string, serial: string): VaultshError | undefined {
  const cause = error instanceof VaultshError ? error.cause : undefined;
  if (!(cause instanceof Error) || cause.name !== "AccessDenied") return undefined;
  if (/invalid MFA one time pass code/i.test(cause.message)) {
    return new VaultshError(
      what,
      `STS refused the MFA code for ${serial}: it is wrong or was already used; wait for the next one`,
      { cause: error },
    );
  }
  if (/MultiFactorAuthentication failed/i.test(cause.message)) {
    return new VaultshError(what, `STS could not validate the MFA code for ${serial}`, {
      hint: "check that mfa_serial names this user's MFA device",
      cause: error,
    });
  }
  return undefined;
}

/** The record in the lock file; undefined when there is none, or it is too old to matter. */
async function readSpent(file: Deno.FsFile, nowMs: number): Promise<Spent | undefined> {
  try {
    await file.seek(0, Deno.SeekMode.Start);
    const buffer = new Uint8Array(512);
    const count = await file.read(buffer) ?? 0;
    const value = JSON.parse(new TextDecoder().decode(buffer.subarray(0, count))) as
      | Partial<Spent>
      | null;
    if (typeof value?.step !== "number" || typeof value.hash !== "string") return undefined;
    return step(nowMs) - value.step > REMEMBER_STEPS ? undefined : {
      step: value.step,
      hash: value.hash,
    };
  } catch {
    return undefined; // empty (a new lock) or torn: nothing remembered
  }
}

async function forgetSpent(file: Deno.FsFile): Promise<void> {
  await file.truncate(0);
}

async function writeSpent(file: Deno.FsFile, spent: Spent): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(spent));
  await file.truncate(0);
  await file.seek(0, Deno.SeekMode.Start);
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

/** A spent code is worthless, but it is still not kept as it was. */
async function codeHash(serial: string, code: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`${serial}\n${code}`),
  );
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

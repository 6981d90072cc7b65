/**
 * The AWS CLI's IAM Identity Center token cache, read only: someone who ran `aws sso login` is
 * not asked to sign in again. The CLI (and the AWS SDKs) keep a session's token in
 * `~/.aws/sso/cache/<sha1>.json`, the lowercase hex SHA-1 of the sso-session's name (of the start
 * URL for a legacy profile), with `startUrl, region, accessToken, expiresAt, clientId,
 * clientSecret, registrationExpiresAt, refreshToken`. Times are `YYYY-MM-DDTHH:MM:SSZ`; older
 * CLIs wrote `...UTC`, the JS SDK writes ISO with milliseconds.
 *
 * vaultsh uses a valid access token from there, and never its refresh token: redeeming it would
 * rotate it and leave the CLI's copy dead.
 */
import { createHash } from "node:crypto";
import * as log from "../log.ts";
import { sessionKey, type SsoSessionConfig } from "./sso_config.ts";

export interface AwsCliToken {
  readonly accessToken: string;
  readonly expiresAt: Date;
  /** The file it came from, for debug lines. */
  readonly file: string;
}

/** The cache file's name for a session: the AWS CLI's. */
export function awsCliCacheFile(cacheDir: string, session: SsoSessionConfig): string {
  const digest = createHash("sha1").update(sessionKey(session), "utf8").digest("hex");
  return `${cacheDir}/${digest}.json`;
}

/**
 * The token the AWS CLI cached for the session, when it is for the same start URL and parses;
 * whether it is still valid is the caller's question.
 */
export async function readAwsCliToken(
  cacheDir: string,
  session: SsoSessionConfig,
): Promise<AwsCliToken | undefined> {
  const file = awsCliCacheFile(cacheDir, session);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      log.debug(`aws cli cache ${file}: cannot read it (${(error as Error).name})`);
    }
    return undefined;
  }
  let record: Record<string, unknown>;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) return undefined;
    record = value as Record<string, unknown>;
  } catch {
    log.debug(`aws cli cache ${file}: not JSON`);
    return undefined;
  }
  const { accessToken, expiresAt, startUrl } = record;
  if (typeof accessToken !== "string" || accessToken === "" || typeof expiresAt !== "string") {
    return undefined;
  }
  // a file left from another start URL under the same session name is not this session's
  if (typeof startUrl === "string" && !sameStartUrl(startUrl, session.startUrl)) {
    log.debug(`aws cli cache ${file}: for another start URL`);
    return undefined;
  }
  const expires = parseAwsCliTime(expiresAt);
  if (expires === undefined) {
    log.debug(`aws cli cache ${file}: expiresAt is not a time`);
    return undefined;
  }
  return { accessToken, expiresAt: expires, file };
}

/**
 * `2026-11-29T12:00:00Z`, `2026-11-29T12:00:00UTC` (older CLIs), `2026-11-29T12:00:00.000Z` (the
 * JS SDK) or with a `+00:00` offset; undefined for anything else.
 */
export function parseAwsCliTime(text: string): Date | undefined {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)(Z|UTC|[+-]\d{2}:?\d{2})$/
    .exec(text.trim());
  if (match === null) return undefined;
  const [, time, zone] = match;
  const offset = zone === "Z" || zone === "UTC"
    ? "Z"
    : zone!.includes(":")
    ? zone!
    : `${zone!.slice(0, 3)}:${zone!.slice(3)}`;
  // JavaScript keeps milliseconds only
  const date = new Date(`${time!.replace(/(\.\d{3})\d+$/, "$1")}${offset}`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function sameStartUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, "") === b.replace(/\/+$/, "");
}

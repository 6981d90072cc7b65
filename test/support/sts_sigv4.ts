/**
 * SigV4 verification for the local endpoint. It never computes a signature itself: it rebuilds
 * the request from exactly the headers the client says it signed, has the AWS SDK's own signer
 * (@smithy/signature-v4) sign that at the client's x-amz-date with the secret the server holds,
 * and compares the two signatures in constant time.
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { timingSafeEqual } from "node:crypto";
import { AwsApiError } from "./sts_errors.ts";

/** What arrived on the wire, before any interpretation. */
export interface RawRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Headers;
  readonly body: Uint8Array<ArrayBuffer>;
}

/** The parts of `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`. */
export interface SigV4Authorization {
  readonly accessKeyId: string;
  /** The credential scope's date, YYYYMMDD. */
  readonly scopeDate: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  /** The request's x-amz-date. */
  readonly date: Date;
  readonly amzDate: string;
}

/** AWS refuses a request whose date is more than this far from its clock. */
export const MAX_SKEW_MS = 5 * 60_000;

/** Parses the Authorization header; throws AWS's error for a missing or malformed one. */
export function parseSigV4(request: RawRequest): SigV4Authorization {
  const header = request.headers.get("authorization");
  if (header === null) {
    if (request.url.searchParams.has("X-Amz-Signature")) {
      throw AwsApiError.incompleteSignature("Presigned requests are not supported here.");
    }
    throw AwsApiError.missingAuthenticationToken();
  }
  const space = header.indexOf(" ");
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (algorithm !== "AWS4-HMAC-SHA256") {
    throw AwsApiError.incompleteSignature(`Unsupported AWS 'algorithm': '${algorithm}'.`);
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(space + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ["Credential", "SignedHeaders", "Signature"].filter((name) => !fields.has(name));
  const amzDate = request.headers.get("x-amz-date");
  const problems = missing.map((name) => `Authorization header requires '${name}' parameter.`);
  if (amzDate === null) {
    problems.push(
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  }
  if (problems.length > 0) {
    throw AwsApiError.incompleteSignature(`${problems.join(" ")} Authorization=${header}`);
  }
  const date = parseAmzDate(amzDate!);
  if (date === undefined) {
    throw AwsApiError.incompleteSignature(
      `Date must be in ISO-8601 'basic format'. Got '${amzDate}'.`,
    );
  }
  const credential = fields.get("Credential")!.split("/");
  if (credential.length !== 5 || credential.some((part) => part === "")) {
    throw AwsApiError.incompleteSignature(
      `Credential must have exactly 5 slash-delimited elements, e.g. ` +
        `keyid/date/region/service/term, got '${fields.get("Credential")}'`,
    );
  }
  const [accessKeyId, scopeDate, region, service, terminator] = credential as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (terminator !== "aws4_request") {
    throw AwsApiError.signatureDoesNotMatch(
      "bad credential scope terminator",
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'.`,
    );
  }
  if (scopeDate !== amzDate!.slice(0, 8)) {
    throw AwsApiError.signatureDoesNotMatch(
      "credential scope date differs from x-amz-date",
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from ` +
        `HTTP: '${scopeDate}' != '${amzDate!.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  const signedHeaders = fields.get("SignedHeaders")!.split(";");
  if (!signedHeaders.includes("host")) {
    throw AwsApiError.signatureDoesNotMatch(
      "host is not signed",
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
  }
  return {
    accessKeyId,
    scopeDate,
    region,
    service,
    signedHeaders,
    signature: fields.get("Signature")!,
    date,
    amzDate: amzDate!,
  };
}

/**
 * AWS's answer to a request signed too far from its clock: SignatureDoesNotMatch with
 * "Signature expired" / "Signature not yet current". The AWS SDKs list SignatureDoesNotMatch
 * among clock-skew codes, read the response's Date header, correct their clock and retry.
 */
export function checkSkew(auth: SigV4Authorization, nowMs: number): void {
  const delta = auth.date.getTime() - nowMs;
  if (Math.abs(delta) <= MAX_SKEW_MS) return;
  const now = amzDate(new Date(nowMs));
  if (delta < 0) {
    const limit = amzDate(new Date(nowMs - MAX_SKEW_MS));
    throw AwsApiError.signatureDoesNotMatch(
      "request date too old",
      `Signature expired: ${auth.amzDate} is now earlier than ${limit} (${now} - 5 min.)`,
    );
  }
  const limit = amzDate(new Date(nowMs + MAX_SKEW_MS));
  throw AwsApiError.signatureDoesNotMatch(
    "request date in the future",
    `Signature not yet current: ${auth.amzDate} is still later than ${limit} (${now} + 5 min.)`,
  );
}

/** Re-signs the request with the SDK's signer and throws SignatureDoesNotMatch on a mismatch. */
export async function verifySigV4(
  request: RawRequest,
  auth: SigV4Authorization,
  secretAccessKey: string,
): Promise<void> {
  const bodyHash = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", request.body)));
  const declaredHash = request.headers.get("x-amz-content-sha256");
  // The signer trusts this header as the payload hash, so it must match the body actually sent.
  if (declaredHash !== null && declaredHash !== bodyHash) {
    throw AwsApiError.signatureDoesNotMatch(
      "x-amz-content-sha256 does not match the body",
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = request.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  const unsigned = new HttpRequest({
    method: request.method,
    protocol: request.url.protocol,
    hostname: request.url.hostname,
    path: safeDecode(request.url.pathname),
    query: canonicalQuery(request.url.search),
    headers,
    body: request.body,
  });
  const signer = new SignatureV4({
    // No session token here: when the client signed x-amz-security-token it is among `headers`.
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey },
    region: auth.region,
    service: auth.service,
    sha256: Sha256,
    applyChecksum: false,
    uriEscapePath: true,
  });
  const signed = await signer.sign(unsigned, {
    signingDate: auth.date,
    signableHeaders: new Set(auth.signedHeaders),
  });
  const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers["authorization"]))?.[1] ?? "";
  const expectedBytes = new TextEncoder().encode(expected);
  const actualBytes = new TextEncoder().encode(auth.signature);
  const same = expectedBytes.length === actualBytes.length &&
    timingSafeEqual(expectedBytes, actualBytes);
  if (!same) throw AwsApiError.signatureDoesNotMatch("signature mismatch");
}

/** `YYYYMMDDTHHMMSSZ`. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]|\.\d{3}/g, "");
}

function parseAmzDate(text: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Query parameters, decoded (the signer re-encodes them); `+` is kept, as SigV4 does. */
function canonicalQuery(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const pair of search.replace(/^\?/, "").split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const key = safeDecode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : safeDecode(pair.slice(eq + 1));
    const existing = query[key];
    if (existing === undefined) query[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else query[key] = [existing, value];
  }
  return query;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

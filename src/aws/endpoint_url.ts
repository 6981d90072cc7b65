/**
 * Endpoint overrides carry access keys, session tokens, MFA codes and console sign-in tokens:
 * plain http:// is accepted only for a loopback address (a local STS in tests, `deno task sts`),
 * never across a network where anyone on the path could read them.
 */
import { VaultshError } from "../errors.ts";

const HINT = "use https://, or check AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL and endpoint_url";

/** Throws a one-line error naming `what` unless `url` is https, or http on a loopback address. */
export function checkEndpointUrl(url: string, what: string, hint = HINT): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new VaultshError(`${what} ${url}`, "not a URL", { hint });
  }
  if (parsed.protocol === "https:") return parsed;
  if (parsed.protocol !== "http:") {
    throw new VaultshError(`${what} ${url}`, "not an http(s) URL", { hint });
  }
  if (!isLoopback(parsed.hostname)) {
    throw new VaultshError(
      `${what} ${url}`,
      "plain http:// is accepted only for a loopback address (127.0.0.1, ::1, localhost)",
      { hint },
    );
  }
  return parsed;
}

function isLoopback(hostname: string): boolean {
  // the URL parser has already turned every IPv4 spelling (0x7f.1, 2130706433) into dotted quads
  return hostname === "localhost" || hostname === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

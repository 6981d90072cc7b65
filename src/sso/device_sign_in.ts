/**
 * The device-code sign-in (RFC 8628 as IAM Identity Center runs it): StartDeviceAuthorization,
 * the verification URL and user code on stderr, the browser opened unless told not to, then
 * CreateToken polled every `interval` seconds, 5 more after each SlowDownException, until the
 * person approves, denies, or the code expires. Each end is one line.
 */
import { AwsCallError } from "../aws/aws_call_error.ts";
import type { ClientRegistration, SsoOidc, TokenGrant } from "../aws/sso_oidc.ts";
import { VaultshError } from "../errors.ts";
import * as log from "../log.ts";
import { formatDuration } from "../util/duration.ts";
import { describeSession, type SsoSessionConfig } from "./sso_config.ts";
import type { SsoDeps } from "./sso_deps.ts";

/** RFC 8628: after a slow_down, poll that many seconds less often. */
const SLOW_DOWN_SECONDS = 5;
/** Polls that may fail in a row without AWS answering before the sign-in gives up. */
const NETWORK_FAILURES_ALLOWED = 3;

export async function deviceSignIn(
  deps: SsoDeps,
  oidc: SsoOidc,
  session: SsoSessionConfig,
  registration: ClientRegistration,
  /** What to run to try again, for the hint (`vaultsh sso login dev`). */
  retry: string,
): Promise<TokenGrant> {
  const what = describeSession(session);
  const authorization = await oidc.startDeviceAuthorization(registration, session.startUrl);
  const url = authorization.verificationUriComplete ?? authorization.verificationUri;
  const minutes = formatDuration(authorization.expiresIn);
  deps.tell(`to sign in to ${session.startUrl}, open ${url}`);
  deps.tell(
    authorization.verificationUriComplete === undefined
      ? `and enter the code ${authorization.userCode} (within ${minutes})`
      : `and check that it shows the code ${authorization.userCode} (within ${minutes})`,
  );
  if (deps.openBrowser !== undefined) {
    const opened = await deps.openBrowser(url);
    deps.tell(
      opened
        ? "opened your browser; waiting for you to allow access…"
        : "could not open a browser: open the URL above yourself; waiting…",
    );
  } else {
    deps.tell("waiting for you to allow access…");
  }

  const deadline = deps.now().getTime() + authorization.expiresIn * 1000;
  const expired = () =>
    new VaultshError(what, `the sign-in code expired: it was not allowed within ${minutes}`, {
      hint: `try again: ${retry}`,
    });
  let interval = authorization.interval;
  let networkFailures = 0;
  while (true) {
    await deps.sleep(interval * 1000);
    if (deps.now().getTime() >= deadline) throw expired();
    try {
      return await oidc.createToken(registration, {
        grantType: "device_code",
        deviceCode: authorization.deviceCode,
      });
    } catch (error) {
      if (!(error instanceof AwsCallError)) throw error;
      switch (error.awsCode) {
        case "AuthorizationPendingException":
          networkFailures = 0;
          continue;
        case "SlowDownException":
          networkFailures = 0;
          interval += SLOW_DOWN_SECONDS;
          log.debug(`${what}: asked to slow down, polling every ${interval} s`);
          continue;
        case "ExpiredTokenException":
          throw expired();
        case "AccessDeniedException":
          throw new VaultshError(what, "the sign-in was denied in the browser", {
            hint: `to try again: ${retry}`,
          });
        case undefined:
          // a dropped connection during a wait of minutes is worth another poll, a dead
          // endpoint is not
          if (++networkFailures < NETWORK_FAILURES_ALLOWED) {
            log.debug(`${what}: poll failed (${error.why}); polling again`);
            continue;
          }
          throw error;
        default:
          throw error;
      }
    }
  }
}

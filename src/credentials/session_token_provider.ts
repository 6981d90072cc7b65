/** STS GetSessionToken, with an MFA code when the profile has `mfa_serial` (design.md#credentials). */
import type { Sts } from "../aws/sts.ts";
import * as log from "../log.ts";
import type { Credentials } from "../aws/credentials.ts";
import type { SpendMfa } from "./mfa_spender.ts";
import type { CredentialsProvider } from "./provider.ts";

export interface SessionTokenOptions {
  readonly profile: string;
  readonly source: CredentialsProvider;
  readonly sts: Sts;
  readonly durationSeconds: number;
  readonly mfaSerial?: string | undefined;
  readonly mfaProcess?: string | undefined;
  readonly mfa: SpendMfa;
}

export class SessionTokenProvider implements CredentialsProvider {
  constructor(private readonly options: SessionTokenOptions) {}

  async retrieve(): Promise<Credentials> {
    const { profile, source, sts, durationSeconds, mfaSerial, mfaProcess, mfa } = this.options;
    const credentials = await source.retrieve();
    const getSessionToken = (tokenCode?: string) => {
      log.info(
        `getting a session token for ${profile}${mfaSerial === undefined ? "" : " with MFA"}…`,
      );
      return sts.getSessionToken(credentials, {
        durationSeconds,
        ...(tokenCode === undefined ? {} : { serialNumber: mfaSerial!, tokenCode }),
      });
    };
    if (mfaSerial === undefined) return getSessionToken();
    return mfa({ profile, serial: mfaSerial, process: mfaProcess }, getSessionToken);
  }
}

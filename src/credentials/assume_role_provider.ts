/** STS AssumeRole from a source's credentials. */
import type { AssumeRoleInput, Sts } from "../aws/sts.ts";
import * as log from "../log.ts";
import type { Credentials } from "../aws/credentials.ts";
import type { SpendMfa } from "./mfa_spender.ts";
import type { CredentialsProvider } from "./provider.ts";

export interface AssumeRoleOptions {
  readonly profile: string;
  readonly source: CredentialsProvider;
  readonly sts: Sts;
  readonly role: Omit<AssumeRoleInput, "serialNumber" | "tokenCode">;
  /** Set when this call itself must carry MFA (the source is not an MFA session). */
  readonly mfaSerial?: string | undefined;
  /** The duration asked for, when it was capped to the 1h AWS allows role chaining. */
  readonly cappedFrom?: number;
  readonly mfaProcess?: string | undefined;
  readonly mfa: SpendMfa;
}

export class AssumeRoleProvider implements CredentialsProvider {
  constructor(private readonly options: AssumeRoleOptions) {}

  async retrieve(): Promise<Credentials> {
    const { profile, source, sts, role, mfaSerial, mfaProcess, mfa, cappedFrom } = this.options;
    const credentials = await source.retrieve();
    if (cappedFrom !== undefined) {
      // said when the role is assumed, not at every cache hit
      log.info(
        `profile "${profile}": a role assumed from temporary credentials lasts at most 1h, ` +
          `so ${describeRole(role.roleArn)} is assumed for ${hours(role.durationSeconds)}, ` +
          `not ${hours(cappedFrom)}`,
      );
    }
    const assumeRole = (tokenCode?: string) => {
      log.info(`assuming ${describeRole(role.roleArn)} for ${profile}…`);
      return sts.assumeRole(credentials, {
        ...role,
        ...(tokenCode === undefined ? {} : { serialNumber: mfaSerial!, tokenCode }),
      });
    };
    if (mfaSerial === undefined) return assumeRole();
    return mfa({ profile, serial: mfaSerial, process: mfaProcess }, assumeRole);
  }
}

/** `role_name in 222222222222` from an ARN, for progress lines. */
function describeRole(roleArn: string): string {
  const match = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  return match === null ? roleArn : `${match[2]} in ${match[1]}`;
}

/** `2h`, `1h30m`, `45m`: a duration as the user wrote it. */
function hours(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h > 0 ? `${h}h` : ""}${m > 0 ? `${m}m` : ""}${s > 0 || seconds === 0 ? `${s}s` : ""}`;
}

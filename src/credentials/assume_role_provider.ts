/** STS AssumeRole from a source's credentials (SPEC §5.3). */
import type { AssumeRoleInput, Sts } from "../aws/sts.ts";
import * as log from "../log.ts";
import type { Credentials } from "./credentials.ts";
import type { SpendMfa } from "./mfa_spender.ts";
import type { CredentialsProvider } from "./provider.ts";

export interface AssumeRoleOptions {
  readonly profile: string;
  readonly source: CredentialsProvider;
  readonly sts: Sts;
  readonly role: Omit<AssumeRoleInput, "serialNumber" | "tokenCode">;
  /** Set when this call itself must carry MFA (the source is not an MFA session). */
  readonly mfaSerial?: string | undefined;
  readonly mfaProcess?: string | undefined;
  readonly mfa: SpendMfa;
}

export class AssumeRoleProvider implements CredentialsProvider {
  constructor(private readonly options: AssumeRoleOptions) {}

  async retrieve(): Promise<Credentials> {
    const { profile, source, sts, role, mfaSerial, mfaProcess, mfa } = this.options;
    const credentials = await source.retrieve();
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

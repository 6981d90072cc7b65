/**
 * The flags every credential-producing command takes (`--duration`, `--region`, `--mfa-token`,
 * `--no-session`, `--backend`), as the credential engine and the commands receive them.
 */
export interface CredentialFlags {
  readonly backend?: string | undefined;
  readonly region?: string | undefined;
  /** Seconds, already parsed from `--duration`. */
  readonly durationSeconds?: number | undefined;
  readonly mfaToken?: string | undefined;
  readonly noSession?: boolean | undefined;
}

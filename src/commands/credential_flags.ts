/** The flags every credential-producing command takes (SPEC §2). */
export interface CredentialFlags {
  readonly backend?: string | undefined;
  readonly region?: string | undefined;
  /** Seconds, already parsed from `--duration`. */
  readonly durationSeconds?: number | undefined;
  readonly mfaToken?: string | undefined;
  readonly noSession?: boolean | undefined;
}

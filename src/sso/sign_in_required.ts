/**
 * Thrown when an IAM Identity Center token is needed, none is left (nor a working refresh token),
 * and the caller may not open a browser (the prompt hook, the credential server). The hook turns
 * it into one notice naming `login`, as it does with an MFA code it cannot ask for.
 */
import { VaultshError } from "../errors.ts";

export class SsoSignInRequired extends VaultshError {
  /** What the person runs to sign in again (`vaultsh sso login dev`). */
  readonly login: string;

  constructor(what: string, login: string) {
    super(what, "not signed in, or the sign-in expired", { hint: `sign in with: ${login}` });
    this.login = login;
  }
}

/**
 * The file backend's JWE (compact serialization, RFC 7516), through jose:
 *
 * - the data key file: 32 random bytes sealed with the passphrase, PBES2-HS512+A256KW / A256GCM,
 *   its `kid` naming the key;
 * - items: sealed with the data key, A256KW / A256GCM, `kid` naming the key that opens them;
 * - items of vaultsh 0.1: sealed with the passphrase directly (PBES2), one key derivation each.
 *
 * jose is imported on first use: a process that reads nothing from files never loads it.
 */
import { decodeBase64Url } from "../util/base64url.ts";

export const PASSPHRASE_ALGORITHM = "PBES2-HS512+A256KW";
export const DATA_KEY_ALGORITHM = "A256KW";
const ENCRYPTION = "A256GCM";
/** Refuses files demanding absurd work (a planted file must not hang vaultsh). */
const MAX_ITERATIONS = 5_000_000;

export interface JweHeader {
  readonly alg?: unknown;
  readonly kid?: unknown;
}

/** Why a token did not open. */
export class SealError extends Error {
  override readonly name = "SealError";
  constructor(
    /** `key`: the key or passphrase is wrong (or the token was altered); `format`: not ours. */
    readonly reason: "key" | "format",
    options: { cause: unknown },
  ) {
    super(reason === "key" ? "decryption failed" : "not a JWE vaultsh reads", options);
  }
}

/** The protected header of a compact JWE, or undefined when the text is not one. */
export function jweHeader(token: string): JweHeader | undefined {
  const parts = token.trim().split(".");
  if (parts.length !== 5 || parts[0] === undefined) return undefined;
  try {
    const bytes = decodeBase64Url(parts[0]);
    if (bytes === undefined) return undefined;
    const header: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof header === "object" && header !== null ? header as JweHeader : undefined;
  } catch {
    return undefined;
  }
}

export async function sealWithPassphrase(
  plaintext: Uint8Array,
  passphrase: Uint8Array,
  iterations: number,
  kid?: string,
): Promise<string> {
  const { CompactEncrypt } = await import("jose");
  return await new CompactEncrypt(plaintext)
    .setProtectedHeader({
      alg: PASSPHRASE_ALGORITHM,
      enc: ENCRYPTION,
      ...(kid === undefined ? {} : { kid }),
    })
    .setKeyManagementParameters({ p2c: iterations })
    .encrypt(passphrase);
}

export async function sealWithKey(
  plaintext: Uint8Array,
  key: Uint8Array,
  kid: string,
): Promise<string> {
  const { CompactEncrypt } = await import("jose");
  return await new CompactEncrypt(plaintext)
    .setProtectedHeader({ alg: DATA_KEY_ALGORITHM, enc: ENCRYPTION, kid })
    .encrypt(key);
}

/** The plaintext of a token sealed with `algorithm`; the caller wipes it. */
export async function unseal(
  token: string,
  key: Uint8Array,
  algorithm: typeof PASSPHRASE_ALGORITHM | typeof DATA_KEY_ALGORITHM,
): Promise<Uint8Array> {
  const { compactDecrypt } = await import("jose");
  try {
    const { plaintext } = await compactDecrypt(token.trim(), key, {
      keyManagementAlgorithms: [algorithm],
      contentEncryptionAlgorithms: [ENCRYPTION],
      maxPBES2Count: MAX_ITERATIONS,
    });
    return plaintext;
  } catch (error) {
    // AES key unwrap checks its integrity value: a wrong key fails right there
    const code = (error as { code?: unknown }).code;
    throw new SealError(code === "ERR_JWE_DECRYPTION_FAILED" ? "key" : "format", { cause: error });
  }
}

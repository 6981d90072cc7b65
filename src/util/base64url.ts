/**
 * base64url without padding (RFC 4648 §5), written out: the first `btoa`/`atob` of a run makes
 * Deno load its base64 module, 6–18 ms of a cache hit's start-up (measured), and a cache hit
 * decodes every session name it lists. test/base64url_test.ts keeps `btoa`/`atob` as the oracle.
 */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

export function encodeBase64Url(bytes: Uint8Array): string {
  let text = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    text += digit(n >> 18) + digit(n >> 12) + digit(n >> 6) + digit(n);
  }
  if (bytes.length - i === 1) {
    const n = bytes[i]! << 16;
    text += digit(n >> 18) + digit(n >> 12);
  } else if (bytes.length - i === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    text += digit(n >> 18) + digit(n >> 12) + digit(n >> 6);
  }
  return text;
}

/**
 * The bytes `text` encodes, or undefined when it is not unpadded base64url. Like `atob`, bits
 * left over in the last character are ignored.
 */
export function decodeBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (text.length % 4 === 1) return undefined;
  const bytes = new Uint8Array(Math.floor(text.length * 3 / 4));
  let bits = 0;
  let held = 0;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? VALUES[code]! : -1;
    if (value < 0) return undefined;
    bits = (bits << 6) | value;
    held += 6;
    if (held >= 8) {
      held -= 8;
      bytes[at++] = (bits >> held) & 0xff;
      bits &= (1 << held) - 1;
    }
  }
  return bytes;
}

function digit(n: number): string {
  return ALPHABET[n & 63]!;
}

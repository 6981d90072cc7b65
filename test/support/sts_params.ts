/**
 * Query-protocol parameters (`Action=...&RoleArn=...&Tags.member.1.Key=...`) with AWS's
 * validation messages, so clients see the same ValidationError text they would from AWS.
 */
import { AwsApiError } from "./sts_errors.ts";

export interface StringRule {
  /** The parameter's name in AWS's messages (camelCase), e.g. `roleSessionName`. */
  readonly field: string;
  readonly min?: number;
  readonly max?: number;
  /** Anchored by this class; `source` is quoted in the message as AWS writes it. */
  readonly pattern?: RegExp;
}

export class QueryParams {
  readonly #params: URLSearchParams;

  constructor(params: URLSearchParams) {
    this.#params = params;
  }

  get(name: string): string | undefined {
    return this.#params.get(name) ?? undefined;
  }

  has(name: string): boolean {
    return this.#params.has(name);
  }

  /** Every parameter except the named secret ones, for the test log. */
  loggable(secret: readonly string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, value] of this.#params) if (!secret.includes(key)) out[key] = value;
    return out;
  }

  /** A string parameter checked against AWS's length and pattern constraints. */
  string(name: string, rule: StringRule & { required: true }): string;
  string(name: string, rule: StringRule): string | undefined;
  string(name: string, rule: StringRule & { required?: boolean }): string | undefined {
    const value = this.get(name);
    if (value === undefined) {
      if (rule.required === true) {
        throw AwsApiError.validation(
          `1 validation error detected: Value null at '${rule.field}' failed to satisfy ` +
            `constraint: Member must not be null`,
        );
      }
      return undefined;
    }
    checkString(value, rule);
    return value;
  }

  /** An integer parameter in [min, max]; undefined when absent. */
  integer(name: string, field: string, min: number, max: number): number | undefined {
    const text = this.get(name);
    if (text === undefined) return undefined;
    if (!/^-?\d+$/.test(text)) {
      throw AwsApiError.validation(
        `Invalid value for parameter ${name}: '${text}' is not an integer`,
      );
    }
    const value = Number(text);
    if (value < min) {
      throw AwsApiError.constraint(
        text,
        field,
        `Member must have value greater than or equal to ${min}`,
      );
    }
    if (value > max) {
      throw AwsApiError.constraint(
        text,
        field,
        `Member must have value less than or equal to ${max}`,
      );
    }
    return value;
  }

  /** `Prefix.member.N` values in N order (`TransitiveTagKeys.member.1=...`). */
  list(prefix: string): string[] {
    const items: Array<[number, string]> = [];
    for (const [key, value] of this.#params) {
      const match = new RegExp(`^${escapeRegExp(prefix)}\\.member\\.(\\d+)$`).exec(key);
      if (match !== null) items.push([Number(match[1]), value]);
    }
    return items.sort((a, b) => a[0] - b[0]).map(([, value]) => value);
  }

  /** `Tags.member.N.Key` / `.Value` pairs, in N order. */
  tags(prefix = "Tags"): Array<{ key: string; value: string }> {
    const byIndex = new Map<number, { key?: string; value?: string }>();
    for (const [name, value] of this.#params) {
      const match = new RegExp(`^${escapeRegExp(prefix)}\\.member\\.(\\d+)\\.(Key|Value)$`).exec(
        name,
      );
      if (match === null) continue;
      const index = Number(match[1]);
      const tag = byIndex.get(index) ?? {};
      if (match[2] === "Key") tag.key = value;
      else tag.value = value;
      byIndex.set(index, tag);
    }
    const tags: Array<{ key: string; value: string }> = [];
    for (const [index, tag] of [...byIndex].sort((a, b) => a[0] - b[0])) {
      const field = `tags.${index}.member`;
      if (tag.key === undefined) {
        throw AwsApiError.validation(
          `1 validation error detected: Value null at '${field}.key' failed to satisfy ` +
            `constraint: Member must not be null`,
        );
      }
      checkString(tag.key, { field: `${field}.key`, min: 1, max: 128, pattern: TAG_PATTERN });
      const value = tag.value ?? "";
      checkString(value, { field: `${field}.value`, max: 256, pattern: TAG_PATTERN });
      tags.push({ key: tag.key, value });
    }
    if (tags.length > 50) {
      throw AwsApiError.constraint(
        `[${tags.length} tags]`,
        "tags",
        "Member must have length less than or equal to 50",
      );
    }
    return tags;
  }
}

/** `[\w+=,.@-]*`, AWS's pattern for role session names, source identities, federated names. */
export const NAME_PATTERN = /[\w+=,.@-]*/;
const TAG_PATTERN = /[\p{L}\p{Z}\p{N}_.:/=+\-@]*/u;

function checkString(value: string, rule: StringRule): void {
  if (rule.min !== undefined && value.length < rule.min) {
    throw AwsApiError.constraint(
      value,
      rule.field,
      `Member must have length greater than or equal to ${rule.min}`,
    );
  }
  if (rule.max !== undefined && value.length > rule.max) {
    throw AwsApiError.constraint(
      value,
      rule.field,
      `Member must have length less than or equal to ${rule.max}`,
    );
  }
  if (rule.pattern !== undefined) {
    const anchored = new RegExp(`^(?:${rule.pattern.source})$`, rule.pattern.flags);
    if (!anchored.test(value)) {
      throw AwsApiError.constraint(
        value,
        rule.field,
        `Member must satisfy regular expression pattern: ${rule.pattern.source}`,
      );
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

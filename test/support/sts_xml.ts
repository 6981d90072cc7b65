/**
 * XML bodies shaped like the AWS Query protocol's (STS and IAM): `<XResponse xmlns=...>` with an
 * `<XResult>` and `<ResponseMetadata>`, and `<ErrorResponse>` for errors. Lists are `<member>`
 * elements, as AWS writes them; field order is the order of the object's keys.
 */

/** A field value: nested objects are elements, arrays are lists of `<member>`. */
export type XmlValue =
  | string
  | number
  | boolean
  | Date
  | XmlFields
  | readonly XmlValue[]
  | undefined;
export interface XmlFields {
  readonly [name: string]: XmlValue;
}

export const STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";
export const IAM_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/";

/** One error as AWS reports it in `<ErrorResponse>`. */
export interface QueryErrorBody {
  /** "Sender" for the caller's mistakes, "Receiver" for the service's. */
  readonly type: "Sender" | "Receiver";
  readonly code: string;
  readonly message: string;
}

/** `<ActionResponse>` with an optional `<ActionResult>` (DeleteAccessKey has none). */
export function queryResponse(
  namespace: string,
  action: string,
  result: XmlFields | undefined,
  requestId: string,
): string {
  const body = result === undefined ? "" : element(`${action}Result`, result);
  return `<${action}Response xmlns="${namespace}">\n${body}` +
    `  <ResponseMetadata>\n    <RequestId>${escapeXml(requestId)}</RequestId>\n` +
    `  </ResponseMetadata>\n</${action}Response>\n`;
}

/** `<ErrorResponse>` the way STS and IAM send it (RequestId beside Error, not in metadata). */
export function errorResponse(namespace: string, error: QueryErrorBody, requestId: string): string {
  return `<ErrorResponse xmlns="${namespace}">\n  <Error>\n` +
    `    <Type>${error.type}</Type>\n    <Code>${escapeXml(error.code)}</Code>\n` +
    `    <Message>${escapeXml(error.message)}</Message>\n  </Error>\n` +
    `  <RequestId>${escapeXml(requestId)}</RequestId>\n</ErrorResponse>\n`;
}

/** AWS's timestamp format in Query responses: ISO 8601, UTC, whole seconds. */
export function awsTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
};

/** Escapes text for element content and double-quoted attributes. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (char) => ENTITIES[char] ?? char);
}

function element(name: string, value: XmlValue, depth = 1): string {
  const indent = "  ".repeat(depth);
  if (value === undefined) return "";
  if (Array.isArray(value)) {
    const members = value.map((member) => element("member", member, depth + 1)).join("");
    return `${indent}<${name}>\n${members}${indent}</${name}>\n`;
  }
  if (value instanceof Date) return `${indent}<${name}>${awsTimestamp(value)}</${name}>\n`;
  if (typeof value === "object") {
    const fields = value as XmlFields;
    const children = Object.keys(fields).map((key) => element(key, fields[key], depth + 1));
    return `${indent}<${name}>\n${children.join("")}${indent}</${name}>\n`;
  }
  return `${indent}<${name}>${escapeXml(String(value))}</${name}>\n`;
}

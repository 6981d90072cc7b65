/** doctor's output: aligned lines with a fix under each problem, or JSON for scripts. */
import type { Finding, Level } from "./finding.ts";

const LABEL: Record<Level, string> = {
  ok: "ok",
  info: "info",
  warning: "warn",
  error: "ERROR",
};

export interface Summary {
  readonly errors: number;
  readonly warnings: number;
}

export function summarize(findings: readonly Finding[]): Summary {
  return {
    errors: findings.filter((f) => f.level === "error").length,
    warnings: findings.filter((f) => f.level === "warning").length,
  };
}

/** One line per finding (`LEVEL  check     message`), its fix indented below. */
export function renderText(findings: readonly Finding[]): string {
  const lines: string[] = [];
  const indent = " ".repeat(6 + 2 + 8 + 2);
  for (const { level, check, message, fix } of findings) {
    lines.push(`${LABEL[level].padEnd(6)}  ${check.padEnd(8)}  ${message}`);
    if (fix !== undefined) lines.push(`${indent}fix: ${fix}`);
  }
  const { errors, warnings } = summarize(findings);
  lines.push(
    "",
    errors === 0 && warnings === 0
      ? "no problems found"
      : `${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${
        warnings === 1 ? "" : "s"
      }`,
  );
  return lines.join("\n") + "\n";
}

/** `{"ok", "errors", "warnings", "findings": [{check, level, message, fix?}]}`. */
export function renderJson(findings: readonly Finding[]): string {
  const { errors, warnings } = summarize(findings);
  return JSON.stringify({ ok: errors === 0, errors, warnings, findings }, null, 2) + "\n";
}

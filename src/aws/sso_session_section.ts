/**
 * An `[sso-session NAME]` section as the IAM Identity Center core uses it, for the commands that
 * name a session rather than a profile (`vaultsh sso login demo`) and for doctor.
 */
import { VaultshError } from "../errors.ts";
import { didYouMean } from "../util/did_you_mean.ts";
import type { Section } from "./config_files.ts";
import type { SsoSessionConfig } from "./sso_config.ts";

/** Region names only: the region becomes part of the endpoint's host name. */
const REGION = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** An `[sso-session NAME]` section as the core uses it. Throws when it lacks a key. */
export function ssoSessionFrom(
  configShown: string,
  name: string,
  section: Section | undefined,
  names: Iterable<string>,
): SsoSessionConfig {
  const what = `sso-session "${name}" in ${configShown}`;
  if (section === undefined) {
    const near = didYouMean(name, names);
    throw new VaultshError(what, `there is no [sso-session ${name}] section`, {
      hint: near === undefined
        ? `add [sso-session ${name}] with sso_start_url and sso_region`
        : `did you mean "${near}"?`,
    });
  }
  const problem = sessionProblem(section);
  if (problem !== undefined) {
    throw new VaultshError(
      what,
      problem.why,
      problem.hint === undefined ? {} : { hint: problem.hint },
    );
  }
  return sessionOf(name, section);
}

/** What is wrong with an sso-session section, if anything. */
export function sessionProblem(
  section: Section,
): { why: string; hint?: string } | undefined {
  const startUrl = section.get("sso_start_url");
  const region = section.get("sso_region");
  if (startUrl === undefined) {
    return {
      why: "has no sso_start_url",
      hint: "add your access portal's URL: sso_start_url = https://...",
    };
  }
  if (!isHttpUrl(startUrl)) return { why: `sso_start_url "${startUrl}" is not an https:// URL` };
  if (region === undefined) {
    return {
      why: "has no sso_region",
      hint: "add the region of your IAM Identity Center: sso_region = ...",
    };
  }
  if (!REGION.test(region)) return { why: `sso_region "${region}" is not an AWS region` };
  return undefined;
}

function sessionOf(name: string, section: Section): SsoSessionConfig {
  const scopes = (section.get("sso_registration_scopes") ?? "").split(",").map((s) => s.trim())
    .filter((s) => s !== "");
  return {
    name,
    startUrl: section.get("sso_start_url")!,
    region: section.get("sso_region")!,
    registrationScopes: scopes,
  };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

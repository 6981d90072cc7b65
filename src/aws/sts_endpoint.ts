/**
 * Which STS endpoint a profile's calls go to. The profile's `endpointUrl` already carries the
 * environment overrides (`AWS_ENDPOINT_URL_STS` > `AWS_ENDPOINT_URL` > `endpoint_url`, see
 * aws_config.ts); `sts_regional_endpoints = legacy` means the global endpoint; otherwise the
 * SDK's regional default.
 */
import type { ProfileConfig } from "./profile_config.ts";
import type { StsEndpoint } from "./sts.ts";

export function stsEndpointFor(profile: ProfileConfig): StsEndpoint {
  const url = profile.endpointUrl ??
    (profile.stsRegionalEndpoints === "legacy" ? "https://sts.amazonaws.com" : undefined);
  return { region: profile.region ?? "us-east-1", url };
}

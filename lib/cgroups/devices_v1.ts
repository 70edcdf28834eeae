/**
 * Device access rules on a cgroup v1 devices hierarchy, as the seed wrote
 * them: deny all then allow each rule, or allow all then deny each rule.
 *
 * @module
 */
import { writeFile } from "../sys/fs.ts";

/** One device rule: type `a`, `c` or `b`; -1 is a wildcard major or minor. */
export interface DeviceRule {
  type: string;
  major: number;
  minor: number;
  permissions: string;
}

/** The devices-cgroup text of a rule, such as `c 1:3 rwm` or `c 136:* rwm`. */
export function deviceRuleText(rule: DeviceRule): string {
  const number = (n: number) => n < 0 ? "*" : String(n);
  return `${rule.type} ${number(rule.major)}:${number(rule.minor)} ${rule.permissions || "rwm"}`;
}

/** Writes the rules into a v1 devices cgroup directory. */
export function applyDeviceRulesV1(
  path: string,
  rules: { allowAll: boolean; allowed: readonly DeviceRule[]; denied: readonly DeviceRule[] },
): void {
  if (rules.allowAll) {
    writeFile(`${path}/devices.allow`, "a");
    for (const rule of rules.denied) writeFile(`${path}/devices.deny`, deviceRuleText(rule));
  } else {
    writeFile(`${path}/devices.deny`, "a");
    for (const rule of rules.allowed) writeFile(`${path}/devices.allow`, deviceRuleText(rule));
  }
}

/**
 * Device access rules on a cgroup v1 devices hierarchy, as the seed wrote
 * them: deny all then allow each rule, or allow all then deny each rule.
 *
 * @module
 */
import { O } from "../../ffi/constants.ts";
import { closeFd, openFile, writeAll } from "../sys/fs.ts";

const encoder = new TextEncoder();

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

/** Writes each line with its own write(2), as the kernel takes one rule per write. */
function writeRules(file: string, lines: readonly string[]): void {
  if (lines.length === 0) return;
  const fd = openFile(file, O.WRONLY);
  try {
    for (const line of lines) writeAll(fd, encoder.encode(line), file);
  } finally {
    closeFd(fd);
  }
}

/** Writes the rules into a v1 devices cgroup directory. */
export function applyDeviceRulesV1(
  path: string,
  rules: { allowAll: boolean; allowed: readonly DeviceRule[]; denied: readonly DeviceRule[] },
): void {
  // Allow or deny everything first, then the exceptions: the device list is never wider than asked.
  const [everything, exceptions, list] = rules.allowAll
    ? ["devices.allow", "devices.deny", rules.denied]
    : ["devices.deny", "devices.allow", rules.allowed];
  writeRules(`${path}/${everything}`, ["a"]);
  writeRules(`${path}/${exceptions}`, list.map(deviceRuleText));
}

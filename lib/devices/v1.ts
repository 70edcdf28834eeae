/**
 * Device rules on a cgroup v1 devices directory: the minimal writes of the
 * rules' {@link DevicePolicy}, one descriptor per file and one write(2) per
 * rule (the kernel parses one rule per write).
 *
 * @module
 */
import { O } from "../../ffi/constants.ts";
import { closeFd, openFile, writeAll } from "../sys/fs.ts";
import { type DevicePolicy, devicePolicy, type DeviceRules, deviceWriteText } from "./rules.ts";

const encoder = new TextEncoder();

/**
 * Writes the rules into a v1 devices cgroup directory: `a` to one file
 * first, then the exceptions to the other, so the device list is never
 * wider than asked while it is being written.
 *
 * @throws {SystemError} naming the file when an open or write fails.
 * @throws {ConfigError} for a rule the devices cgroup cannot take.
 */
export function applyDeviceRulesV1(path: string, rules: DeviceRules | DevicePolicy): void {
  const policy = "writes" in rules ? rules : devicePolicy(rules);
  let fd = -1;
  let openName = "";
  try {
    for (const write of policy.writes) {
      const file = `${path}/${write.file}`;
      if (file !== openName) {
        closeFd(fd);
        fd = -1;
        fd = openFile(file, O.WRONLY);
        openName = file;
      }
      writeAll(fd, encoder.encode(deviceWriteText(write)), file);
    }
  } finally {
    closeFd(fd);
  }
}

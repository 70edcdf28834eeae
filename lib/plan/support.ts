/**
 * Config features this version of the runtime does not carry out yet. A
 * config that asks for one is refused with the field named, never run with
 * the feature silently ignored.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { ConfigIssue } from "../errors.ts";
import { tryReadTextFile } from "../sys/fs.ts";

/** Cgroup fields that set resource limits (applied by the cgroups issue, not yet here). */
export const LIMIT_FIELDS = [
  "memory",
  "memory_reservation",
  "memory_swap",
  "cpu_shares",
  "cpu_quota",
  "cpu_period",
  "cpu_rt_runtime",
  "cpu_rt_period",
  "cpuset_cpus",
  "cpuset_mems",
  "blkio_weight",
  "blkio_weight_device",
  "blkio_throttle_read_bps_device",
  "blkio_throttle_write_bps_device",
  "blkio_throttle_read_iops_device",
  "blkio_throttle_write_iops_device",
  "freezer",
  "oom_kill_disable",
  "net_prio_ifpriomap",
] as const;

function isSet(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return value !== 0 && value !== "" && value !== false && value !== undefined && value !== null;
}

/** AppArmor or SELinux, as the kernel reports them. */
export interface LsmState {
  apparmor: boolean;
  selinux: boolean;
}

let lsms: LsmState | undefined;

/** Reads which LSMs are enabled on this host (once: they are fixed at boot). */
export function hostLsms(): LsmState {
  lsms ??= {
    apparmor: tryReadTextFile("/sys/module/apparmor/parameters/enabled")?.trim() === "Y",
    selinux: tryReadTextFile("/sys/fs/selinux/enforce") !== null,
  };
  return lsms;
}

/** Issues for every feature the config asks for that this runtime cannot carry out. */
export function unsupportedFeatures(config: Config, lsm: LsmState): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const notYet = (path: string, what: string) =>
    issues.push({ path, message: `${what} are not supported yet` });
  for (const field of LIMIT_FIELDS) {
    if (isSet(config.cgroups[field])) notYet(`cgroups.${field}`, "Cgroup resource limits");
  }
  config.mounts.forEach((mount, i) => {
    if (mount.device === "cgroup") notYet(`mounts[${i}].device`, "Cgroup mounts");
    if (mount.relabel !== "") notYet(`mounts[${i}].relabel`, "SELinux relabels");
  });
  // A label is applied when its LSM is enabled; otherwise the start fails,
  // unless the config says its labels are optional (then they are skipped).
  const label = (path: string, value: string, enabled: boolean, name: string) => {
    if (value === "" || enabled || config.labels_optional) return;
    issues.push({
      path,
      message: `${name} is not enabled on this host: ` +
        "remove the label, or set `labels_optional` to run without it",
    });
  };
  label("apparmor_profile", config.apparmor_profile, lsm.apparmor, "AppArmor");
  label("process_label", config.process_label, lsm.selinux, "SELinux");
  label("mount_label", config.mount_label, lsm.selinux, "SELinux");
  return issues;
}

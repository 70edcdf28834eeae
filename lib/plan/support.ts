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
  if (config.cgroups.freezer !== "") {
    // A frozen init could never finish starting; the freezer is set on a running container.
    issues.push({
      path: "cgroups.freezer",
      message: "Cannot be set at start: pause() or set() a running container instead",
    });
  }
  config.mounts.forEach((mount, i) => {
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

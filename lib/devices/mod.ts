/**
 * Device access rules: evaluated once by the WASM core, applied as the
 * minimal cgroup v1 writes or as a cgroup v2 device program (eBPF).
 *
 * @module
 */
export {
  type DeviceAccess,
  type DeviceFile,
  DevicePolicy,
  devicePolicy,
  type DeviceRule,
  type DeviceRules,
  type DeviceWrite,
  deviceWriteText,
} from "./rules.ts";
export { applyDeviceRulesV1 } from "./v1.ts";
export { attachDeviceProgram, DeviceProgramAttachment, loadDeviceProgram } from "./bpf.ts";

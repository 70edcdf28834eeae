/**
 * The WASM core of the runtime (AssemblyScript, stub runtime): numeric
 * cgroup file parsers and device rule evaluation. Every export takes and
 * returns numbers; bytes go through the regions of `wasm/_layout.ts`.
 */
export { parseBlkio, parseIoStat, parseList, parseScalar } from "./parse";
export { defineKeys, parseKeyed, resetKeys } from "./keyed";
export { deviceAllowed, deviceProgram, deviceRules } from "./devices";

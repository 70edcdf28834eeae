/** Runs nsinit with the given arguments; returns the exit status (see cli/main.ts). */
export function main(args: string[]): Promise<number>;

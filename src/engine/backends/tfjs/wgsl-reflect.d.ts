// Types for the part of wgsl_reflect (a WGSL parser and CPU interpreter, dev dependency) the kernel tests use.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  /** Runs a compute kernel with the invocations of each workgroup in lockstep; reports data races. */
  export function detectRaces(code: string, kernel: string, dispatch: number | number[], bindGroups: object, config?: object): { races: unknown[]; errors: string[] };
  /** The WGSL parser (throws on a syntax error). */
  export class WgslParser {
    parse(code: string): unknown[];
  }
}

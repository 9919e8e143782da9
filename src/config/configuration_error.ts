/**
 * The set-up is unusable: an environment variable, `FERRY_HOME` or a configured path is wrong.
 * The message names the setting and its value; commands exit with code 3.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { ConfigurationError } from "./configuration_error.ts";
 *
 * const error = new ConfigurationError("FERRY_HOME", "/etc/passwd", "it is a file, not a folder");
 * ok(error.message === "Cannot use FERRY_HOME '/etc/passwd': it is a file, not a folder");
 * ok(error.exitCode === 3);
 * ```
 */
export class ConfigurationError extends TypeError {
  /** The setting: an environment variable's name, or a flag. */
  readonly setting: string;
  /** The value it has. */
  readonly value: string | undefined;
  /** Commands exit with 3 (configuration or connection problem). */
  readonly exitCode = 3 as const;

  constructor(setting: string, value: string | undefined, reason: string, options?: ErrorOptions) {
    super(`Cannot use ${setting}${value === undefined ? "" : ` '${value}'`}: ${reason}`, options);
    this.name = "ConfigurationError";
    this.setting = setting;
    this.value = value;
  }
}

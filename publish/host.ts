import { delimiter, normalize } from "node:path";
import process from "node:process";
import type { Context, Instance } from "./context.ts";
import { discover, type DiscoverOptions, type Discovery } from "./discover.ts";
import { InvalidPluginError, type PluginClass, type PluginSpec, type ResolvedPlugin, resolvePlugin } from "./plugin.ts";
import type { Result } from "./run.ts";
import { stopAfterFailedValidation, type StopRule } from "./stop_rule.ts";

/** The payloads of the framework's signals (pyblish's keyword arguments), and of the UI signals. */
export interface Signals {
  /** After every pair, whether it succeeded or not (and after an action). */
  pluginProcessed: { result: Result };
  /** A pair (or action) failed; emitted before `pluginProcessed`. */
  pluginFailed: { plugin: ResolvedPlugin; context: Context; instance: Instance | null; error: Error; result: Result };
  /** Before a plugin runs on an instance (or the context); ferry's, not pyblish's. */
  pluginStarted: { plugin: ResolvedPlugin; instance: Instance | null };
  /** The stop rule stopped a pass; ferry's, not pyblish's (pyblish logs it). */
  stopped: { reason: string };
  published: { context: Context };
  collected: { context: Context };
  validated: { context: Context };
  extracted: { context: Context };
  integrated: { context: Context };
  /** A UI switched an instance's `publish` (see {@linkcode PublishHost.toggleInstance}). */
  instanceToggled: { instance: Instance; newValue: boolean; oldValue: boolean };
  /** A UI switched a plugin on or off (see {@linkcode PublishHost.togglePlugin}). */
  pluginToggled: { plugin: ResolvedPlugin; newValue: boolean; oldValue: boolean };
}

/** The payload a callback of `signal` gets: the framework's signals are typed, custom ones are records. */
export type SignalPayload<S extends string> = S extends keyof Signals ? Signals[S] : Record<string, unknown>;

/** A callback for a signal. */
export type Callback<S extends string = string> = (payload: SignalPayload<S>) => void;

/** Options of {@linkcode PublishHost}. */
export interface PublishHostOptions {
  /** Hosts registered from the start (after those of `FERRY_HOSTS`). @default {[]} */
  hosts?: readonly string[];
  /** Targets registered from the start (after those of `FERRY_TARGETS`). @default {[]} */
  targets?: readonly string[];
  /** Where `FERRY_HOSTS`, `FERRY_TARGETS` (path-delimiter lists) and, at discovery, `FERRY_PLUGIN_PATH` are read. @default {process.env} */
  env?: Record<string, string | undefined>;
}

function readEnv(env: Record<string, string | undefined> | undefined, name: string): string[] {
  try {
    return ((env ?? process.env)[name] ?? "").split(delimiter).filter(Boolean);
  } catch {
    return []; // no permission to read the environment
  }
}

/**
 * pyblish's registries, held by an object instead of module globals: hosts, targets, callbacks,
 * in-memory plugins, plugin folders, discovery filters, the stop rule, and the toggles UIs make.
 * A publish takes one as `host`; without one it makes a fresh default (reading `FERRY_HOSTS` and
 * `FERRY_TARGETS`), so nothing leaks between publishes that don't share a host.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { definePlugin, publish, PublishHost } from "./mod.ts";
 *
 * const host = new PublishHost({ env: {} });
 * host.registerHost("maya");
 * const seen: string[] = [];
 * host.registerCallback("pluginProcessed", ({ result }) => seen.push(result.plugin.name));
 * host.registerCallback("assetChecked", (payload) => seen.push(String(payload.asset)));
 * host.registerPlugin(definePlugin({ kind: "context", name: "MayaOnly", hosts: ["maya"], process(_c, tools) {
 *   tools.emit("assetChecked", { asset: "propA" });
 * } }));
 * await publish({ host });
 * ok(host.currentHost() === "maya" && seen.join() === "propA,MayaOnly");
 * ```
 */
export class PublishHost {
  #hosts: string[] = [];
  #targets: string[] = [];
  #callbacks = new Map<string, Array<(payload: never) => void>>();
  #plugins = new Map<string, ResolvedPlugin>();
  #paths: string[] = [];
  #filters: Array<(plugins: ResolvedPlugin[]) => void> = [];
  #test: StopRule = stopAfterFailedValidation;
  #toggledOff = new WeakSet<ResolvedPlugin>();
  #env: Record<string, string | undefined> | undefined;

  constructor(options: PublishHostOptions = {}) {
    this.#env = options.env;
    for (const host of [...readEnv(options.env, "FERRY_HOSTS"), ...(options.hosts ?? [])]) this.registerHost(host);
    for (const target of [...readEnv(options.env, "FERRY_TARGETS"), ...(options.targets ?? [])]) {
      this.registerTarget(target);
    }
  }

  // Hosts

  /** Registers a host (no duplicates); discovery keeps plugins whose `hosts` has `"*"` or a registered host. */
  registerHost(host: string): void {
    if (typeof host !== "string" || host === "") {
      throw new TypeError(`Cannot register host ${JSON.stringify(host)}: not a name`);
    }
    if (!this.#hosts.includes(host)) this.#hosts.push(host);
  }

  /** Removes a host; `RangeError` when it is not registered, unless `quiet`. */
  deregisterHost(host: string, options: { quiet?: boolean } = {}): void {
    const index = this.#hosts.indexOf(host);
    if (index >= 0) this.#hosts.splice(index, 1);
    else if (!options.quiet) throw new RangeError(`Cannot deregister host '${host}': it is not registered`);
  }

  deregisterAllHosts(): void {
    this.#hosts.length = 0;
  }

  /** The registered hosts (a copy). */
  registeredHosts(): string[] {
    return [...this.#hosts];
  }

  /** The host registered last, or `"unknown"`. */
  currentHost(): string {
    return this.#hosts.at(-1) ?? "unknown";
  }

  // Targets

  /** Registers a target; one already there moves to the end (it becomes the current target). */
  registerTarget(target: string): void {
    if (typeof target !== "string" || target === "") {
      throw new TypeError(`Cannot register target ${JSON.stringify(target)}: not a name`);
    }
    const index = this.#targets.indexOf(target);
    if (index >= 0) this.#targets.splice(index, 1);
    this.#targets.push(target);
  }

  /** Removes a target; `RangeError` when it is not registered, unless `quiet`. */
  deregisterTarget(target: string, options: { quiet?: boolean } = {}): void {
    const index = this.#targets.indexOf(target);
    if (index >= 0) this.#targets.splice(index, 1);
    else if (!options.quiet) throw new RangeError(`Cannot deregister target '${target}': it is not registered`);
  }

  deregisterAllTargets(): void {
    this.#targets.length = 0;
  }

  /** The registered targets (a copy); a publish without `targets` runs for `["default", ...these]`. */
  registeredTargets(): string[] {
    return [...this.#targets];
  }

  /** The target registered last, or `""`. */
  currentTarget(): string {
    return this.#targets.at(-1) ?? "";
  }

  // Callbacks

  /** Adds a callback for a signal (duplicates allowed, called in order); `TypeError` when it is not a function. */
  registerCallback<S extends string>(signal: S, callback: Callback<S>): void {
    if (typeof callback !== "function") {
      throw new TypeError(`Cannot register a callback for '${signal}': ${String(callback)} is not a function`);
    }
    const list = this.#callbacks.get(signal) ?? [];
    list.push(callback as (payload: never) => void);
    this.#callbacks.set(signal, list);
  }

  /** Removes a callback; `RangeError` for a signal without callbacks or a callback not registered for it. */
  deregisterCallback<S extends string>(signal: S, callback: Callback<S>): void {
    const list = this.#callbacks.get(signal);
    if (!list) throw new RangeError(`Cannot deregister a callback for '${signal}': that signal has no callbacks`);
    const index = list.indexOf(callback as (payload: never) => void);
    if (index < 0) throw new RangeError(`Cannot deregister a callback for '${signal}': it is not registered`);
    list.splice(index, 1);
  }

  deregisterAllCallbacks(): void {
    this.#callbacks.clear();
  }

  /** The callbacks per signal (a copy). */
  registeredCallbacks(): Map<string, Array<(payload: never) => void>> {
    return new Map([...this.#callbacks].map(([signal, list]) => [signal, [...list]]));
  }

  /**
   * Calls each callback of a signal with the payload. A callback that throws is reported on
   * stderr and the others still run (pyblish swallows it too).
   */
  emit<S extends string>(signal: S, payload: SignalPayload<S>): void {
    for (const callback of [...(this.#callbacks.get(signal) ?? [])]) {
      try {
        (callback as (payload: SignalPayload<S>) => void)(payload);
      } catch (error) {
        console.error(`publish: a '${signal}' callback failed:`, error);
      }
    }
  }

  // Plugins, paths, filters

  /**
   * Registers an in-memory plugin (object or class), by name: a later one of the same name
   * replaces it. `InvalidPluginError` when it is invalid or loads in none of the registered hosts.
   */
  registerPlugin(plugin: ResolvedPlugin | PluginSpec | PluginClass): ResolvedPlugin {
    const resolved = resolvePlugin(plugin);
    if (!resolved.hosts.includes("*") && !resolved.hosts.some((host) => this.#hosts.includes(host))) {
      throw new InvalidPluginError(
        `Plugin '${resolved.name}' is not compatible with the registered host(s): it needs ${
          JSON.stringify(resolved.hosts)
        }, registered are ${JSON.stringify(this.#hosts)} (register one with registerHost("${resolved.hosts[0]}"))`,
      );
    }
    this.#plugins.set(resolved.name, resolved);
    return resolved;
  }

  /** Removes a registered plugin (by plugin or name); `RangeError` when there is none of that name. */
  deregisterPlugin(plugin: ResolvedPlugin | PluginClass | string): void {
    const name = typeof plugin === "string" ? plugin : plugin.name;
    if (!this.#plugins.delete(name)) throw new RangeError(`Cannot deregister plugin '${name}': it is not registered`);
  }

  deregisterAllPlugins(): void {
    this.#plugins.clear();
  }

  /** The registered plugins, in registration order. */
  registeredPlugins(): ResolvedPlugin[] {
    return [...this.#plugins.values()];
  }

  /** Adds a plugin folder (normalised; a duplicate is ignored). Returns whether it was added. */
  registerPluginPath(path: string): boolean {
    const normal = normalize(path);
    if (this.#paths.includes(normal)) return false;
    this.#paths.push(normal);
    return true;
  }

  /** Removes a plugin folder; `RangeError` when it is not registered. */
  deregisterPluginPath(path: string): void {
    const index = this.#paths.indexOf(normalize(path));
    if (index < 0) throw new RangeError(`Cannot deregister plugin path '${path}': it is not registered`);
    this.#paths.splice(index, 1);
  }

  deregisterAllPaths(): void {
    this.#paths.length = 0;
  }

  /** The registered plugin folders (a copy). */
  registeredPaths(): string[] {
    return [...this.#paths];
  }

  /** Adds a discovery filter: it gets the sorted list and may edit it in place. */
  registerDiscoveryFilter(filter: (plugins: ResolvedPlugin[]) => void): void {
    if (typeof filter !== "function") throw new TypeError(`Cannot register discovery filter ${String(filter)}`);
    this.#filters.push(filter);
  }

  /** Removes a discovery filter; `RangeError` when it is not registered. */
  deregisterDiscoveryFilter(filter: (plugins: ResolvedPlugin[]) => void): void {
    const index = this.#filters.indexOf(filter);
    if (index < 0) throw new RangeError("Cannot deregister the discovery filter: it is not registered");
    this.#filters.splice(index, 1);
  }

  registeredDiscoveryFilters(): Array<(plugins: ResolvedPlugin[]) => void> {
    return [...this.#filters];
  }

  /**
   * Discovers plugins with this host's registries: the registered folders then `FERRY_PLUGIN_PATH`
   * (or `options.paths`), the registered plugins, the registered hosts and the discovery filters.
   */
  discover(options: Omit<DiscoverOptions, "registeredPaths" | "registeredPlugins" | "hosts" | "filters"> = {}): Promise<
    Discovery
  > {
    return discover({
      env: this.#env,
      ...options,
      registeredPaths: this.registeredPaths(),
      registeredPlugins: this.registeredPlugins(),
      hosts: this.registeredHosts(),
      filters: this.registeredDiscoveryFilters(),
    });
  }

  // Stop rule

  /** Replaces the stop rule publishes with this host use (pyblish's `register_test`). */
  registerTest(test: StopRule): void {
    if (typeof test !== "function") throw new TypeError(`Cannot register test ${String(test)}: not a function`);
    this.#test = test;
  }

  /** Restores {@linkcode stopAfterFailedValidation}. */
  deregisterTest(): void {
    this.#test = stopAfterFailedValidation;
  }

  registeredTest(): StopRule {
    return this.#test;
  }

  // Toggles (for UIs)

  /** Sets an instance's `publish` and emits `instanceToggled` with the new and old values. */
  toggleInstance(instance: Instance, value: boolean): void {
    const oldValue = instance.data.publish !== false;
    instance.data.publish = value;
    this.emit("instanceToggled", { instance, newValue: value, oldValue });
  }

  /**
   * Switches a plugin on or off for publishes with this host (the plugin object itself is not
   * changed, so other hosts sharing it are unaffected) and emits `pluginToggled`.
   */
  togglePlugin(plugin: ResolvedPlugin, value: boolean): void {
    const oldValue = this.isPluginEnabled(plugin);
    if (value) this.#toggledOff.delete(plugin);
    else this.#toggledOff.add(plugin);
    this.emit("pluginToggled", { plugin, newValue: value, oldValue });
  }

  /** Whether a plugin is switched on for this host (see {@linkcode togglePlugin}). */
  isPluginEnabled(plugin: ResolvedPlugin): boolean {
    return !this.#toggledOff.has(plugin);
  }
}

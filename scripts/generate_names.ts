/**
 * Generates realistic file-name lists for sequence-detection benchmarks and tests.
 *
 * - `runs: 1`: names with exactly one digit run: padded sequences (`%04d`), unpadded sequences
 *   that cross a width boundary (`995`–`1010`), sequences with holes, and 10% strays (some with no
 *   digits, some single numbered files).
 * - `runs: 3`: shot, version and frame in every name, e.g. `sh040_comp_v003.1012.exr`, with the
 *   same 10% strays.
 *
 * Names come grouped by sequence in a shuffled sequence order, as a renderer's output folder
 * listing would give them. Deterministic for a given seed.
 *
 * Usage: `deno task names --count 100000 --runs 3 [--seed 7] [--out names.txt]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { writeFileSync } from "node:fs";

/** Options of {@linkcode generateNames}. */
export interface GenerateNamesOptions {
  /** How many names. */
  count: number;
  /** Digit runs per name: 1 (frame) or 3 (shot, version, frame). @default {1} */
  runs?: 1 | 3;
  /** Seed of the pseudo-random generator. @default {1} */
  seed?: number;
}

const WORDS = ["beauty", "diffuse", "specular", "shadow", "matte", "depth", "normal", "crypto", "volume", "emission"];
const LETTERS = "abcdefghijklmnopqrstuvwxyz";

/** Makes the list. */
export function generateNames(options: GenerateNamesOptions): string[] {
  const { count, runs = 1, seed = 1 } = options;
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`Cannot generate '${count}' names`);
  const random = mulberry32(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const word = (length: number) => Array.from({ length }, () => pick([...LETTERS])).join("");
  const names: string[] = [];
  const strays = Math.floor(count / 10);
  const sequenceNames = count - strays;
  const sequences: string[][] = [];
  let made = 0;
  let serial = 0;
  while (made < sequenceNames) {
    const length = Math.min(sequenceNames - made, 20 + Math.floor(random() * 180));
    const members: string[] = [];
    const kind = random();
    // Single-run names keep digits out of the layer; three-run names reuse layer names across
    // shots, as real renders do, which makes clique form shot- and version-wise collections too.
    const layer = runs === 1 ? `${pick(WORDS)}_${word(4)}${word(2)}` : pick(WORDS);
    serial++;
    const holes = random() < 0.3;
    let frame = kind < 0.15 ? 995 - Math.floor(random() * 10) : 1001;
    while (members.length < length) {
      if (holes && random() < 0.05) {
        frame++;
        continue;
      }
      const padded = kind < 0.15 ? String(frame) : String(frame).padStart(4, "0");
      if (runs === 1) {
        members.push(`${layer}.${padded}.exr`);
      } else {
        const shot = String(10 * (1 + (serial % 97))).padStart(3, "0");
        const version = String(1 + (serial % 7)).padStart(3, "0");
        members.push(`sh${shot}_${layer}_v${version}.${padded}.exr`);
      }
      frame++;
    }
    sequences.push(members);
    made += members.length;
  }
  for (let i = sequences.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [sequences[i], sequences[j]] = [sequences[j]!, sequences[i]!];
  }
  const strayNames: string[] = [];
  for (let i = 0; i < strays; i++) {
    strayNames.push(
      runs === 1
        ? (random() < 0.5 ? `notes_${word(8)}.txt` : `take${Math.floor(random() * 1000)}_${word(6)}.mov`)
        : `sh${String(Math.floor(random() * 1000)).padStart(3, "0")}_${word(6)}_v${Math.floor(random() * 100)}.${
          word(3)
        }${Math.floor(random() * 100)}.nk`,
    );
  }
  // Strays land between sequences at random, as in a real folder listing.
  const total = sequences.length + strayNames.length;
  let sequenceAt = 0;
  let strayAt = 0;
  while (sequenceAt + strayAt < total) {
    const takeStray = strayAt < strayNames.length &&
      (sequenceAt === sequences.length || random() < strayNames.length / total);
    if (takeStray) names.push(strayNames[strayAt++]!);
    else names.push(...sequences[sequenceAt++]!);
  }
  return names;
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      count: { type: "string", default: "10000" },
      runs: { type: "string", default: "1" },
      seed: { type: "string", default: "1" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(
      "Usage: deno task names [--count N] [--runs 1|3] [--seed N] [--out FILE]\n" +
        "Writes a realistic list of file names (one per line) for sequence-detection benchmarks.",
    );
  } else {
    const runs = Number(values.runs);
    if (runs !== 1 && runs !== 3) throw new RangeError(`--runs must be 1 or 3, got '${values.runs}'`);
    const text = generateNames({ count: Number(values.count), runs, seed: Number(values.seed) }).join("\n") + "\n";
    if (values.out) writeFileSync(values.out, text);
    else console.log(text.trimEnd());
  }
}

import { relative } from "node:path";
import ts from "typescript";
import type { ApiSymbol } from "./package_readme.ts";

/** An export of the entry, with the source file it is declared in (relative to the root, `/`-separated). */
export interface LocatedSymbol extends ApiSymbol {
  /** E.g. `src/sequence/assemble.ts`. */
  source: string;
}

/** Every export of `entry` in the program, in the order the entry exports them, with kind and JSDoc. */
export function apiSymbols(program: ts.Program, root: string, entry: string): LocatedSymbol[] {
  const checker = program.getTypeChecker();
  const file = program.getSourceFiles().find((source) => relative(root, source.fileName) === entry);
  const moduleSymbol = file && checker.getSymbolAtLocation(file);
  if (moduleSymbol === undefined) throw new TypeError(`Cannot list the exports of '${entry}': it is not a module`);
  return checker.getExportsOfModule(moduleSymbol).map((exported) => {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const declaration = symbol.declarations?.[0];
    return {
      name: exported.name,
      kind: kindOf(symbol),
      doc: ts.displayPartsToString(symbol.getDocumentationComment(checker)),
      source: declaration ? relative(root, declaration.getSourceFile().fileName).replaceAll("\\", "/") : entry,
    };
  });
}

function kindOf(symbol: ts.Symbol): string {
  const flags = symbol.flags;
  if (flags & ts.SymbolFlags.Class) return "class";
  if (flags & ts.SymbolFlags.Function) return "function";
  if (flags & ts.SymbolFlags.Variable) return "constant";
  if (flags & ts.SymbolFlags.Interface) return "interface";
  if (flags & ts.SymbolFlags.TypeAlias) return "type";
  return "export";
}

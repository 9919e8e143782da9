import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import ts from "typescript";
import { jsSpecifier } from "./js_specifier.ts";

/** The compiler options of the declaration pass: `deno.json`'s strictness, Node 20's library, Node's resolution. */
export function declarationCompilerOptions(root: string): ts.CompilerOptions {
  return {
    declaration: true,
    emitDeclarationOnly: true,
    allowImportingTsExtensions: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts"],
    types: ["node"],
    strict: true,
    noUncheckedIndexedAccess: true,
    noImplicitOverride: true,
    useUnknownInCatchVariables: true,
    noImplicitReturns: true,
    noFallthroughCasesInSwitch: true,
    skipLibCheck: true,
    rootDir: root,
    outDir: join(root, "dist", ".declarations"),
  };
}

/**
 * Type-checks `entry` and everything it imports (as Node 20 code: the ES2023 library and `@types/node`) and
 * creates the program the declarations and the README's tables come from. A type error stops the build, listed
 * with file and line.
 */
export function declarationProgram(root: string, entry: string): ts.Program {
  const program = ts.createProgram({ rootNames: [join(root, entry)], options: declarationCompilerOptions(root) });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) {
    const text = ts.formatDiagnostics(diagnostics, {
      getCanonicalFileName: (name) => name,
      getCurrentDirectory: () => root,
      getNewLine: () => "\n",
    });
    throw new TypeError(`Cannot emit the declarations of '${entry}': ${diagnostics.length} type errors\n${text}`);
  }
  return program;
}

/**
 * Emits the `.d.ts` tree (JSDoc kept, relative imports pointing at `.js`) into each of `outDirs`, and returns the
 * emitted paths relative to an output folder.
 */
export function emitDeclarations(program: ts.Program, outDirs: readonly string[]): string[] {
  const virtualOut = program.getCompilerOptions().outDir!;
  const written: string[] = [];
  const result = program.emit(
    undefined,
    (fileName, text) => {
      const path = relative(virtualOut, fileName);
      written.push(path);
      for (const outDir of outDirs) {
        mkdirSync(dirname(join(outDir, path)), { recursive: true });
        writeFileSync(join(outDir, path), text);
      }
    },
    undefined,
    true,
    { afterDeclarations: [rewriteSpecifiers] },
  );
  if (result.diagnostics.length > 0) {
    const messages = result.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    throw new TypeError(`Cannot emit the declarations: ${messages.join("; ")}`);
  }
  return written.sort();
}

/** Points `import`/`export … from "./x.ts"` and `import("./x.ts")` types at `./x.js`. */
const rewriteSpecifiers: ts.TransformerFactory<ts.SourceFile | ts.Bundle> = (context) => {
  const { factory } = context;
  const literal = (node: ts.Expression | undefined) =>
    node !== undefined && ts.isStringLiteral(node) && jsSpecifier(node.text) !== node.text
      ? factory.createStringLiteral(jsSpecifier(node.text))
      : undefined;
  const visit = (node: ts.Node): ts.Node => {
    if (ts.isImportDeclaration(node)) {
      const specifier = literal(node.moduleSpecifier);
      if (specifier) {
        return factory.updateImportDeclaration(node, node.modifiers, node.importClause, specifier, node.attributes);
      }
    } else if (ts.isExportDeclaration(node)) {
      const specifier = literal(node.moduleSpecifier);
      if (specifier) {
        return factory.updateExportDeclaration(
          node,
          node.modifiers,
          node.isTypeOnly,
          node.exportClause,
          specifier,
          node.attributes,
        );
      }
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const specifier = literal(node.argument.literal as ts.Expression);
      if (specifier) {
        return factory.updateImportTypeNode(
          node,
          factory.updateLiteralTypeNode(node.argument, specifier),
          node.attributes,
          node.qualifier,
          node.typeArguments?.map((type) => ts.visitNode(type, visit, ts.isTypeNode)!),
          node.isTypeOf,
        );
      }
    }
    return ts.visitEachChild(node, visit, context);
  };
  return (file) => ts.isSourceFile(file) ? ts.visitEachChild(file, visit, context) : file;
};

// TSDoc on every export of the public entry points (package.json `exports`): each exported
// name, and each public member of an exported class, carries a doc comment.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Source file of each entry point: build/src/X.js → src/X.ts. */
function entrySources(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { default: string }>;
  };
  const out: Record<string, string> = {};
  for (const [sub, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    out[sub] = join(ROOT, target.default.replace(/^\.\/build\//, '').replace(/\.js$/, '.ts'));
  }
  return out;
}

function undocumented(): string[] {
  const entries = entrySources();
  const program = ts.createProgram(Object.values(entries), {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const missing: string[] = [];
  const documented = (s: ts.Symbol): boolean =>
    s.getDocumentationComment(checker).length > 0 || s.getJsDocTags(checker).length > 0;
  for (const [sub, file] of Object.entries(entries)) {
    const sf = program.getSourceFile(file);
    const mod = sf && checker.getSymbolAtLocation(sf);
    assert.ok(mod, `${file} is a module`);
    for (const exp of checker.getExportsOfModule(mod)) {
      const target = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
      const where = `nvmemu${sub.slice(1)}: ${exp.name}`;
      if (!documented(exp) && !documented(target)) missing.push(where);
      // Public members of exported classes.
      if (target.flags & ts.SymbolFlags.Class) {
        const type = checker.getDeclaredTypeOfSymbol(target);
        for (const m of type.getProperties()) {
          const decl = m.valueDeclaration ?? m.declarations?.[0];
          if (decl === undefined || !decl.getSourceFile().fileName.startsWith(join(ROOT, 'src')))
            continue;
          const mods = ts.getCombinedModifierFlags(decl);
          if (mods & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
          if (m.name.startsWith('#') || m.name.startsWith('__')) continue;
          if (!documented(m)) missing.push(`${where}.${m.name}`);
        }
      }
    }
  }
  return missing;
}

describe('TSDoc', () => {
  it('every export of the public entry points is documented', () => {
    const missing = undocumented();
    assert.equal(missing.length, 0, `undocumented exports:\n${missing.join('\n')}`);
  });
});

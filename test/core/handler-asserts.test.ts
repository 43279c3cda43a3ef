// Every message and timer handler of every role asserts what it relies on:
// at least two assertions in its own body (a precondition it takes from the
// state or the message, and what it leaves behind). A handler is a function
// named on<Something> in a role's file of the core. Assertions in helpers a
// handler calls do not count for it: each handler states its own.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const coreDir = join(import.meta.dirname, '..', '..', 'src', 'core');
const roleFiles = ['acceptor.ts', 'learner.ts', 'proposer.ts', 'multipaxos/acceptor.ts', 'multipaxos/learner.ts', 'multipaxos/proposer.ts'];

/** The handlers defined in `source`, each with the number of assert( calls in its body. */
function handlerAsserts(source: string): Map<string, number> {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const found = new Map<string, number>();
  for (const m of code.matchAll(/\bfunction\s+(on[A-Z]\w*)\s*\(/g)) {
    // The body starts at the first `{` after the parameter list closes; find its matching `}`.
    let i = (m.index as number) + m[0].length;
    for (let depth = 1; depth > 0; i++) {
      if (code[i] === '(') depth++;
      else if (code[i] === ')') depth--;
    }
    const open = code.indexOf('{', code.indexOf(')', i - 1));
    let depth = 0;
    let end = open;
    for (; end < code.length; end++) {
      if (code[end] === '{') depth++;
      else if (code[end] === '}' && --depth === 0) break;
    }
    const body = code.slice(open, end + 1);
    found.set(m[1] as string, (body.match(/\bassert\(/g) ?? []).length);
  }
  return found;
}

describe('every handler asserts at least twice', () => {
  for (const file of roleFiles) {
    const handlers = handlerAsserts(readFileSync(join(coreDir, file), 'utf8'));
    it(`${file} has handlers to check`, () => {
      expect(handlers.size).toBeGreaterThan(1);
    });
    for (const [name, count] of handlers) {
      it(`${file}: ${name}`, () => {
        expect(count, `${name} has ${count} assert(s)`).toBeGreaterThanOrEqual(2);
      });
    }
  }

  it('control: a handler with one assert is counted as one, nested braces and all', () => {
    const source = `
      function onPing(s: S, m: { a: { b: number } }): void {
        // assert(in a comment) does not count
        if (m.a.b > 0) { assert(s.ok, 'x'); }
        const f = () => { return { x: 1 }; };
      }
      function helper(s: S): void { assert(s.ok, 'y'); assert(s.ok, 'z'); }
      function onPong(s: S): void { assert(s.a, 'a'); assert(s.b, 'b'); }
    `;
    const found = handlerAsserts(source);
    expect(found.get('onPing')).toBe(1);
    expect(found.get('onPong')).toBe(2);
    expect(found.has('helper')).toBe(false);
  });
});

// Tests that need something npm does not install (promtool; the native ACL addon, which needs a
// compiler; later etcd, a browser). Where it is missing, a local run prints one skip line and
// counts the file's tests as skipped (scripts/test.js closes with "N passed, M failed, K
// skipped"); with CI set (.ci/run exports CI=1) they are required: each one fails, saying what
// is missing.
import { accessSync, constants } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** True when CI is set (any value but empty, 0 or false). */
export function ciRequired(env = process.env) {
  return env.CI !== undefined && !/^(|0|false)$/i.test(env.CI.trim());
}

/** The path of an executable named `name` on PATH, or undefined. */
export function onPath(name, env = process.env) {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** The skip line printed when a tool is missing (tests look for it). */
export function skipLine(file, what) {
  return `skip: ${file}: ${what}`;
}

/**
 * The uvu `test` (or suite) of a file whose tests need `tool`. When `found` (default: `tool` is
 * on PATH), `test` itself. Otherwise a stand-in for it: locally each test registered through it
 * is skipped and one line says why and how to get the tool; under CI each one fails with that
 * reason. Hooks and `.run()` are the suite's own.
 *
 *   const test = needTool(suite('promtool'), 'promtool', 'Debian package prometheus', import.meta.url);
 */
export function needTool(test, tool, install, fileUrl, found = onPath(tool) !== undefined) {
  if (found) return test;
  const file = relative(ROOT, fileURLToPath(fileUrl));
  const why = `${tool} is missing (${install})`;
  let said = false;
  const register = ciRequired()
    ? (name) => test(name, () => { throw new Error(`${why}; required because CI is set`); })
    : (name) => {
      if (!said) {
        said = true;
        process.stdout.write(`\n${skipLine(file, `${why}; its tests are skipped (required when CI is set)`)}\n`);
      }
      test.skip(name);
    };
  return new Proxy(test, { apply: (_target, _this, [name]) => register(name) });
}

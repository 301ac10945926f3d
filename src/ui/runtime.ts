import type { Output } from './output.js';

/** What a bug report needs besides taboot's version (`taboot --version --debug`). */
export function renderRuntime(output: Output): void {
  output.stdout.write(`node ${process.version}\nplatform ${process.platform}-${process.arch}\n`);
}

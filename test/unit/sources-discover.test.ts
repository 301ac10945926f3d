import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { discoverFiles } from '../../src/sources/discover.js';
import { sourceNameFor } from '../../src/sources/discovered-file.js';
import { defaultInclude } from '../../src/sources/registry.js';

const fixtures = path.resolve(import.meta.dirname, '../../fixtures/sources/docs');

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'taboot-discover-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function touch(relative: string, content = 'text\n'): Promise<void> {
  const file = path.join(dir, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

describe('discoverFiles', () => {
  it('lists matching files of a folder sorted by relative path, with root and size', async () => {
    const files = await discoverFiles([fixtures]);
    expect(files.map((file) => file.relative)).toEqual(['data/records.jsonl', 'guide.md', 'notes.txt']);
    for (const file of files) {
      expect(file.root).toBe(fixtures);
      expect(file.absolute).toBe(path.join(fixtures, file.relative));
      expect(file.size).toBeGreaterThan(0);
    }
  });

  it('orders by bytes, not locale: upper case before lower case, `.` before `/`', async () => {
    for (const name of ['b.md', 'B.md', 'a/z.md', 'a.md', 'ab.md', 'é.md']) await touch(name);
    const files = await discoverFiles([dir]);
    expect(files.map((file) => file.relative)).toEqual(['B.md', 'a.md', 'a/z.md', 'ab.md', 'b.md', 'é.md']);
  });

  it('skips node_modules, .git, dot-folders and dotfiles', async () => {
    await touch('keep.md');
    await touch('node_modules/pkg/readme.md');
    await touch('.git/description.md');
    await touch('.cache/page.md');
    await touch('sub/.hidden/page.md');
    await touch('.draft.md');
    const files = await discoverFiles([dir]);
    expect(files.map((file) => file.relative)).toEqual(['keep.md']);
  });

  it('applies include and exclude globs to the relative path', async () => {
    await touch('docs/a.md');
    await touch('docs/drafts/b.md');
    await touch('docs/c.rst');
    const files = await discoverFiles([dir], { include: ['**/*.md', '**/*.rst'], exclude: ['**/drafts/**'] });
    expect(files.map((file) => file.relative)).toEqual(['docs/a.md', 'docs/c.rst']);
  });

  it('takes a file argument as-is even when it matches no include glob; its root is its folder', async () => {
    await touch('notes/readme.rst');
    const file = path.join(dir, 'notes/readme.rst');
    const files = await discoverFiles([file]);
    expect(files).toEqual([
      { root: path.join(dir, 'notes'), absolute: file, relative: 'readme.rst', size: 5 },
    ]);
  });

  it('follows a symlinked file inside the root, listing the real file once', async () => {
    await touch('v2.md');
    await touch('other.md');
    await symlink(path.join(dir, 'other.md'), path.join(dir, 'latest.md'));
    await symlink(path.join(dir, 'docs-real'), path.join(dir, 'alias'));
    await touch('docs-real/only-here.md');
    const files = await discoverFiles([path.join(dir)]);
    // latest.md -> other.md is the same file as other.md; alias/ -> docs-real/ likewise.
    expect(files.map((file) => file.relative)).toEqual(['docs-real/only-here.md', 'other.md', 'v2.md']);
  });

  it('lists a link inside the root whose target is not otherwise included', async () => {
    await touch('.store/kept.md');
    await symlink(path.join(dir, '.store/kept.md'), path.join(dir, 'kept.md'));
    const files = await discoverFiles([dir]);
    expect(files.map((file) => file.relative)).toEqual(['kept.md']);
  });

  it('never follows a symlink out of the root, nor a broken one, nor a loop, and lists each as skipped', async () => {
    const outside = await mkdtemp(path.join(tmpdir(), 'taboot-outside-'));
    try {
      await writeFile(path.join(outside, 'secret.md'), 'outside\n');
      await touch('root/inside.md');
      await symlink(outside, path.join(dir, 'root/out-dir'));
      await symlink(path.join(outside, 'secret.md'), path.join(dir, 'root/out-file.md'));
      await symlink(path.join(dir, 'root/missing.md'), path.join(dir, 'root/broken.md'));
      await symlink(path.join(dir, 'root/self.md'), path.join(dir, 'root/self.md'));
      await symlink(path.join(dir, 'root'), path.join(dir, 'root/loop'));
      await symlink(path.join(dir, 'root/missing'), path.join(dir, 'root/no-extension'));
      const files = await discoverFiles([path.join(dir, 'root')]);
      expect(files.map((file) => [file.relative, file.skipReason])).toEqual([
        ['broken.md', 'broken symlink; skipped'],
        ['inside.md', undefined],
        ['out-dir', 'symlink to a folder outside the ingest root; not followed'],
        ['out-file.md', 'symlink to a file outside the ingest root; not followed'],
        ['self.md', 'symlink loop; skipped'],
      ]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('lists a FIFO that matches the globs as skipped, without opening it', async () => {
    await touch('a.md');
    execFileSync('mkfifo', [path.join(dir, 'pipe.md'), path.join(dir, 'pipe.bin')]);
    const files = await discoverFiles([dir]);
    expect(files.map((file) => [file.relative, file.skipReason])).toEqual([
      ['a.md', undefined],
      ['pipe.md', 'not a regular file (FIFO); skipped'],
    ]);
  });

  it('walks a folder named like a file, and never enters a folder an exclude glob names', async () => {
    await touch('x.md/inner.md');
    await touch('drafts/wip.md');
    await touch('keep/drafts/old.md');
    await touch('keep/page.md');
    await symlink(path.join(dir, 'keep'), path.join(dir, 'alias'));
    const files = await discoverFiles([dir], { exclude: ['drafts', '**/drafts/**', 'alias'] });
    expect(files.map((file) => file.relative)).toEqual(['keep/page.md', 'x.md/inner.md']);
  });

  it('keeps argument order and lists a file named twice once', async () => {
    await touch('b/two.md');
    await touch('a/one.md');
    const files = await discoverFiles([path.join(dir, 'b'), path.join(dir, 'a'), path.join(dir, 'b/two.md')]);
    expect(files.map((file) => file.absolute)).toEqual([
      path.join(dir, 'b/two.md'),
      path.join(dir, 'a/one.md'),
    ]);
  });

  it('throws a UsageError naming a path that does not exist', async () => {
    const missing = path.join(dir, 'nope');
    await expect(discoverFiles([missing])).rejects.toThrow(UsageError);
    await expect(discoverFiles([missing])).rejects.toThrow(`path does not exist: ${missing}`);
  });

  it('throws a UsageError when a folder holds no matching file', async () => {
    await touch('image.png');
    const error = await discoverFiles([dir]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(`no files matching ${defaultInclude.join(', ')} under ${dir}`);
    expect((error as UsageError).exitCode).toBe(2);
  });

  it('finds every Markdown file of the Prometheus corpus', async () => {
    const corpus = path.resolve(import.meta.dirname, '../../fixtures/prometheus-docs');
    const files = await discoverFiles([corpus]);
    expect(files.length).toBeGreaterThan(100);
    expect(files.every((file) => file.relative.endsWith('.md'))).toBe(true);
    expect(files.map((file) => file.relative)).toContain('docs/specs/native_histograms.md');
  });
});

describe('sourceNameFor', () => {
  it('names a root by its folder', () => {
    expect(sourceNameFor('/srv/docs')).toBe('docs');
    expect(sourceNameFor('/srv/docs/')).toBe('docs');
    expect(sourceNameFor('/')).toBe('/');
  });
});

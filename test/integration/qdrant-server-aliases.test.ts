import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  idOf,
  payload,
  plain,
  point,
  type QdrantTarget,
  qdrantTarget,
  rejection,
} from '../support/qdrant-server/client.js';

/**
 * Collection metadata and aliases (blue/green re-index) with the semantics and messages of
 * Qdrant 1.19. Runs against the test server, or a real Qdrant with TABOOT_TEST_QDRANT_URL.
 */
let q: QdrantTarget;
beforeAll(async () => {
  q = await qdrantTarget();
});
afterAll(async () => {
  await q.close();
});

const alias = (action: 'createAlias' | 'renameAlias' | 'deleteAlias', value: Record<string, string>) =>
  ({ action: { case: action, value } }) as never;

describe('collection metadata', () => {
  it('stores metadata on create and merges updates into it, a null value removing its key', async () => {
    const name = q.name('meta');
    await q.create(name, 2, { metadata: payload({ model: 'qwen3', dims: 1024, chunker: 'v1' }) });
    expect(plain((await q.info(name)).config?.metadata)).toEqual({
      model: 'qwen3',
      dims: 1024,
      chunker: 'v1',
    });
    await q.collections.update({
      collectionName: name,
      metadata: payload({ chunker: 'v2', dims: null, lock: { holder: 'cron', since: 1700000000 } }),
    });
    expect(plain((await q.info(name)).config?.metadata)).toEqual({
      model: 'qwen3',
      chunker: 'v2',
      lock: { holder: 'cron', since: 1700000000 },
    });
  });

  it('reports no metadata for a collection created without it', async () => {
    const name = q.name('nometa');
    await q.create(name, 2);
    expect((await q.info(name)).config?.metadata).toEqual({});
  });
});

describe('aliases', () => {
  it('switches an alias from blue to green in one request, and reads through it reach the collection', async () => {
    const [blue, green, docs] = [q.name('blue'), q.name('green'), q.name('docs')];
    await q.create(blue, 2);
    await q.create(green, 2);
    await q.points.upsert({
      collectionName: green,
      wait: true,
      points: [point(1, [1, 0]), point(2, [0, 1])],
    });
    await q.collections.updateAliases({
      actions: [alias('createAlias', { collectionName: blue, aliasName: docs })],
    });
    expect((await q.points.count({ collectionName: docs })).result?.count).toBe(0n);
    await q.collections.updateAliases({
      actions: [
        alias('deleteAlias', { aliasName: docs }),
        alias('createAlias', { collectionName: green, aliasName: docs }),
      ],
    });
    expect((await q.points.count({ collectionName: docs })).result?.count).toBe(2n);
    expect((await q.info(docs)).pointsCount).toBe(2n);
    expect((await q.collections.collectionExists({ collectionName: docs })).result?.exists).toBe(true);
    const scrolled = await q.points.scroll({ collectionName: docs });
    expect(scrolled.result.map(idOf)).toEqual([1n, 2n]);
    await q.points.upsert({ collectionName: docs, wait: true, points: [point(3, [1, 1])] });
    expect((await q.info(green)).pointsCount).toBe(3n);
    await q.collections.update({ collectionName: docs, metadata: payload({ via: 'alias' }) });
    expect(plain((await q.info(green)).config?.metadata)).toEqual({ via: 'alias' });
    expect((await q.collections.listCollectionAliases({ collectionName: green })).aliases).toEqual([
      expect.objectContaining({ aliasName: docs, collectionName: green }),
    ]);
    expect((await q.collections.listCollectionAliases({ collectionName: blue })).aliases).toEqual([]);
    const all = (await q.collections.listAliases({})).aliases.filter((a) => a.aliasName === docs);
    expect(all).toEqual([expect.objectContaining({ aliasName: docs, collectionName: green })]);
  });

  it('re-points an existing alias on create, renames onto another alias, and deletes a missing one quietly', async () => {
    const [a, b, first, second] = [q.name('a'), q.name('b'), q.name('first'), q.name('second')];
    await q.create(a, 2);
    await q.create(b, 2);
    await q.collections.updateAliases({
      actions: [
        alias('createAlias', { collectionName: a, aliasName: first }),
        alias('createAlias', { collectionName: b, aliasName: first }),
        alias('createAlias', { collectionName: a, aliasName: second }),
      ],
    });
    expect(
      (await q.collections.listCollectionAliases({ collectionName: b })).aliases.map((x) => x.aliasName),
    ).toEqual([first]);
    await q.collections.updateAliases({
      actions: [alias('renameAlias', { oldAliasName: first, newAliasName: second })],
    });
    const mine = (await q.collections.listAliases({})).aliases.filter((x) =>
      [first, second].includes(x.aliasName),
    );
    expect(mine.map((x) => [x.aliasName, x.collectionName])).toEqual([[second, b]]);
    const deleted = await q.collections.updateAliases({
      actions: [alias('deleteAlias', { aliasName: q.name('never_created') })],
    });
    expect(deleted.result).toBe(true);
  });

  it("answers Qdrant's errors: missing collection, alias named like a collection, rename of a missing alias", async () => {
    const [a, missing] = [q.name('target'), q.name('missing')];
    await q.create(a, 2);
    const noCollection = await rejection(
      q.collections.updateAliases({
        actions: [alias('createAlias', { collectionName: missing, aliasName: q.name('x') })],
      }),
    );
    expect(noCollection.code).toBe(Code.NotFound);
    expect(noCollection.rawMessage).toBe(`Not found: Collection \`${missing}\` doesn't exist!`);
    const clash = await rejection(
      q.collections.updateAliases({ actions: [alias('createAlias', { collectionName: a, aliasName: a })] }),
    );
    expect(clash.code).toBe(Code.AlreadyExists);
    expect(clash.rawMessage).toBe(`Wrong input: Collection \`${a}\` already exists!`);
    const rename = await rejection(
      q.collections.updateAliases({
        actions: [alias('renameAlias', { oldAliasName: missing, newAliasName: 'y' })],
      }),
    );
    expect(rename.code).toBe(Code.NotFound);
    expect(rename.rawMessage).toBe(`Not found: Alias ${missing} does not exists!`);
  });

  it('keeps the actions before a failing one: a list of alias changes is not a transaction', async () => {
    const [a, kept, never] = [q.name('target'), q.name('kept'), q.name('never')];
    await q.create(a, 2);
    await rejection(
      q.collections.updateAliases({
        actions: [
          alias('createAlias', { collectionName: a, aliasName: kept }),
          alias('createAlias', { collectionName: q.name('missing'), aliasName: never }),
        ],
      }),
    );
    const names = (await q.collections.listAliases({})).aliases.map((x) => x.aliasName);
    expect(names).toContain(kept);
    expect(names).not.toContain(never);
  });

  it('refuses a collection named like an alias, deletes only by the real name, and drops aliases with their collection', async () => {
    const [a, docs] = [q.name('target'), q.name('docs')];
    await q.create(a, 2);
    await q.collections.updateAliases({
      actions: [alias('createAlias', { collectionName: a, aliasName: docs })],
    });
    const taken = await rejection(q.create(docs, 2));
    expect(taken.code).toBe(Code.InvalidArgument);
    expect(taken.rawMessage).toBe(
      `Wrong input: Can't create collection with name ${docs}. Alias with the same name already exists`,
    );
    expect((await q.collections.delete({ collectionName: docs })).result).toBe(false);
    expect((await q.collections.collectionExists({ collectionName: a })).result?.exists).toBe(true);
    expect((await q.collections.delete({ collectionName: a })).result).toBe(true);
    expect((await q.collections.listAliases({})).aliases.map((x) => x.aliasName)).not.toContain(docs);
    const gone = await rejection(q.points.count({ collectionName: docs }));
    expect(gone.code).toBe(Code.NotFound);
  });
});

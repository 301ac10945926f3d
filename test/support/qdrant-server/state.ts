import type { AliasOperations, CreateCollection } from '@qdrant/js-client-grpc';
import { type CollectionEnvironment, StoredCollection } from './collection.js';
import { qdrantErrors } from './errors.js';

/** Everything the server holds: collections, aliases and the knobs tests turn. */
export class ServerState {
  readonly collections = new Map<string, StoredCollection>();
  /** Alias name to collection name. */
  readonly aliases = new Map<string, string>();
  /** How long an optimization keeps a collection yellow (`indexed_vectors_count` lagging), in ms. */
  indexingDelayMs: number;
  /** How long a `wait=false` write stays invisible; undefined: applied before it is answered. */
  applyDelayMs: number | undefined;
  /** Writes that failed after they were acknowledged, oldest first. */
  readonly lateErrors: Array<{ collection: string; error: unknown }> = [];
  private readonly env: CollectionEnvironment = {
    indexingDelayMs: () => this.indexingDelayMs,
    applyDelayMs: () => this.applyDelayMs,
    lateError: (collection, error) => this.lateErrors.push({ collection, error }),
  };

  constructor(options: { indexingDelayMs?: number; applyDelayMs?: number }) {
    this.indexingDelayMs = options.indexingDelayMs ?? 0;
    this.applyDelayMs = options.applyDelayMs;
  }

  /**
   * The collection a name means: an alias resolves to its collection first, as in Qdrant's
   * `resolve_name`. Every points call and Collections Get/Update/Exists go through here; Delete
   * does not (deleting by an alias name answers `false`).
   */
  get(name: string): StoredCollection {
    const collection = this.collections.get(this.aliases.get(name) ?? name);
    if (!collection) throw qdrantErrors.collectionNotFound(name);
    return collection;
  }

  has(name: string): boolean {
    return this.collections.has(this.aliases.get(name) ?? name);
  }

  create(request: CreateCollection): void {
    const name = request.collectionName;
    if (this.collections.has(name)) throw qdrantErrors.collectionExists(name);
    if (this.aliases.has(name)) {
      throw qdrantErrors.badInput(
        `Can't create collection with name ${name}. Alias with the same name already exists`,
      );
    }
    this.collections.set(name, new StoredCollection(request, this.env));
  }

  /** Deletes a collection (by its own name only) and every alias of it. */
  delete(name: string): boolean {
    const collection = this.collections.get(name);
    if (!collection) return false;
    collection.queue.close();
    this.collections.delete(name);
    for (const [alias, target] of this.aliases) if (target === name) this.aliases.delete(alias);
    return true;
  }

  /**
   * Qdrant's `update_aliases`: actions in order under one lock, so no reader sees a half-switched
   * state. It is not a transaction: an action that fails stops the list, and the ones before it
   * stay applied (Qdrant 1.19 saves each one as it goes).
   */
  updateAliases(actions: readonly AliasOperations[]): void {
    for (const { action } of actions) {
      switch (action.case) {
        case 'createAlias': {
          const { collectionName, aliasName } = action.value;
          if (!this.collections.has(collectionName)) throw qdrantErrors.collectionNotFound(collectionName);
          if (this.collections.has(aliasName)) throw qdrantErrors.collectionExists(aliasName);
          // An existing alias is pointed at the new collection, without an error.
          this.aliases.set(aliasName, collectionName);
          break;
        }
        case 'renameAlias': {
          const { oldAliasName, newAliasName } = action.value;
          const target = this.aliases.get(oldAliasName);
          if (target === undefined) {
            throw qdrantErrors.notFound(`Alias ${oldAliasName} does not exists!`);
          }
          this.aliases.delete(oldAliasName);
          this.aliases.set(newAliasName, target);
          break;
        }
        case 'deleteAlias':
          // Deleting an alias that does not exist succeeds.
          this.aliases.delete(action.value.aliasName);
          break;
        default:
          throw qdrantErrors.invalid('Malformed AliasOperation type');
      }
    }
  }

  /** Aliases of one collection (none for a name that is not a collection), or of all. */
  aliasesOf(collection?: string): Array<{ aliasName: string; collectionName: string }> {
    return [...this.aliases]
      .filter(([, target]) => collection === undefined || target === collection)
      .map(([aliasName, collectionName]) => ({ aliasName, collectionName }));
  }
}

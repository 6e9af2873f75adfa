/** Items per block: big enough that the block table stays short, small enough to copy. */
const SHIFT = 10;
const SIZE = 1 << SHIFT;
const MASK = SIZE - 1;

/** A shared, read-only state of a BlockList (what a mark keeps). */
export interface FrozenBlocks<T> {
  readonly blocks: readonly (readonly T[])[];
  readonly length: number;
}

/**
 * An append-mostly list with cheap copies. Items live in fixed-size blocks; `freeze()`
 * shares every block with the returned state (O(length / 1024)) and the list then copies
 * a block only on its first write afterwards. That keeps the snapshots of a long run
 * linear in memory instead of quadratic.
 *
 * `toArray()` materialises a plain array (what a RunView carries) and caches it until
 * the next write; a list made `fromArray` keeps that array and only splits it into blocks
 * on its first write, so a change that does not touch the items costs nothing.
 */
export class BlockList<T> {
  private blocks: T[][] | null;
  private array: readonly T[] | null;
  /** blockEpoch[b] === epoch means block b is ours to write; anything else is shared. */
  private blockEpoch: number[] = [];
  private epoch = 0;
  private size: number;

  private constructor(blocks: T[][] | null, array: readonly T[] | null, size: number) {
    this.blocks = blocks;
    this.array = array;
    this.size = size;
  }

  static empty<T>(): BlockList<T> {
    return new BlockList<T>([], null, 0);
  }

  /** Adopts a plain array without copying; it is never written to. */
  static fromArray<T>(array: readonly T[]): BlockList<T> {
    return new BlockList<T>(null, array, array.length);
  }

  /** Continues from a frozen state; every block stays shared until written. */
  static fromFrozen<T>(frozen: FrozenBlocks<T>): BlockList<T> {
    return new BlockList<T>(frozen.blocks.slice() as T[][], null, frozen.length);
  }

  get length(): number {
    return this.size;
  }

  get(index: number): T | undefined {
    if (index < 0 || index >= this.size) return undefined;
    if (this.blocks === null) return this.array![index];
    return this.blocks[index >> SHIFT]![index & MASK];
  }

  last(): T | undefined {
    return this.get(this.size - 1);
  }

  set(index: number, value: T): void {
    if (index < 0 || index >= this.size) throw new RangeError(`index ${index} out of 0..${this.size - 1}`);
    const block = this.writable(index >> SHIFT);
    block[index & MASK] = value;
    this.array = null;
  }

  push(value: T): void {
    const blocks = this.ownBlocks();
    const b = this.size >> SHIFT;
    if (b === blocks.length) {
      blocks.push([value]);
      this.blockEpoch[b] = this.epoch;
    } else {
      this.writable(b).push(value);
    }
    this.size++;
    this.array = null;
  }

  /** Shares the current contents; later writes copy the blocks they touch. */
  freeze(): FrozenBlocks<T> {
    const blocks = this.ownBlocks();
    this.epoch++;
    return { blocks: blocks.slice(), length: this.size };
  }

  /** The contents as a plain array the list will never write to again. */
  toArray(): readonly T[] {
    if (this.array !== null) return this.array;
    const out = new Array<T>(this.size);
    let k = 0;
    for (const block of this.blocks!) {
      for (let i = 0; i < block.length; i++) out[k++] = block[i]!;
    }
    this.array = out;
    return out;
  }

  private ownBlocks(): T[][] {
    if (this.blocks !== null) return this.blocks;
    // First write after fromArray: split into blocks (copies, so ours to write).
    const source = this.array!;
    const blocks: T[][] = [];
    for (let start = 0; start < source.length; start += SIZE) {
      this.blockEpoch[blocks.length] = this.epoch;
      blocks.push(source.slice(start, start + SIZE));
    }
    this.blocks = blocks;
    return blocks;
  }

  private writable(b: number): T[] {
    const blocks = this.ownBlocks();
    if (this.blockEpoch[b] !== this.epoch) {
      blocks[b] = blocks[b]!.slice();
      this.blockEpoch[b] = this.epoch;
    }
    return blocks[b]!;
  }
}

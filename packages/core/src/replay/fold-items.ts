import type { ItemOfKind, TranscriptItem } from '../contract/index.js';
import { BlockList, type FrozenBlocks } from './block-list.js';
import { Slots, type SlotsBase } from './slots.js';
import { flatten, keyOf, type KeyedKind } from './view-items.js';

/** A frozen copy of a fold's transcript, as a mark keeps it: the blocks and the slot maps, shared. */
export interface FrozenItems {
  readonly items: FrozenBlocks<TranscriptItem>;
  readonly slots: Readonly<Record<KeyedKind, SlotsBase>>;
}

/**
 * A fold's transcript: its items in order, and for the kinds later events update in place (tool
 * calls, approvals, commands) the slot of each item by its id. Items are replaced, never edited
 * (see RunViewFold's immutability rule); a slot never changes once assigned.
 */
export class FoldItems {
  private constructor(
    private readonly list: BlockList<TranscriptItem>,
    /** toolCallId, approvalId and terminalId -> the slot of their item. */
    private readonly slots: Record<KeyedKind, Slots>,
  ) {}

  static empty(): FoldItems {
    return new FoldItems(BlockList.empty(), { tool: new Slots(), approval: new Slots(), command: new Slots() });
  }

  /** Continues from a view's items (untouched); each kind's slots are found on first use. */
  static fromArray(items: readonly TranscriptItem[]): FoldItems {
    const scan = (kind: KeyedKind) => () => {
      const slots = new Map<string, number>();
      items.forEach((item, slot) => {
        const key = keyOf(item, kind);
        if (key !== undefined) slots.set(key, slot);
      });
      return slots;
    };
    return new FoldItems(BlockList.fromArray(items), { tool: new Slots(null, scan('tool')), approval: new Slots(null, scan('approval')), command: new Slots(null, scan('command')) });
  }

  static fromFrozen(frozen: FrozenItems): FoldItems {
    const { tool, approval, command } = frozen.slots;
    return new FoldItems(BlockList.fromFrozen(frozen.items), { tool: new Slots(tool), approval: new Slots(approval), command: new Slots(command) });
  }

  get length(): number {
    return this.list.length;
  }

  last(): TranscriptItem | undefined {
    return this.list.last();
  }

  set(slot: number, item: TranscriptItem): void {
    this.list.set(slot, item);
  }

  /** Adds an item at the end: the text item before it grows no more, so its text is made flat (see appended). */
  add(item: TranscriptItem): void {
    const last = this.list.last();
    if (last?.kind === 'message' || last?.kind === 'thought') flatten(last.text);
    this.list.push(item);
  }

  /** Adds an item of a keyed kind at the end, found by `id` from now on; returns its slot. */
  addKeyed<K extends KeyedKind>(kind: K, id: string, item: ItemOfKind<K>): number {
    const slot = this.list.length;
    this.add(item);
    this.slots[kind].set(id, slot);
    return slot;
  }

  /** The item of `kind` with `id`, and its slot. */
  find<K extends KeyedKind>(kind: K, id: string): [number, ItemOfKind<K>] | undefined {
    const slot = this.slots[kind].get(id);
    if (slot === undefined) return undefined;
    const item = this.list.get(slot);
    return item?.kind === kind ? [slot, item as ItemOfKind<K>] : undefined;
  }

  /** Every item so far; the list never writes to the array it returns. */
  toArray(): TranscriptItem[] {
    return this.list.toArray() as TranscriptItem[];
  }

  /** The transcript as it is now, shared with this list (which goes on without writing to it). */
  freeze(): FrozenItems {
    const limit = this.list.length;
    return {
      items: this.list.freeze(),
      slots: { tool: this.slots.tool.bounded(limit), approval: this.slots.approval.bounded(limit), command: this.slots.command.bounded(limit) },
    };
  }
}

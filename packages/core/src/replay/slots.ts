/** A frozen view of another Slots: only slots below `limit` existed at that point. */
export interface SlotsBase {
  readonly slots: Slots;
  readonly limit: number;
}

/**
 * id -> position of its item, for the items that later events update in place (tool calls
 * by toolCallId, approvals by approvalId, commands by terminalId; one map per kind, so ids
 * of different kinds never collide). A slot never changes once assigned, so a mark
 * can share the live map instead of copying it: it keeps the map plus the item count at
 * that point, and a lookup ignores slots at or beyond that count.
 */
export class Slots {
  private own: Map<string, number> | null;

  constructor(
    private readonly base: SlotsBase | null = null,
    /** Builds the map on first use (from a view's items), so views that never see such an event skip the scan. */
    private build: (() => Map<string, number>) | null = null,
  ) {
    this.own = build === null ? new Map() : null;
  }

  get(id: string): number | undefined {
    const hit = this.map().get(id);
    if (hit !== undefined) return hit;
    if (this.base === null) return undefined;
    const inherited = this.base.slots.get(id);
    return inherited !== undefined && inherited < this.base.limit ? inherited : undefined;
  }

  set(id: string, slot: number): void {
    this.map().set(id, slot);
  }

  /** This map as it is now, for a mark holding `limit` items. */
  bounded(limit: number): SlotsBase {
    return { slots: this, limit };
  }

  private map(): Map<string, number> {
    if (this.own === null) {
      this.own = this.build!();
      this.build = null;
    }
    return this.own;
  }
}

import { describe, expect, it } from 'vitest';
import { type AutomaticContainment, findingRecordOf, freeSlots } from '#shared/audit-queries';

const holder = (slot: number, incidentId: string, takenAt: string): AutomaticContainment => ({
  slot,
  incidentId,
  resourceId: `i-${incidentId}`,
  takenAt,
});

describe('the slots an automatic containment tries', () => {
  it('tries the slots never taken before the expired ones, and never a held one', () => {
    const slots = {
      holders: [holder(1, 'held', '2026-04-01T10:30:00.000Z')],
      expired: [
        holder(0, 'old-0', '2026-04-01T08:00:00.000Z'),
        holder(3, 'old-3', '2026-04-01T08:00:00.000Z'),
      ],
    };
    for (const id of ['a', 'b', 'c', 'd', 'e']) {
      const order = freeSlots(slots, 5, id);
      expect(order.map((s) => s.slot).sort()).toEqual([0, 2, 3, 4]);
      // Slots 2 and 4 have no item: no holder's record needs reading before them.
      expect(order.slice(0, 2).map((s) => s.previous)).toEqual([undefined, undefined]);
      expect(
        order
          .slice(2)
          .map((s) => s.previous?.incidentId)
          .sort(),
      ).toEqual(['old-0', 'old-3']);
    }
  });

  it('spreads concurrent incidents over the free slots', () => {
    const none = { holders: [], expired: [] };
    const first = new Set(Array.from({ length: 40 }, (_, i) => freeSlots(none, 5, `incident-${i}`)[0]?.slot));
    expect(first.size).toBeGreaterThan(1);
  });

  it('offers nothing when every slot is held', () => {
    const holders = [0, 1].map((slot) => holder(slot, `h${slot}`, '2026-04-01T10:30:00.000Z'));
    expect(freeSlots({ holders, expired: [] }, 2, 'x')).toEqual([]);
  });
});

describe('a finding as the table returned it', () => {
  it('reads a field of the wrong type as missing, so that it never passes for a claim', () => {
    expect(
      findingRecordOf(
        { incidentId: 7, status: 'taken', claimedAt: ['x'], count: 'many', lastSeen: null, deliveries: 3 },
        'f-1',
      ),
    ).toEqual({
      findingId: 'f-1',
      incidentId: '',
      status: 'routed',
      claimedAt: '',
      count: 0,
      lastSeen: '',
      deliveries: 3,
    });
  });
});

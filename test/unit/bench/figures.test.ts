import { describe, expect, it } from 'vitest';
import { figure, figureTable, meets } from '../../../bench/figures.ts';

describe('bench figures', () => {
  it('computes met from the value and the goal', () => {
    expect(figure({ name: 'a', value: 3, unit: 'rounds', goal: ['<=', 3] }).met).toBe(true);
    expect(figure({ name: 'b', value: 4, unit: 'rounds', goal: ['<=', 3] }).met).toBe(false);
    expect(figure({ name: 'c', value: 0.14, unit: 'ratio', goal: ['>=', 0.15] }).met).toBe(false);
    expect(figure({ name: 'd', value: 0.2, unit: 'ratio', goal: ['>=', 0.15] })).toEqual({
      name: 'd',
      value: 0.2,
      goal: 0.15,
      goalOp: '>=',
      unit: 'ratio',
      met: true,
    });
  });

  it('reports a figure with no value as not measured and not met', () => {
    for (const value of [undefined, null, Number.NaN]) {
      const f = figure({ name: 'cold', value, unit: '%', goal: ['<=', 5] });
      expect(f).toMatchObject({ value: null, met: false, note: 'not measured' });
    }
    expect(meets(null, '>=', 0)).toBe(false);
  });

  it('gives an informational figure no goal and no verdict', () => {
    expect(figure({ name: 'calls', value: 7, unit: 'calls' })).toMatchObject({
      goal: null,
      goalOp: null,
      met: null,
    });
  });

  it('prints each figure beside its goal and counts the goals met', () => {
    const lines = figureTable([
      figure({ name: 'router-rounds', value: 2, unit: 'rounds', goal: ['<=', 3] }),
      figure({ name: 'router-calls', value: 5, unit: 'calls' }),
      figure({ name: 'cold', value: null, unit: '%', goal: ['<=', 5] }),
    ]);
    expect(lines[1]).toMatch(/^router-rounds\s+2\s+<= 3\s+met\s+rounds$/);
    expect(lines[3]).toMatch(/^cold\s+not measured\s+<= 5\s+MISSED\s+% \(not measured\)$/);
    expect(lines.at(-1)).toBe('1 of 2 goals met');
  });
});

import { describe, expect, it } from 'vitest';
import { timestamp } from './timestamp.js';

describe('timestamp', () => {
  it('is local YYYYMMDD-HHMMSS, zero-padded, so folder names sort by time', () => {
    expect(timestamp(new Date(2026, 0, 2, 3, 4, 5))).toBe('20260102-030405');
    expect(timestamp(new Date(2026, 11, 31, 23, 59, 58))).toBe('20261231-235958');
    expect(timestamp(new Date(2026, 0, 2, 3, 4, 5)) < timestamp(new Date(2026, 0, 2, 3, 4, 6))).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { csvCell } from './csv-cell.js';
import { toCsv } from './sweep-table.js';

describe('csvCell', () => {
  it('defuses text a spreadsheet would run as a formula', () => {
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('+1+cmd|calc')).toBe("'+1+cmd|calc");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tx')).toBe("'\tx");
    expect(csvCell('\rx')).toBe(`"'\rx"`);
  });

  it('leaves numbers, and text that is exactly a number, as numbers', () => {
    expect(csvCell(-0.5)).toBe('-0.5');
    expect(csvCell(1e-7)).toBe('1e-7');
    expect(csvCell(-Infinity)).toBe('-Infinity');
    expect(csvCell('-0.5')).toBe('-0.5');
    expect(csvCell('+3e2')).toBe('+3e2');
    expect(csvCell('ddpm')).toBe('ddpm');
    expect(csvCell(undefined)).toBe('');
  });

  it('sweep.csv rows go through it', () => {
    expect(toCsv([{ 'sampler.use': '=cmd()', w1: -0.25, error: '@x' }])).toBe("sampler.use,w1,error\n'=cmd(),-0.25,'@x\n");
  });
});

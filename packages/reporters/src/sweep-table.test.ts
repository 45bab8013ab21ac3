import { describe, expect, it } from 'vitest';
import { formatTable, metricNames, renderSweepHtml, sweepColumns, sweptKeys, toCsv } from './sweep-table.js';

const axes = [
  { key: 'sampler.use', values: ['ddpm', 'ddim'] },
  { key: 'seed', values: ['1'] },
];
const rows = [
  { point: 'a', 'sampler.use': 'ddpm', status: 'complete', model: 'a', trained: true, nfe: 5, steps: 5, w1: 0.5, w1NoiseFloor: 0.01, trainingSeconds: 2, attempts: 1 },
  { point: 'b', 'sampler.use': 'ddim', status: 'failed', model: 'a', trained: false, error: 'NaN loss, at "step 3"', attempts: 2 },
];

describe('sweep tables', () => {
  it('swept keys are the axes with more than one value; columns are the union of row keys in first-seen order', () => {
    expect(sweptKeys(axes)).toEqual(['sampler.use']);
    expect(sweepColumns([{ a: 1 }, { b: 2, a: 3 }])).toEqual(['a', 'b']);
  });

  it('metrics are the numeric columns that are not descriptive, swept or noise floors', () => {
    expect(metricNames(rows, axes)).toEqual(['w1']);
  });

  it('CSV quotes the error cell and leaves the missing cells of a failed row empty', () => {
    const lines = toCsv(rows).trimEnd().split('\n');
    expect(lines[0]).toBe('point,sampler.use,status,model,trained,nfe,steps,w1,w1NoiseFloor,trainingSeconds,attempts,error');
    expect(lines[2]).toBe('b,ddim,failed,a,false,,,,,,2,"NaN loss, at ""step 3"""');
  });

  it('the printed table aligns columns, shows the floor beside each metric and marks failed points', () => {
    const t = formatTable(rows, axes);
    expect(t[0]).toMatch(/^sampler\.use\s+steps\s+NFE\s+w1 \(floor\)\s+train s\s+model$/);
    expect(t[1]).toMatch(/^-+( +-+)+$/);
    expect(t[3].trim().endsWith('FAILED')).toBe(true);
    // Every cell of a column starts at the same offset as its header.
    const col = t[0].indexOf('NFE');
    expect(t[2].slice(col, col + 1)).toBe('5');
  });

  it('the HTML report escapes text, embeds every figure and shows a random axis by its distribution', () => {
    const html = renderSweepHtml({
      title: 'a <sweep>',
      rows,
      axes: [...axes, { key: 'training.learningRate', values: ['0.001', '0.002'], label: 'loguniform(0.0001, 0.01)' }],
      png: new Uint8Array([1, 2]),
      extraPngs: [{ alt: 'by key', png: new Uint8Array([3]) }],
      config: '/c.yaml',
      trainings: 1,
    });
    expect(html).toContain('<title>a &lt;sweep&gt;</title>');
    expect(html).toContain(`src="data:image/png;base64,${Buffer.from([1, 2]).toString('base64')}"`);
    expect(html).toContain(`alt="by key" src="data:image/png;base64,${Buffer.from([3]).toString('base64')}"`);
    expect(html).toContain('training.learningRate = loguniform(0.0001, 0.01)');
    expect(html).toContain('sampler.use = ddpm, ddim');
    expect(html).toContain('NaN loss, at &quot;step 3&quot;');
  });
});

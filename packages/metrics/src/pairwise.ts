/**
 * Blocked pairwise squared Euclidean distances, the O(n²·D) core shared by `mmd` and `energy`.
 * Distances are formed from coordinate differences (never ‖x‖² + ‖y‖² − 2x·y), so identical
 * points are exactly 0 apart, and a 4 × 4 register block reuses every loaded coordinate four times,
 * which roughly halves the time for image-sized D compared with one pair at a time.
 */

/** Receives squared distances for rows i0 … i0+rows−1 of `a`: out[r·nb + j] = ‖a_{i0+r} − b_j‖² for j ≥ jStart. */
export type DistanceBlockVisitor = (i0: number, rows: number, jStart: number, out: Float64Array) => void;

/**
 * Streams the squared distances between the rows of a [na, d] and b [nb, d] to `visit`, up to four
 * rows of `a` at a time. With `fromDiagonal` (for a set against itself) columns start at the
 * block's first row (jStart = i0), so the visitor can keep just j > i and half the work is skipped.
 */
export function forEachDistanceBlock(a: Float32Array, b: Float32Array, d: number, fromDiagonal: boolean, visit: DistanceBlockVisitor): void {
  const na = a.length / d;
  const nb = b.length / d;
  const out = new Float64Array(4 * nb);
  for (let i0 = 0; i0 < na; i0 += 4) {
    const rows = Math.min(4, na - i0);
    const jStart = fromDiagonal ? i0 : 0;
    let j = jStart;
    if (rows === 4) {
      const a0 = i0 * d;
      const a1 = a0 + d;
      const a2 = a1 + d;
      const a3 = a2 + d;
      for (; j + 4 <= nb; j += 4) {
        const b0 = j * d;
        const b1 = b0 + d;
        const b2 = b1 + d;
        const b3 = b2 + d;
        let s00 = 0,
          s01 = 0,
          s02 = 0,
          s03 = 0,
          s10 = 0,
          s11 = 0,
          s12 = 0,
          s13 = 0;
        let s20 = 0,
          s21 = 0,
          s22 = 0,
          s23 = 0,
          s30 = 0,
          s31 = 0,
          s32 = 0,
          s33 = 0;
        for (let c = 0; c < d; c++) {
          const x0 = a[a0 + c],
            x1 = a[a1 + c],
            x2 = a[a2 + c],
            x3 = a[a3 + c];
          const y0 = b[b0 + c],
            y1 = b[b1 + c],
            y2 = b[b2 + c],
            y3 = b[b3 + c];
          let u = x0 - y0;
          s00 += u * u;
          u = x0 - y1;
          s01 += u * u;
          u = x0 - y2;
          s02 += u * u;
          u = x0 - y3;
          s03 += u * u;
          u = x1 - y0;
          s10 += u * u;
          u = x1 - y1;
          s11 += u * u;
          u = x1 - y2;
          s12 += u * u;
          u = x1 - y3;
          s13 += u * u;
          u = x2 - y0;
          s20 += u * u;
          u = x2 - y1;
          s21 += u * u;
          u = x2 - y2;
          s22 += u * u;
          u = x2 - y3;
          s23 += u * u;
          u = x3 - y0;
          s30 += u * u;
          u = x3 - y1;
          s31 += u * u;
          u = x3 - y2;
          s32 += u * u;
          u = x3 - y3;
          s33 += u * u;
        }
        out[j] = s00;
        out[j + 1] = s01;
        out[j + 2] = s02;
        out[j + 3] = s03;
        out[nb + j] = s10;
        out[nb + j + 1] = s11;
        out[nb + j + 2] = s12;
        out[nb + j + 3] = s13;
        out[2 * nb + j] = s20;
        out[2 * nb + j + 1] = s21;
        out[2 * nb + j + 2] = s22;
        out[2 * nb + j + 3] = s23;
        out[3 * nb + j] = s30;
        out[3 * nb + j + 1] = s31;
        out[3 * nb + j + 2] = s32;
        out[3 * nb + j + 3] = s33;
      }
    }
    // Tail columns, and blocks with fewer than four rows: one pair at a time.
    for (let r = 0; r < rows; r++) {
      const ai = (i0 + r) * d;
      for (let jj = j; jj < nb; jj++) {
        const bj = jj * d;
        let s = 0;
        for (let c = 0; c < d; c++) {
          const u = a[ai + c] - b[bj + c];
          s += u * u;
        }
        out[r * nb + jj] = s;
      }
    }
    visit(i0, rows, jStart, out);
  }
}

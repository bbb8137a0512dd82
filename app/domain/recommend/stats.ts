/**
 * Small, pure statistics for buffer recommendations: the standard normal quantile (service level
 * → z), the Poisson tail (chance of more than b sales in a window), and empirical quantiles of
 * measured delays. No I/O, no clock.
 */

/**
 * z such that Φ(z) = p, for 0 < p < 1 (Acklam's rational approximation, |error| < 1.2e-9).
 * Monotone increasing in p.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`probability must be in (0, 1), got ${p}`);
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2,
    -3.066479806614716e1, 2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1,
    -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734,
    4.374664141464968, 2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/** ln Γ(x) for x ≥ 1 (Stirling's series after shifting x past 8; |error| < 1e-12). */
function logGamma(x: number): number {
  let shift = 0;
  while (x < 8) {
    shift -= Math.log(x);
    x += 1;
  }
  const inv = 1 / x;
  const inv2 = inv * inv;
  return (
    shift +
    (x - 0.5) * Math.log(x) -
    x +
    0.5 * Math.log(2 * Math.PI) +
    inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)))
  );
}

/** P(N = k) for N ~ Poisson(mean > 0), in log space (no underflow for a large mean). */
function poissonPmf(mean: number, k: number): number {
  return Math.exp(-mean + k * Math.log(mean) - logGamma(k + 1));
}

/**
 * P(N > b) for N ~ Poisson(mean); 0 for mean 0. Exact for any mean: the terms are summed from b
 * outwards (upwards above the mean, downwards for 1 − P(N ≤ b) at or below it) until they no
 * longer count, so a mean in the thousands costs a few hundred terms, not b.
 */
export function poissonTail(mean: number, b: number): number {
  if (!(mean > 0)) return 0;
  if (b < 0) return 1;
  const k0 = Math.floor(b);
  if (k0 + 1 > mean) {
    // Upper tail: terms fall at least as fast as mean / k from k0 + 1 on.
    let sum = 0;
    let term = poissonPmf(mean, k0 + 1);
    for (let k = k0 + 1; term > 0 && term > sum * 1e-17; k++) {
      sum += term;
      term *= mean / (k + 1);
    }
    return Math.min(1, sum);
  }
  let below = 0;
  let term = poissonPmf(mean, k0);
  for (let k = k0; k >= 0 && (term > below * 1e-17 || k === k0); k--) {
    below += term;
    term *= k / mean;
  }
  return Math.max(0, 1 - below);
}

/**
 * E[max(0, N − b)] for N ~ Poisson(mean): the expected units beyond a buffer of b. Summed from b
 * outwards (upwards at or above the mean, downwards for mean − b + E[(b − N)⁺] below it) until
 * the terms no longer count, in log space: no cancellation of large numbers far above the mean
 * (which left rounding noise where the answer is 0) and a few hundred terms for any mean.
 */
export function poissonExcess(mean: number, b: number): number {
  if (!(mean > 0)) return 0;
  if (b < 0) return mean - b;
  const k0 = Math.floor(b);
  if (b >= mean) {
    let sum = 0;
    let term = poissonPmf(mean, k0 + 1);
    for (let k = k0 + 1; term > 0; k++) {
      const add = (k - b) * term;
      sum += add;
      if (add <= sum * 1e-17) break;
      term *= mean / (k + 1);
    }
    return sum;
  }
  let below = 0;
  let term = poissonPmf(mean, k0);
  for (let k = k0; k >= 0; k--) {
    const add = (b - k) * term;
    below += add;
    if (k < k0 && add <= below * 1e-17) break;
    term *= k / mean;
  }
  return Math.max(0, mean - b + below);
}

/** The q-quantile (0 ≤ q ≤ 1) of the values by the nearest-rank method; null when empty. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((x, y) => x - y);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

/** Mean and (sample) variance; zeros for fewer than two values' variance. */
export function meanVariance(values: readonly number[]): { mean: number; variance: number } {
  if (values.length === 0) return { mean: 0, variance: 0 };
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  if (values.length < 2) return { mean, variance: 0 };
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, variance };
}

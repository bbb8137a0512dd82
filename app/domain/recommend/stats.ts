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

/** P(N > b) for N ~ Poisson(mean); 0 for mean 0. */
export function poissonTail(mean: number, b: number): number {
  if (mean <= 0) return 0;
  let term = Math.exp(-mean);
  let cdf = term;
  for (let k = 1; k <= b; k++) {
    term *= mean / k;
    cdf += term;
  }
  return Math.max(0, 1 - cdf);
}

/** E[max(0, N − b)] for N ~ Poisson(mean): the expected units beyond a buffer of b. */
export function poissonExcess(mean: number, b: number): number {
  if (mean <= 0) return 0;
  // E[(N−b)+] = mean − b + Σ_{k<b} (b − k)·P(N = k)
  let term = Math.exp(-mean);
  let below = 0;
  for (let k = 0; k < b; k++) {
    below += (b - k) * term;
    term *= mean / (k + 1);
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

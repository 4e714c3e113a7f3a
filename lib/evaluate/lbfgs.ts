/**
 * A small limited-memory BFGS minimiser over Float64Array parameters, deterministic (no
 * randomness), with a caller-supplied diagonal initial inverse Hessian. The linear probe
 * (linear-probe.ts) trains its softmax with it.
 */
import { dot } from '../util/vec.js';

/** What {@link minimizeLbfgs} returns. */
export interface LbfgsResult {
  /** The parameters reached. */
  theta: Float64Array;
  /** Iterations used. */
  iterations: number;
}

/**
 * Limited-memory BFGS (two-loop recursion, 10 curvature pairs) from theta = 0, with a
 * backtracking Armijo line search that starts at step 1. The initial inverse Hessian of the
 * recursion is diagonal: `bound` (the inverse of an upper bound of the Hessian, so a step along
 * -bound * grad always descends) for the first iteration and as the fallback when the
 * recursion fails to give a descent direction; afterwards whatever `curvature` writes (it is
 * called right after the objective was evaluated at each accepted point). Stops after
 * `maxIter` iterations, when max |gradient| <= `tolerance`, or when the objective stops
 * decreasing. Uses no randomness: the same input always gives the same output.
 *
 * @param P number of parameters
 * @param fg the objective at theta; writes its gradient into `grad`
 * @param bound a diagonal inverse Hessian under which -bound * grad always descends
 * @param curvature writes the diagonal initial inverse Hessian for the next iteration into `h0`
 * @param maxIter most iterations
 * @param tolerance stop once max |gradient| <= tolerance
 */
export function minimizeLbfgs(
  P: number,
  fg: (theta: Float64Array, grad: Float64Array) => number,
  bound: Float64Array,
  curvature: (h0: Float64Array) => void,
  maxIter: number,
  tolerance: number,
): LbfgsResult {
  const memory = 10;
  const h0 = Float64Array.from(bound);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(memory);
  let theta = new Float64Array(P);
  let grad = new Float64Array(P);
  let f = fg(theta, grad);
  let trial = new Float64Array(P);
  let trialGrad = new Float64Array(P);
  const dir = new Float64Array(P);
  const vdot = (a: Float64Array, b: Float64Array): number => dot(a, b); // every vector here has length P
  let it = 0;
  for (; it < maxIter; it++) {
    // dir = -H grad by the two-loop recursion
    for (let p = 0; p < P; p++) dir[p] = -(grad[p] as number);
    for (let k = S.length - 1; k >= 0; k--) {
      const a = (rho[k] as number) * vdot(S[k] as Float64Array, dir);
      alpha[k] = a;
      const yk = Y[k] as Float64Array;
      for (let p = 0; p < P; p++) dir[p] = (dir[p] as number) - a * (yk[p] as number);
    }
    for (let p = 0; p < P; p++) dir[p] = (dir[p] as number) * (h0[p] as number);
    for (let k = 0; k < S.length; k++) {
      const b = (rho[k] as number) * vdot(Y[k] as Float64Array, dir);
      const sk = S[k] as Float64Array;
      const a = alpha[k] as number;
      for (let p = 0; p < P; p++) dir[p] = (dir[p] as number) + (a - b) * (sk[p] as number);
    }
    let slope = vdot(grad, dir);
    if (!(slope < 0)) {
      // not a descent direction: forget the curvature pairs, step along -bound * grad
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let p = 0; p < P; p++) dir[p] = -(bound[p] as number) * (grad[p] as number);
      slope = vdot(grad, dir);
      if (!(slope < 0)) break; // zero gradient: at the optimum
    }
    let step = 1;
    let fNew = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let p = 0; p < P; p++) trial[p] = (theta[p] as number) + step * (dir[p] as number);
      fNew = fg(trial, trialGrad);
      if (fNew <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNew <= f)) break; // no decrease left at floating-point resolution
    // curvature pair s = trial - theta, y = trialGrad - grad (kept when s.y > 0)
    const s = S.length === memory ? (S.shift() as Float64Array) : new Float64Array(P);
    const y = Y.length === memory ? (Y.shift() as Float64Array) : new Float64Array(P);
    if (rho.length === memory) rho.shift();
    for (let p = 0; p < P; p++) {
      s[p] = (trial[p] as number) - (theta[p] as number);
      y[p] = (trialGrad[p] as number) - (grad[p] as number);
    }
    const sy = vdot(s, y);
    if (sy > 1e-12 * Math.sqrt(vdot(s, s) * vdot(y, y))) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    curvature(h0);
    let gmax = 0;
    for (let p = 0; p < P; p++) gmax = Math.max(gmax, Math.abs(trialGrad[p] as number));
    const done = gmax <= tolerance || f - fNew <= 1e-15 * Math.max(1, Math.abs(f));
    [theta, trial] = [trial, theta];
    [grad, trialGrad] = [trialGrad, grad];
    f = fNew;
    if (done) {
      it++;
      break;
    }
  }
  return { theta, iterations: it };
}

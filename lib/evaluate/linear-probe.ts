/**
 * The linear probe: multinomial (softmax) logistic regression with an L2 penalty on
 * standardized features, as scikit-learn's StandardScaler + LogisticRegression. Cross-validated
 * accuracy ({@link linearProbeAccuracy}), and fitting and applying one probe on all samples
 * ({@link fitLinearProbe}, {@link linearProbePredict}). Deterministic: no randomness.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { minimizeLbfgs } from './lbfgs.js';
import { accumulateClassGradient, multiplyABt } from './matrix-products.js';
import { accuracyOf, checkFolds, checkRows, encodeLabels, invalid, type Encoded } from './samples.js';

/** Options of {@link linearProbeAccuracy}. */
export interface LinearProbeOptions {
  /**
   * L2 penalty on the weights (not the intercepts): the objective is
   * mean cross-entropy + l2 / 2 * ||W||^2 on standardized features (default 0.01; the same
   * model as scikit-learn's LogisticRegression with C = 1 / (l2 * nTrain)).
   */
  l2?: number;
  /** Most optimiser (L-BFGS) iterations per fold (default 300; it usually stops far earlier, at `tolerance`). */
  epochs?: number;
  /** Stop a fold's optimisation once max |gradient| of the objective <= tolerance (default 1e-5). */
  tolerance?: number;
  /**
   * Accepted for API stability. The optimiser is full-batch and starts from zero weights, so it
   * uses no randomness and the result does not depend on the seed.
   */
  seed?: number;
}

/** Result of {@link linearProbeAccuracy}. */
export interface ProbeResult {
  /** Held-out accuracy over all samples. */
  accuracy: number;
  /** 1 where the held-out prediction of a sample was right, 0 where wrong. */
  correct: Uint8Array;
}

/**
 * Cross-validated accuracy of a linear probe: multinomial (softmax) logistic regression with an
 * L2 penalty, trained per fold on features standardized with the training fold's mean and
 * standard deviation (constant features become 0), and evaluated on the held-out fold.
 *
 * The training uses no randomness (same input, same result). With an L2 penalty the optimal
 * weights lie in the span of the training samples, so each fold is solved in that span: the
 * training Gram matrix is diagonalised (ml-matrix), giving at most nTrain orthogonal features,
 * on which the objective is minimised by L-BFGS whose initial inverse Hessian is diagonal:
 * Böhning's bound (0.5 * feature variance + l2 per direction) for the first step, then the
 * exact Hessian diagonal at the current point. This is the same model as scikit-learn's
 * StandardScaler + LogisticRegression(C = 1 / (l2 * nTrain), lbfgs, multinomial) on the
 * standardized features: test/unit/sklearn-softmax.test.ts checks predictions, probabilities and
 * weights against a fixture from scripts/sklearn-fixture.py. It costs O(nTrain^2 * d) once plus
 * O(nTrain^2 * classes) per iteration: 252 samples x 640 features x 21 classes take about
 * 0.1-0.3 s per fold.
 *
 * @throws EmosteerError INVALID_ARGUMENT for ragged or non-finite rows, mismatched labels, folds that are not a partition, or bad options
 */
export function linearProbeAccuracy(
  X: Float32Array[],
  labels: ArrayLike<number>,
  folds: number[][],
  options: LinearProbeOptions = {},
): ProbeResult {
  const { l2, epochs, tolerance } = probeSettings(options);
  checkRows(X, 'X', 2);
  const enc = encodeLabels(labels, X.length);
  const foldOf = checkFolds(folds, X.length);
  const n = X.length;
  const d = (X[0] as Float32Array).length;
  const correct = new Uint8Array(n);
  for (let f = 0; f < folds.length; f++) {
    const train: number[] = [];
    for (let i = 0; i < n; i++) if (foldOf[i] !== f) train.push(i);
    const fit = fitSoftmax(X, enc, train, l2, epochs, tolerance);
    const scores = new Float64Array(enc.classes.length);
    for (let i = 0; i < n; i++) {
      if (foldOf[i] !== f) continue;
      correct[i] = argmax(softmaxScores(fit, d, X[i] as Float32Array, scores)) === enc.y[i] ? 1 : 0;
    }
  }
  return { accuracy: accuracyOf(correct), correct };
}

function probeSettings(options: LinearProbeOptions): { l2: number; epochs: number; tolerance: number } {
  const l2 = options.l2 ?? 0.01;
  const epochs = options.epochs ?? 300;
  const tolerance = options.tolerance ?? 1e-5;
  if (typeof l2 !== 'number' || !(l2 > 0) || !Number.isFinite(l2)) throw invalid(`l2 must be a positive number, got ${String(l2)}`);
  if (!Number.isInteger(epochs) || epochs < 1) throw invalid(`epochs must be a positive integer, got ${String(epochs)}`);
  if (typeof tolerance !== 'number' || !(tolerance >= 0)) throw invalid(`tolerance must be a number >= 0, got ${String(tolerance)}`);
  return { l2, epochs, tolerance };
}

/**
 * A softmax probe fitted by {@link fitLinearProbe}, in the parametrisation of scikit-learn's
 * `make_pipeline(StandardScaler(), LogisticRegression(...))`: the scores of a sample x are
 * `intercept[c] + sum_j coef[c][j] * (x[j] - mean[j]) / scale[j]`, its probabilities their softmax.
 */
export interface LinearProbeModel {
  /** The distinct labels, ascending; row c of `coef` belongs to classes[c]. */
  classes: number[];
  /** Per-feature mean of the training samples. */
  mean: Float64Array;
  /**
   * Per-feature population standard deviation of the training samples; 0 for a constant
   * feature, whose standardized value is taken as 0 (scikit-learn's StandardScaler divides by 1
   * there, which gives the same 0 up to rounding).
   */
  scale: Float64Array;
  /**
   * Weights on the standardized features, one row per class. The L2 penalty makes them unique;
   * they sum to zero over the classes for every feature (as scikit-learn's `coef_`).
   */
  coef: Float64Array[];
  /** Intercepts, one per class, shifted to sum to zero (they are unique only up to a common constant). */
  intercept: Float64Array;
  /** L-BFGS iterations used. */
  iterations: number;
}

/**
 * Fits the softmax probe of {@link linearProbeAccuracy} on all the samples (no folds) and
 * returns the model: the same standardization, objective and optimiser as one fold of the
 * cross-validation. Use {@link linearProbePredict} to apply it.
 *
 * @throws EmosteerError INVALID_ARGUMENT for ragged or non-finite rows, mismatched labels, fewer than two samples or bad options
 */
export function fitLinearProbe(X: Float32Array[], labels: ArrayLike<number>, options: LinearProbeOptions = {}): LinearProbeModel {
  const { l2, epochs, tolerance } = probeSettings(options);
  const d = checkRows(X, 'X', 2);
  const enc = encodeLabels(labels, X.length);
  const fit = fitSoftmax(X, enc, Array.from({ length: X.length }, (_, i) => i), l2, epochs, tolerance);
  const C = enc.classes.length;
  return {
    classes: [...enc.classes],
    mean: fit.mu,
    scale: fit.invSd.map((v) => (v === 0 ? 0 : 1 / v)),
    coef: Array.from({ length: C }, (_, c) => fit.W.slice(c * d, (c + 1) * d)),
    intercept: fit.b,
    iterations: fit.iterations,
  };
}

/** Predictions of {@link linearProbePredict}. */
export interface ProbePrediction {
  /** The most probable label of each sample (ties: the smaller label). */
  labels: number[];
  /** Class probabilities of each sample, in the order of `model.classes`. */
  probabilities: Float64Array[];
}

/**
 * Applies a probe from {@link fitLinearProbe} to samples.
 * @throws EmosteerError INVALID_ARGUMENT for ragged or non-finite rows, or rows of another width than the model's
 */
export function linearProbePredict(model: LinearProbeModel, X: Float32Array[]): ProbePrediction {
  const d = checkRows(X, 'X', 1);
  if (X.length > 0 && d !== model.mean.length) throw invalid(`X rows have width ${d}, the probe was fitted on width ${model.mean.length}`);
  const C = model.classes.length;
  const fit: SoftmaxFit = {
    mu: model.mean,
    invSd: model.scale.map((v) => (v === 0 ? 0 : 1 / v)),
    W: new Float64Array(C * d),
    b: model.intercept,
    iterations: model.iterations,
  };
  for (let c = 0; c < C; c++) fit.W.set(model.coef[c] as Float64Array, c * d);
  const labelsOut: number[] = [];
  const probabilities: Float64Array[] = [];
  for (const row of X) {
    const s = softmaxScores(fit, d, row, new Float64Array(C));
    labelsOut.push(model.classes[argmax(s)] as number);
    let mx = -Infinity;
    for (let c = 0; c < C; c++) mx = Math.max(mx, s[c] as number);
    let z = 0;
    for (let c = 0; c < C; c++) {
      s[c] = Math.exp((s[c] as number) - mx);
      z += s[c] as number;
    }
    for (let c = 0; c < C; c++) s[c] = (s[c] as number) / z;
    probabilities.push(s);
  }
  return { labels: labelsOut, probabilities };
}

/** A fitted softmax on standardized features: W is C x d (row-major), invSd 0 for constant features. */
interface SoftmaxFit {
  mu: Float64Array;
  invSd: Float64Array;
  W: Float64Array;
  b: Float64Array;
  iterations: number;
}

/** out[c] = b[c] + sum_j W[c, j] (x[j] - mu[j]) invSd[j] */
function softmaxScores(fit: SoftmaxFit, d: number, x: Float32Array, out: Float64Array): Float64Array {
  const C = fit.b.length;
  for (let c = 0; c < C; c++) {
    let s = fit.b[c] as number;
    const off = c * d;
    for (let j = 0; j < d; j++) s += (fit.W[off + j] as number) * ((x[j] as number) - (fit.mu[j] as number)) * (fit.invSd[j] as number);
    out[c] = s;
  }
  return out;
}

/** Index of the largest value (the first of equal ones). */
function argmax(v: Float64Array): number {
  let best = 0;
  for (let c = 1; c < v.length; c++) if ((v[c] as number) > (v[best] as number)) best = c;
  return best;
}

/** Trains the softmax on the samples `train`; returns it on the standardized features. */
function fitSoftmax(
  X: Float32Array[],
  enc: Encoded,
  train: number[],
  l2: number,
  epochs: number,
  tolerance: number,
): SoftmaxFit {
  const d = (X[0] as Float32Array).length;
  const C = enc.classes.length;
  const m = train.length;

  // Standardize with the training fold's statistics (population standard deviation).
  const mu = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const i of train) {
    const row = X[i] as Float32Array;
    for (let j = 0; j < d; j++) mu[j] = (mu[j] as number) + (row[j] as number);
  }
  for (let j = 0; j < d; j++) mu[j] = (mu[j] as number) / m;
  for (const i of train) {
    const row = X[i] as Float32Array;
    for (let j = 0; j < d; j++) {
      const v = (row[j] as number) - (mu[j] as number);
      sd[j] = (sd[j] as number) + v * v;
    }
  }
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt((sd[j] as number) / m);
    // stored as the inverse; constant features (up to rounding of the mean) vanish
    sd[j] = s > Math.max(1e-12, 1e-9 * Math.abs(mu[j] as number)) ? 1 / s : 0;
  }
  const standardize = (rows: number[]): Float64Array => {
    const out = new Float64Array(rows.length * d);
    for (let r = 0; r < rows.length; r++) {
      const row = X[rows[r] as number] as Float32Array;
      const off = r * d;
      for (let j = 0; j < d; j++) out[off + j] = ((row[j] as number) - (mu[j] as number)) * (sd[j] as number);
    }
    return out;
  };
  const Ztr = standardize(train);

  // Gram matrix of the training fold and its eigendecomposition: Ztr = U S V^T.
  const gramValues = new Float64Array(m * m);
  multiplyABt(Ztr, m, d, Ztr, m, gramValues);
  const gram = Matrix.from1DArray(m, m, gramValues);
  const evd = new EigenvalueDecomposition(gram, { assumeSymmetric: true });
  const lambdas = evd.realEigenvalues;
  const vecs = evd.eigenvectorMatrix;
  const lmax = Math.max(0, ...lambdas);
  const keep: number[] = [];
  for (let k = 0; k < lambdas.length; k++) if ((lambdas[k] as number) > lmax * 1e-10 && (lambdas[k] as number) > 0) keep.push(k);
  const r = keep.length;

  // Training features F = U S = Ztr V (m x r); a weight vector theta_c on them is
  // w_c = V theta_c = Ztr^T U S^-1 theta_c on the standardized features.
  const F = new Float64Array(m * r);
  const U = new Float64Array(r * m); // kept eigenvectors, one per row
  const lam = new Float64Array(r);
  for (let q = 0; q < r; q++) {
    const k = keep[q] as number;
    const s = Math.sqrt(lambdas[k] as number);
    lam[q] = lambdas[k] as number;
    for (let a = 0; a < m; a++) {
      const u = vecs.get(a, k);
      U[q * m + a] = u;
      F[a * r + q] = u * s;
    }
  }

  // Parameters: weights W^T (C x r, one row per class) and intercepts b (C), packed as
  // theta = [W^T row-major, b]. The first inverse-Hessian guess is Böhning's bound
  // (0.5 * feature variance + l2 per direction; 0.5 for an intercept): a guaranteed descent.
  const P = C * r + C;
  const bOff = C * r;
  const bound = new Float64Array(P);
  for (let c = 0; c < C; c++) {
    for (let q = 0; q < r; q++) bound[c * r + q] = 1 / ((0.5 * (lam[q] as number)) / m + l2);
  }
  for (let c = 0; c < C; c++) bound[bOff + c] = 2;

  const ytr = new Int32Array(m);
  for (let a = 0; a < m; a++) ytr[a] = enc.y[train[a] as number] as number;
  // F and its elementwise square, transposed (r x m), for the gradient and the Hessian diagonal
  const FT = new Float64Array(r * m);
  const F2T = new Float64Array(r * m);
  for (let a = 0; a < m; a++) {
    for (let q = 0; q < r; q++) {
      const v = F[a * r + q] as number;
      FT[q * m + a] = v;
      F2T[q * m + a] = v * v;
    }
  }
  const resid = new Float64Array(m * C);
  const weights = new Float64Array(m * C);
  const scratch = new Float64Array(C * m + r * C);
  const { theta, iterations } = minimizeLbfgs(
    P,
    (th, g) => softmaxObjective(F, FT, ytr, m, r, C, l2, th, g, resid, scratch),
    bound,
    // Inverse of the exact Hessian diagonal at the point just evaluated (resid holds its
    // (p - y) / m): sum_a p_ac (1 - p_ac) F_aq^2 / m + l2, and sum_a p_ac (1 - p_ac) / m for
    // the intercepts. The features being orthogonal, the diagonal carries most of the curvature.
    (h) => {
      for (let a = 0; a < m; a++) {
        for (let c = 0; c < C; c++) {
          const pr = (resid[a * C + c] as number) * m + (ytr[a] === c ? 1 : 0);
          weights[a * C + c] = (pr * (1 - pr)) / m;
        }
      }
      h.fill(l2, 0, bOff);
      accumulateClassGradient(weights, F2T, m, r, C, h, scratch);
      for (let c = 0; c < C; c++) {
        let wb = 0;
        for (let a = 0; a < m; a++) wb += weights[a * C + c] as number;
        h[bOff + c] = Math.max(wb, 1e-8);
      }
      for (let p = 0; p < P; p++) h[p] = 1 / (h[p] as number);
    },
    epochs,
    tolerance,
  );

  // Back to the standardized features: A = theta_W S^-1 U (C x m), W = A Ztr (C x d).
  const A = new Float64Array(C * m);
  for (let c = 0; c < C; c++) {
    for (let q = 0; q < r; q++) {
      const v = (theta[c * r + q] as number) / Math.sqrt(lam[q] as number);
      if (v === 0) continue;
      for (let a = 0; a < m; a++) A[c * m + a] = (A[c * m + a] as number) + v * (U[q * m + a] as number);
    }
  }
  const W = new Float64Array(C * d);
  for (let c = 0; c < C; c++) {
    for (let a = 0; a < m; a++) {
      const v = A[c * m + a] as number;
      if (v === 0) continue;
      const zo = a * d;
      const wo = c * d;
      for (let j = 0; j < d; j++) W[wo + j] = (W[wo + j] as number) + v * (Ztr[zo + j] as number);
    }
  }
  // Adding one vector to every class's weights, or one number to every intercept, leaves the
  // probabilities unchanged. The optimum has both centred over the classes (the penalty makes
  // it so for the weights); the per-class diagonal of the L-BFGS start does not keep a partly
  // converged point centred, so centre it: same predictions, a lower (or equal) objective.
  const b = theta.slice(bOff);
  centreOverClasses(W, C, d);
  centreOverClasses(b, C, 1);
  return { mu, invSd: sd, W, b, iterations };
}

/** Subtracts from v[c * width + j] the mean over the classes c, for every j < width. */
function centreOverClasses(v: Float64Array, C: number, width: number): void {
  for (let j = 0; j < width; j++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += v[c * width + j] as number;
    const mean = s / C;
    for (let c = 0; c < C; c++) v[c * width + j] = (v[c * width + j] as number) - mean;
  }
}

/**
 * Objective mean cross-entropy + l2/2 ||W||^2 at theta = [W^T (C x r), b]; its gradient goes
 * into grad. F is m x r (row-major) and FT its transpose; resid (m x C) receives (p - y) / m;
 * scratch holds C x m + r x C values.
 */
function softmaxObjective(
  F: Float64Array,
  FT: Float64Array,
  y: Int32Array,
  m: number,
  r: number,
  C: number,
  l2: number,
  theta: Float64Array,
  grad: Float64Array,
  resid: Float64Array,
  scratch: Float64Array,
): number {
  const bOff = C * r;
  let loss = 0;
  // resid = (softmax(F W + b) - onehot(y)) / m
  multiplyABt(F, m, r, theta, C, resid);
  for (let a = 0; a < m; a++) {
    const ro = a * C;
    let mx = -Infinity;
    for (let c = 0; c < C; c++) {
      const v = (resid[ro + c] as number) + (theta[bOff + c] as number);
      resid[ro + c] = v;
      if (v > mx) mx = v;
    }
    let z = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp((resid[ro + c] as number) - mx);
      resid[ro + c] = e;
      z += e;
    }
    const yi = y[a] as number;
    loss += Math.log(z) - Math.log(resid[ro + yi] as number); // -log softmax_yi
    for (let c = 0; c < C; c++) resid[ro + c] = ((resid[ro + c] as number) / z - (c === yi ? 1 : 0)) / m;
  }
  let penalty = 0;
  for (let p = 0; p < bOff; p++) penalty += (theta[p] as number) * (theta[p] as number);
  // grad W^T[c, :] = l2 W^T[c, :] + sum_a resid[a, c] F[a, :];  grad b[c] = sum_a resid[a, c]
  for (let p = 0; p < bOff; p++) grad[p] = l2 * (theta[p] as number);
  for (let c = 0; c < C; c++) grad[bOff + c] = 0;
  for (let a = 0; a < m; a++) {
    for (let c = 0; c < C; c++) grad[bOff + c] = (grad[bOff + c] as number) + (resid[a * C + c] as number);
  }
  accumulateClassGradient(resid, FT, m, r, C, grad, scratch);
  return loss / m + 0.5 * l2 * penalty;
}

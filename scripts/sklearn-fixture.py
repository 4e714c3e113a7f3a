#!/usr/bin/env python3
"""Reference values from scikit-learn for emosteer's tests (`npm run fixture:sklearn`).

Writes two committed fixtures:

  test/fixtures/sklearn-softmax.json
      Small seeded datasets (float32 values, as the probe receives activations), and what
      scikit-learn's multinomial LogisticRegression fitted on them, with the settings that
      lib/evaluate/linear-probe.ts (linearProbeAccuracy / fitLinearProbe) says it matches:
        features standardized with the training mean and population standard deviation
        (StandardScaler), L2 penalty on the weights only, intercepts fitted, solver lbfgs,
        C = 1 / (l2 * nTrain), with the probe's defaults l2 = 0.01, tol = 1e-5, max_iter = 300.
      Each case also holds an lbfgs fit at tol = 1e-12, max_iter = 100000 ('tight': it then
      stops on scipy's ftol = 64 eps, about 1e-7 from the optimum in the weights) and a
      newton-cholesky fit at tol = 1e-14 ('optimum': quadratic convergence, the optimum to
      about float64 precision), so that a test can tell solver stopping error from a different
      model. Stored: coef_ (classes x features, in standardized units), intercept_, the scaler's
      mean_ and scale_, predict_proba and predict on held-out points, the objective value.
  test/fixtures/sklearn-kappa.json
      Pairs of label sequences with sklearn.metrics.cohen_kappa_score (unweighted).

Run it through npm (or directly with any python3 >= 3.9): the first time it makes a virtual
environment in .cache/sklearn-venv (ignored by git) and installs the pinned scikit-learn and
numpy there from the package registry, then re-runs itself inside it. Deterministic: the
datasets come from numpy's PCG64 with fixed seeds, so re-running it rewrites the same files
(up to the last digits of the fitted values if the pinned versions are changed).
"""
import json
import os
import subprocess
import sys
import venv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, '.cache', 'sklearn-venv')
PACKAGES = ['scikit-learn==1.9.1', 'numpy==2.4.6']
VENV_PYTHON = os.path.join(VENV, 'Scripts' if os.name == 'nt' else 'bin', 'python.exe' if os.name == 'nt' else 'python')


def ensure_venv():
    """Re-executes this script inside .cache/sklearn-venv, creating it first if needed."""
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(VENV_PYTHON):
        print(f'creating {VENV}', file=sys.stderr)
        venv.create(VENV, with_pip=True)
    probe = subprocess.run(
        [VENV_PYTHON, '-c', 'import sklearn, numpy; print(sklearn.__version__, numpy.__version__)'],
        capture_output=True, text=True,
    )
    wanted = ' '.join(p.split('==')[1] for p in PACKAGES)
    if probe.returncode != 0 or probe.stdout.strip() != wanted:
        print(f'pip install {" ".join(PACKAGES)} into {VENV}', file=sys.stderr)
        subprocess.run([VENV_PYTHON, '-m', 'pip', 'install', '--progress-bar', 'off', *PACKAGES], check=True)
    os.execv(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(__file__), *sys.argv[1:]])


ensure_venv()

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import cohen_kappa_score  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

# The probe's defaults (lib/evaluate/linear-probe.ts, LinearProbeOptions).
L2 = 0.01
TOL = 1e-5
MAX_ITER = 300


def f32_list(a):
    """float32 values as JSON numbers: float(np.float32) is exact, and so is JS's Float32Array.from."""
    return [[float(v) for v in row] for row in np.asarray(a, dtype=np.float32)]


def make_case(name, seed, classes, n_train_per_class, n_test, dim, spread, constant_feature):
    """Gaussian classes with unequal feature offsets and scales, so standardization matters."""
    rng = np.random.default_rng(seed)
    k = len(classes)
    means = rng.normal(0.0, spread, size=(k, dim))
    offset = rng.normal(0.0, 3.0, size=dim)
    scale = np.exp(rng.normal(0.0, 1.0, size=dim))
    y_train = np.repeat(np.array(classes), n_train_per_class)
    rng.shuffle(y_train)
    y_test = np.array([classes[i % k] for i in range(n_test)])
    index = {c: i for i, c in enumerate(classes)}

    def draw(labels):
        z = np.stack([means[index[c]] + rng.normal(0.0, 1.0, size=dim) for c in labels])
        x = (offset + z * scale).astype(np.float32)
        if constant_feature is not None:
            x[:, constant_feature] = np.float32(0.1)  # constant: standardized to 0 by both sides
        return x

    x_train = draw(y_train)
    x_test = draw(y_test)
    return {'name': name, 'seed': seed, 'x_train': x_train, 'y_train': y_train, 'x_test': x_test, 'y_test': y_test}


def objective(clf, z, y):
    """mean cross-entropy + l2 / 2 * ||W||^2 on standardized features z (the probe's objective)."""
    p = clf.predict_proba(z)
    idx = np.searchsorted(clf.classes_, y)
    ce = -np.mean(np.log(p[np.arange(len(y)), idx]))
    return float(ce + 0.5 * L2 * np.sum(clf.coef_ ** 2))


def fit(case, tol, max_iter, solver='lbfgs'):
    x_train = case['x_train'].astype(np.float64)
    n = x_train.shape[0]
    scaler = StandardScaler().fit(x_train)
    z_train = scaler.transform(x_train)
    z_test = scaler.transform(case['x_test'].astype(np.float64))
    # penalty is left at its default ('l2' up to 1.7, l1_ratio = 0 from 1.8, where `penalty`
    # is deprecated); multinomial is the only multiclass loss of lbfgs since 1.8 (`multi_class`
    # was removed). Both are asserted below rather than passed.
    clf = LogisticRegression(C=1.0 / (L2 * n), fit_intercept=True, solver=solver, tol=tol, max_iter=max_iter)
    clf.fit(z_train, case['y_train'])
    params = clf.get_params()
    assert params.get('penalty', 'l2') in ('l2', 'deprecated') and params.get('l1_ratio') in (None, 0, 0.0), params
    assert clf.coef_.shape[0] == len(clf.classes_), 'expected a multinomial fit (one row per class)'
    return {
        'settings': {
            'C': 1.0 / (L2 * n), 'l2': L2, 'nTrain': n, 'penalty': 'l2', 'fit_intercept': True,
            'solver': solver, 'tol': tol, 'max_iter': max_iter, 'multinomial': True,
        },
        'n_iter': int(clf.n_iter_[0]),
        'classes': [int(c) for c in clf.classes_],
        'scaler_mean': scaler.mean_.tolist(),
        'scaler_scale': scaler.scale_.tolist(),
        'coef': clf.coef_.tolist(),
        'intercept': clf.intercept_.tolist(),
        'objective': objective(clf, z_train, case['y_train']),
        'decision_test': clf.decision_function(z_test).tolist(),
        'proba_test': clf.predict_proba(z_test).tolist(),
        'predict_test': [int(c) for c in clf.predict(z_test)],
        'proba_train_first': clf.predict_proba(z_train[:10]).tolist(),
        'predict_train': [int(c) for c in clf.predict(z_train)],
    }


def softmax_fixture():
    cases = [
        # more samples than features; labels that are not 0..k-1, to check the label encoding
        make_case('tall', seed=20260410, classes=[1, 3, 4, 7], n_train_per_class=15, n_test=20, dim=12, spread=0.8, constant_feature=None),
        # more features than samples (the probe solves in the span of the training samples),
        # with one constant feature
        make_case('wide', seed=20260411, classes=[0, 1, 2], n_train_per_class=8, n_test=12, dim=32, spread=0.6, constant_feature=5),
        # five classes that overlap strongly (several training points misclassified)
        make_case('overlap', seed=20260412, classes=[0, 1, 2, 3, 4], n_train_per_class=12, n_test=20, dim=8, spread=0.4, constant_feature=None),
    ]
    out = []
    for case in cases:
        out.append({
            'name': case['name'],
            'seed': case['seed'],
            'x_train': f32_list(case['x_train']),
            'y_train': [int(v) for v in case['y_train']],
            'x_test': f32_list(case['x_test']),
            'y_test': [int(v) for v in case['y_test']],
            'claimed': fit(case, TOL, MAX_ITER),
            'tight': fit(case, 1e-12, 100000),
            'optimum': fit(case, 1e-14, 1000, solver='newton-cholesky'),
        })
    return out


def kappa_fixture():
    rng = np.random.default_rng(7)
    pairs = []

    def add(name, a, b):
        pairs.append({'name': name, 'a': list(a), 'b': list(b), 'kappa': float(cohen_kappa_score(a, b))})

    # the 2x2 textbook table: 20 yes-yes, 5 yes-no, 10 no-yes, 15 no-no -> kappa = 0.4
    add('textbook-2x2', ['yes'] * 25 + ['no'] * 25, ['yes'] * 20 + ['no'] * 5 + ['yes'] * 10 + ['no'] * 15)
    truth = rng.integers(0, 7, size=60)
    noisy = np.where(rng.random(60) < 0.7, truth, rng.integers(0, 7, size=60))
    names = ['anger', 'disgust', 'fear', 'joy', 'neutral', 'sadness', 'surprise']
    add('seven-classes-70pct', [names[i] for i in truth], [names[i] for i in noisy])
    add('independent', [int(v) for v in rng.integers(0, 3, size=40)], [int(v) for v in rng.integers(0, 3, size=40)])
    # a label only one rater uses, and below-chance agreement
    add('unshared-label', [0, 0, 1, 1, 2, 2, 0, 1], [1, 1, 0, 0, 0, 3, 1, 0])
    return pairs


def write(path, data):
    full = os.path.join(ROOT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    tmp = full + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=None, separators=(',', ':'))
        f.write('\n')
    os.replace(tmp, full)
    print(f'wrote {path} ({os.path.getsize(full)} bytes)', file=sys.stderr)


def main():
    versions = {'python': sys.version.split()[0], 'scikit-learn': sklearn.__version__, 'numpy': np.__version__}
    write('test/fixtures/sklearn-softmax.json', {
        'generator': 'scripts/sklearn-fixture.py (npm run fixture:sklearn)',
        'versions': versions,
        'model': 'StandardScaler (population std) + LogisticRegression(C = 1 / (l2 * nTrain), L2 on weights, '
                 'intercept unpenalized, lbfgs, multinomial); coef in standardized units',
        'cases': softmax_fixture(),
    })
    write('test/fixtures/sklearn-kappa.json', {
        'generator': 'scripts/sklearn-fixture.py (npm run fixture:sklearn)',
        'versions': versions,
        'function': 'sklearn.metrics.cohen_kappa_score(a, b) (unweighted)',
        'pairs': kappa_fixture(),
    })


if __name__ == '__main__':
    main()

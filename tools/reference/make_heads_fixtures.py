#!/usr/bin/env python3
"""Reference results for engine/analysis/heads.h (development time only): robust scaling, Ward linkage,
flat clusters, medoids and the 2-D PCA, as numpy / scipy / scikit-learn compute them.

tests/data/heads/reference.json:
  {"versions": {...}, "cases": [{"name", "n", "d", "x": [n*d row-major],
    "scaled": [n*d]            sklearn RobustScaler (median / IQR from numpy's linear
                               percentiles; an IQR of 0 leaves the column only centred),
    "linkage": [[a, b, height, size]] * (n-1)   scipy linkage(scaled, 'ward'),
    "clusters": {"k": [n labels]}               scipy fcluster(Z, k, 'maxclust'), 1-based,
    "medoids": {"k": [point per cluster]}       argmin of summed Euclidean distance within each
                                                fcluster cluster (ties: lowest index), listed
                                                in order of the cluster's lowest member,
    "pca_scores": [n*2], "pca_components": [2*d], "pca_explained": [2]
                               sklearn PCA(2, svd_solver='full') on scaled, each component's
                               sign flipped so its largest-|loading| entry is positive (scores
                               flipped alike); "sklearn_sign_rule_held" says whether sklearn's
                               own output already followed that rule}]}

The cases: Gaussian blobs (clusters to find), uniform features shaped like a head table (48
heads x 12 metrics) with a constant column and a mostly-zero column (IQR 0), and a small
7 x 3 case. Cuts are only recorded where the merge heights on either side differ, where
fcluster's 'maxclust' is well defined.

Deterministic (numpy Generator with fixed seeds); floats are written with repr (round-trip).
Run:  /opt/hfref/bin/python -m pip install scipy scikit-learn   # if missing
      /opt/hfref/bin/python tools/reference/make_heads_fixtures.py
Made with numpy 2.4.6, scipy 1.17.1, scikit-learn 1.9.1 (see "versions" in the file).
"""
import json
from pathlib import Path

import numpy as np
import scipy
import sklearn
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import cdist
from sklearn.decomposition import PCA
from sklearn.preprocessing import RobustScaler

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "heads" / "reference.json"


def cases():
    rng = np.random.default_rng(2026)
    centres = rng.normal(0.0, 4.0, size=(4, 5))
    blobs = np.concatenate([c + rng.normal(0.0, 1.0, size=(10, 5)) for c in centres])
    blobs = blobs[rng.permutation(len(blobs))]
    yield "blobs", blobs

    table = rng.uniform(0.0, 1.0, size=(48, 12))
    table[:, 3] = 0.25  # constant: IQR 0
    table[:, 7] = 0.0
    table[rng.choice(48, size=5, replace=False), 7] = rng.uniform(0.5, 1.0, size=5)  # IQR 0
    table[:, 9] *= 40.0  # a wide column (distance-like), which scaling tames
    yield "head_table", table

    yield "small", rng.normal(0.0, 1.0, size=(7, 3))


def sign_rule(components):
    """+1/-1 per component: its largest-|loading| (first such) entry made positive."""
    return np.array([1.0 if c[np.argmax(np.abs(c))] >= 0 else -1.0 for c in components])


def medoids(x, labels):
    out = []
    order = sorted(set(labels), key=lambda c: int(np.flatnonzero(labels == c)[0]))
    for c in order:
        members = np.flatnonzero(labels == c)
        sums = cdist(x[members], x[members]).sum(axis=1)
        out.append(int(members[int(np.argmin(sums))]))  # argmin: first of equal minima
    return out


def main():
    result = {
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__,
                     "scikit-learn": sklearn.__version__},
        "cases": [],
    }
    for name, x in cases():
        n, d = x.shape
        scaled = RobustScaler().fit_transform(x)
        manual = (x - np.percentile(x, 50, axis=0))
        iqr = np.percentile(x, 75, axis=0) - np.percentile(x, 25, axis=0)
        manual /= np.where(iqr > 0, iqr, 1.0)
        assert np.allclose(scaled, manual, rtol=0, atol=1e-12)

        Z = linkage(scaled, method="ward")
        heights = Z[:, 2]
        clusters, meds = {}, {}
        for k in sorted({1, 2, 3, 4, 6, n // 2, n - 1, n}):
            cut = n - k  # merges applied
            if 0 < cut < n - 1 and heights[cut - 1] == heights[cut]:
                continue  # tie at the cut: maxclust is ambiguous
            labels = fcluster(Z, k, criterion="maxclust")
            assert len(set(labels)) == k
            clusters[str(k)] = [int(v) for v in labels]
            meds[str(k)] = medoids(scaled, labels)

        pca = PCA(n_components=2, svd_solver="full").fit(scaled)
        signs = sign_rule(pca.components_)
        scores = pca.transform(scaled) * signs
        components = pca.components_ * signs[:, None]
        result["cases"].append({
            "name": name, "n": n, "d": d,
            "x": x.ravel().tolist(),
            "scaled": scaled.ravel().tolist(),
            "linkage": [[int(r[0]), int(r[1]), float(r[2]), int(r[3])] for r in Z],
            "clusters": clusters,
            "medoids": meds,
            "pca_scores": scores.ravel().tolist(),
            "pca_components": components.ravel().tolist(),
            "pca_explained": pca.explained_variance_ratio_.tolist(),
            "sklearn_sign_rule_held": bool(np.all(signs > 0)),
        })
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result) + "\n")
    print(OUT, OUT.stat().st_size, "bytes")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Opens headmap's .npz, .safetensors and .json exports with numpy and safetensors, as users will.

Run by ctest (test_export_python) when CMake finds a Python with numpy and safetensors;
usage: check_exports.py HEADMAP_BINARY MODEL_DIR TOKENIZER_DIR. Exits non-zero on any mismatch.
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from safetensors import safe_open

headmap, model, tokenizer = sys.argv[1:4]
text = "A new sentence to visualize attention weights"
with tempfile.TemporaryDirectory() as tmp:
    out = {}
    for ext in ("npy", "npz", "safetensors", "json"):
        path = Path(tmp) / f"a.{ext}"
        subprocess.run([headmap, "export", "--model", model, "--tokenizer", tokenizer, "--text", text,
                        "--out", str(path)], check=True)
        out[ext] = path
    maps = np.load(out["npy"])
    z = np.load(out["npz"])  # no pickle needed: plain dtypes only
    assert z["attentions"].dtype == np.float32 and np.array_equal(z["attentions"], maps)
    assert list(z["ids"]) == [32, 649, 6827, 284, 38350, 3241, 19590], z["ids"]
    assert z["tokens"][1] == "Ġnew", z["tokens"]
    with safe_open(str(out["safetensors"]), "np") as f:
        assert np.array_equal(f.get_tensor("attentions"), maps)
        assert json.loads(f.metadata()["tokens"])[1] == "Ġnew"
    doc = json.loads(out["json"].read_text())
    assert np.array_equal(np.array(doc["attentions"], dtype=np.float32), maps)
    assert np.allclose(maps.sum(-1), 1.0, atol=1e-5)
print("exports open in numpy and safetensors:", maps.shape)

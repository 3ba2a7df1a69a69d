#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora, tests/fuzz/corpus/<name>/, from the test data and the
tokenizer files that ship (weights/), trimmed so that each seed stays small (vocabularies cut to a
few hundred entries). Development time only; its output is committed. Python 3, standard library.

    python3 tests/fuzz/make_seeds.py      # rewrites every corpus/<name>/seed-* file
"""
import io
import json
import pathlib
import struct
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
SEP = b"\n----8<----\n"  # fuzz_support.h's kSeparator


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ("seed-" + name)).write_bytes(data if isinstance(data, bytes) else data.encode())


def clear(target):
    folder = CORPUS / target
    if folder.is_dir():
        for old in folder.glob("seed-*"):
            old.unlink()


def safetensors(tensors, metadata=None, pad=True):
    """tensors: [(name, dtype, shape, raw bytes)] -> file bytes, laid out back to back."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def floats(values, fmt="<f"):
    return b"".join(struct.pack(fmt, v) for v in values)


def npy(shape, values, descr="<f4", version=1, fortran=False):
    shape_text = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape_text)
    prefix = 10 if version == 1 else 12
    header += " " * (-(prefix + len(header) + 1) % 64) + "\n"
    length = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    fmt = {"<f4": "<f", "<f2": "<e"}.get(descr, "<f")
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode() + floats(values, fmt)


def softmax_maps(layers, heads, seq, causal):
    values = []
    for l in range(layers):
        for h in range(heads):
            for i in range(seq):
                n = i + 1 if causal else seq
                row = [1.0 / n if j < n else 0.0 for j in range(seq)]
                values += row
    return values


def safetensors_seeds():
    clear("safetensors")
    write("safetensors", "dtypes", safetensors(
        [("f32", "F32", [2, 2], floats([1, 2, 3, 4])), ("f16", "F16", [3], floats([1, -2, 0.5], "<e")),
         ("bf16", "BF16", [2], b"\x80\x3f\x00\xc0"), ("i64", "I64", [1], struct.pack("<q", -7)),
         ("mask", "BOOL", [1, 1, 2, 2], b"\x01\x00\x01\x01"), ("u8", "U8", [3], b"abc"),
         ("fp8", "F8_E4M3", [2], b"\x38\x40"), ("scalar", "F32", [], floats([5])),
         ("empty", "F32", [0, 5], b"")], {"format": "pt"}))
    write("safetensors", "unpadded", safetensors([("a", "F64", [1], struct.pack("<d", 1.5))], None, False))
    write("safetensors", "empty-header", safetensors([]))
    # Real checkpoints' headers: their names, dtypes and metadata, each dimension cut to 2 at most
    # so that the data stays small; and one header as it is, its data cut away.
    sizes = {"F32": 4, "F16": 2, "BF16": 2, "BOOL": 1, "U8": 1, "I64": 8}
    for name, path in [("gpt2-tiny", DATA / "gpt2-tiny" / "model.safetensors"),
                       ("bert-tiny", DATA / "bert-tiny" / "model.safetensors"),
                       ("distilgpt2-shard2", DATA / "distilgpt2-tiny" / "model-00002-of-00002.safetensors")]:
        raw = path.read_bytes()
        (length,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8:8 + length])
        metadata = header.pop("__metadata__", None)
        tensors = []
        for tensor, entry in header.items():
            shape = [min(d, 2) for d in entry["shape"]]
            count = 1
            for d in shape:
                count *= d
            tensors.append((tensor, entry["dtype"], shape, bytes(count * sizes[entry["dtype"]])))
        write("safetensors", name + "-small", safetensors(tensors, metadata))
        if name == "gpt2-tiny":
            write("safetensors", name + "-header-only", raw[:8 + length])
    # An export as headmap writes it: attentions plus tokens, ids and config in the metadata.
    maps = softmax_maps(1, 2, 3, True)
    write("safetensors", "export", safetensors(
        [("attentions", "F32", [1, 2, 3, 3], floats(maps))],
        {"format": "pt", "tokens": json.dumps(["A", "\u0120new", "\u0120sentence"]), "ids": "[32,649,6827]",
         "layers": "[1]", "heads": "[0,1]", "config": json.dumps({"model_type": "gpt2", "n_layer": 2})}))


def index_seeds():
    clear("safetensors_index")
    # Names the target's two fixed shards hold (fuzz_safetensors_index.cpp).
    write("safetensors_index", "valid", json.dumps({
        "metadata": {"total_size": 28},
        "weight_map": {"wte.weight": "model-00001-of-00002.safetensors",
                       "ln_f.weight": "model-00002-of-00002.safetensors",
                       "ln_f.bias": "model-00002-of-00002.safetensors"}}, indent=2))
    write("safetensors_index", "distilgpt2", (DATA / "distilgpt2-tiny" / "model.safetensors.index.json").read_bytes())
    write("safetensors_index", "odd-names", json.dumps({"weight_map": {
        "a": "../x.safetensors", "b": "/abs.safetensors", "c": ".", "d": "model.safetensors.index.json"}}))


def model_files_seeds():
    clear("model_files")
    for name, parts in [("ref", [b"org/model", b"abc123\n", b""]),
                        ("ref-crlf", [b"org/model", b"abc123 \r\n", b"def456"]),
                        ("no-ref", [b"org/model", b"", b"zzz"]),
                        ("bad-ref", [b"org/model", b"../../etc", b""]),
                        ("alias", [b"gpt2", b"abc123", b""]),
                        ("short-name", [b"minilm", b"", b""]),
                        ("not-an-id", [b"a/b/c", b"abc123", b""])]:
        write("model_files", name, SEP.join(parts))


def config_seeds():
    clear("config")
    for folder in ["gpt2-tiny", "bert-tiny", "bert-tiny-f16", "distilbert-tiny", "distilgpt2-tiny", "roberta-tiny"]:
        write("config", folder, (DATA / folder / "config.json").read_bytes())
    write("config", "gpt2-tiny-headmap", (ROOT / "weights" / "gpt2-tiny-headmap" / "config.json").read_bytes())


def trimmed_bpe(vocab_path, merges_path, merges_kept, specials):
    vocab = json.loads(vocab_path.read_text())
    lines = merges_path.read_text().split("\n")
    merges = [l for l in lines[1:] if l][:merges_kept]
    by_id = sorted(vocab.items(), key=lambda item: item[1])
    kept = {}
    for token, _ in by_id:
        if len(kept) >= 256 + merges_kept + 8:
            break
        kept[token] = len(kept)
    for special in specials:
        kept.setdefault(special, len(kept))
    merges = [m for m in merges if m.replace(" ", "") in kept and all(p in kept for p in m.split(" "))]
    return kept, merges


def gpt2_files_seeds():
    clear("gpt2_files")
    for name, folder, specials in [("gpt2", ROOT / "weights" / "gpt2", ["<|endoftext|>"]),
                                   ("roberta", DATA / "roberta-tiny", ["<s>", "<pad>", "</s>", "<unk>", "<mask>"])]:
        vocab, merges = trimmed_bpe(folder / "vocab.json", folder / "merges.txt", 200, specials)
        merges_text = "#version: 0.2\n" + "\n".join(merges) + "\n"
        write("gpt2_files", name, json.dumps(vocab, ensure_ascii=False).encode() + SEP + merges_text.encode())
        write("gpt2_files", name + "-no-version",
              json.dumps(vocab, ensure_ascii=False).encode() + SEP + "\n".join(merges[:40]).encode())
    return


def trimmed_wordpiece():
    lines = (ROOT / "weights" / "bert-base-uncased" / "vocab.txt").read_text().split("\n")
    words = [w for w in lines[1996:2400] if w] + [w for w in lines if w.startswith("##")][:150]
    return lines[0:105] + lines[999:1200] + words


def wordpiece_seeds():
    clear("wordpiece_files")
    vocab = "\n".join(trimmed_wordpiece()) + "\n"
    config = (ROOT / "weights" / "bert-base-uncased" / "tokenizer_config.json").read_text()
    write("wordpiece_files", "bert", vocab.encode() + SEP + config.encode())
    write("wordpiece_files", "no-config", vocab.encode())
    cased = json.dumps({"do_lower_case": False, "tokenizer_class": "BertTokenizerFast", "strip_accents": True,
                        "tokenize_chinese_chars": False})
    write("wordpiece_files", "cased-crlf", vocab.replace("\n", "\r\n").encode() + SEP + cased.encode())
    write("wordpiece_files", "distilbert", vocab.encode() + SEP + json.dumps(
        {"tokenizer_class": "DistilBertTokenizer"}).encode())


def tokenizer_json_seeds():
    clear("tokenizer_json")
    doc = json.loads((DATA / "tokenizer" / "gpt2_tokenizer.json").read_text())
    vocab, merges = trimmed_bpe(ROOT / "weights" / "gpt2" / "vocab.json", ROOT / "weights" / "gpt2" / "merges.txt",
                                200, [])
    doc["model"]["vocab"] = vocab
    doc["model"]["merges"] = merges
    doc["added_tokens"][0]["id"] = len(vocab)
    write("tokenizer_json", "gpt2", json.dumps(doc, ensure_ascii=False))
    pairs = json.loads(json.dumps(doc))
    pairs["model"]["merges"] = [m.split(" ") for m in merges[:60]]
    pairs["added_tokens"] += [{"id": len(vocab) + 1 + i, "content": t, "single_word": False, "lstrip": False,
                               "rstrip": False, "normalized": False, "special": True}
                              for i, t in enumerate(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])]
    write("tokenizer_json", "roberta-pairs", json.dumps(pairs, ensure_ascii=False))
    tokens = trimmed_wordpiece()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    bert = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": tokens.index(t), "content": t, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True} for t in specials],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": None,
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(tokens)}},
    }
    write("tokenizer_json", "bert", json.dumps(bert, ensure_ascii=False))


def encode_seeds():
    clear("encode")
    def text_of(case):  # some cases are raw bytes (invalid UTF-8), given in hex
        return bytes.fromhex(case["bytes_hex"]) if "bytes_hex" in case else case["text"].encode()
    gpt2 = [text_of(c) for c in json.loads((DATA / "tokenizer" / "gpt2_cases.json").read_text())["cases"]]
    wordpiece = [text_of(c) for c in json.loads((DATA / "tokenizer" / "wordpiece_cases.json").read_text())["cases"]]
    roberta_cases = json.loads((DATA / "tokenizer" / "roberta_cases.json").read_text())
    roberta = [text_of(c) for c in roberta_cases["single"]]
    count = 0
    for selector, texts in [(0, gpt2), (1, wordpiece), (2, roberta)]:
        picked = [t for t in texts if 0 < len(t) <= 200]
        step = max(1, len(picked) // 25)
        for i, text in enumerate(picked[::step][:25]):
            cut = 0 if i % 3 else 5 + i % 20
            write("encode", "%d-%03d" % (selector, count), bytes([selector, cut]) + text)
            count += 1
    write("encode", "pair-bert", bytes([1, 12]) + b"Where is the cat?" + SEP + b"The cat sat on the mat.")
    for i, case in enumerate(roberta_cases["pairs"][:4]):
        write("encode", "pair-roberta-%d" % i,
              bytes([2, 9 + i]) + case["text"].encode() + SEP + case["text_pair"].encode())
    write("encode", "invalid-utf8", bytes([0, 0]) + b"caf\xc3 \xff\xfe \xed\xa0\x80 \xf4\x90\x80\x80 ok")


def npy_seeds():
    clear("npy")
    maps = softmax_maps(2, 2, 3, True)
    write("npy", "f4-v1", npy((2, 2, 3, 3), maps))
    write("npy", "f2-v2", npy((2, 3, 3), maps[:18], "<f2", 2))
    write("npy", "f4-v3-2d", npy((3, 3), maps[:9], "<f4", 3))
    write("npy", "1d", npy((4,), [0.25] * 4))
    write("npy", "fortran", npy((2, 2), [1, 0, 0, 1], fortran=True))
    write("npy", "big-endian", npy((2,), [1, 2], ">f4"))
    write("npy", "golden-run0-head", (DATA / "golden" / "run0.npy").read_bytes()[:2048])


def saved_maps_seeds():
    clear("saved_maps")
    causal = softmax_maps(2, 2, 4, True)
    full = softmax_maps(1, 3, 3, False)
    # The first byte: bit 0 the format (0 .npy, 1 .safetensors; bit 3 .npz), bits 1-2 the layer
    # selection.
    write("saved_maps", "npy-all", bytes([0]) + npy((2, 2, 4, 4), causal))
    write("saved_maps", "npy-last", bytes([4]) + npy((2, 2, 4, 4), causal))
    write("saved_maps", "npy-heads", bytes([2]) + npy((3, 3, 3), full))
    write("saved_maps", "npy-one", bytes([0]) + npy((3, 3), full[:9], "<f2"))
    write("saved_maps", "safetensors-export", bytes([1]) + safetensors(
        [("attentions", "F32", [2, 2, 4, 4], floats(causal))],
        {"format": "pt", "tokens": json.dumps(["##a", "\u0120b", "[CLS]", "<s>"]), "layers": "[0,1]", "heads": "[0,1]"}))
    write("saved_maps", "safetensors-two", bytes([7]) + safetensors(
        [("attentions", "F16", [1, 3, 3, 3], floats(full, "<e")), ("other", "BF16", [1], b"\x80\x3f")]))
    write("saved_maps", "npz-export", bytes([8]) + npz({
        "attentions": npy((2, 2, 4, 4), causal),
        "tokens": npy_raw((4,), "<U5", "".join(t.ljust(5, "\0") for t in ["##a", "\u0120b", "[CLS]", "<s>"]).encode("utf-32-le")),
        "type_ids": npy_raw((4,), "<i4", struct.pack("<4i", 0, 0, 1, 1))}))
    write("saved_maps", "npz-numpy", bytes([8]) + (DATA / "saved" / "numpy_savez.npz").read_bytes())


def npy_raw(shape, descr, data):
    """A .npy of any dtype: the header as npy() writes it, then `data` as given."""
    return _npy_header(shape, descr) + data


def _npy_header(shape, descr):
    shape_text = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()


def npz(arrays):
    """A stored zip of .npy members, as numpy.savez writes it."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, data in arrays.items():
            archive.writestr(name + ".npy", data)
    return out.getvalue()


def main():
    safetensors_seeds()
    index_seeds()
    model_files_seeds()
    config_seeds()
    gpt2_files_seeds()
    wordpiece_seeds()
    tokenizer_json_seeds()
    encode_seeds()
    npy_seeds()
    saved_maps_seeds()
    total = sum(p.stat().st_size for p in CORPUS.rglob("seed-*"))
    print("seeds: %d files, %d bytes" % (len(list(CORPUS.rglob("seed-*"))), total))


if __name__ == "__main__":
    main()

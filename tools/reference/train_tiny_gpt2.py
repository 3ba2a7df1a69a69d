#!/usr/bin/env python3
"""Train the embedded default model weights/gpt2-tiny-headmap (development time only).

A small GPT-2 (4 layers, 4 heads, n_embd 104, 256 positions, tied embeddings) trained
from scratch on Jane Austen's six completed novels with the real GPT-2 tokenizer
(weights/gpt2/vocab.json + merges.txt), saved in the Hugging Face layout as a float16
GPT2LMHeadModel (model.safetensors, "transformer." prefix, lm_head tied and not saved).

Corpus: the Debian package r-cran-janeaustenr (1.0.0-1), file
/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb (+ Rdata.rdx): the novels as R
character vectors, one element per printed line, taken from Project Gutenberg. The
novels (1811-1818) are in the public domain; the package itself is MIT-licensed. The
script reads the installed file if the package is installed, else runs
`apt-get download r-cran-janeaustenr` into a temporary directory and unpacks it with
`dpkg-deb -x` (no R needed: the R lazy-load database is decoded below). It stops with
a clear message when neither works.

Run (one CPU thread, about 13 minutes in all):
    /opt/hfref/bin/python tools/reference/train_tiny_gpt2.py
The committed weights: ... train_tiny_gpt2.py --steps 323 --est-steps 453 (see weights/README.md).
Options: --minutes (time budget, default 11.5), --steps (fixed step count), --est-steps (schedule
length), --softmax corpus|batch, --out, --summary, --check-only.
The loss log, validation loss and attention statistics go to --summary (JSON).
"""

import argparse
import glob
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never touch the hub

import numpy as np
import torch
from safetensors import safe_open
from transformers import GPT2Config, GPT2LMHeadModel, GPT2Model, GPT2TokenizerFast

REPO = Path(__file__).resolve().parents[2]
DEB_NAME = "r-cran-janeaustenr"
RDB_DIR = "usr/lib/R/site-library/janeaustenr/data"
NOVELS = ["sensesensibility", "prideprejudice", "mansfieldpark", "emma",
          "northangerabbey", "persuasion"]
SEED_SENTENCE = "A new sentence to visualize attention weights"
HELD_OUT_SENTENCE = ("The weather was fine, and after breakfast they walked together to the "
                     "village, where Mr. Elton had promised to meet them at the church.")


# ---------------------------------------------------------------- R lazy-load decoding

class RReader:
    """Minimal reader of R's XDR serialization (format 2/3): enough for the
    character vectors and named lists of an R lazy-load database."""

    def __init__(self, buf):
        self.b = buf
        self.p = 0
        self.refs = []

    def i32(self):
        v = struct.unpack_from(">i", self.b, self.p)[0]
        self.p += 4
        return v

    def start(self):
        fmt = self.b[self.p:self.p + 2]
        self.p += 2
        if fmt != b"X\n":
            raise ValueError(f"not an XDR R serialization: {fmt!r}")
        version = self.i32()
        self.i32()  # writer R version
        self.i32()  # min reader R version
        if version == 3:
            n = self.i32()
            self.p += n  # native encoding
        return self.item()

    def charsxp(self):
        n = self.i32()
        if n == -1:
            return None
        s = self.b[self.p:self.p + n].decode("utf-8", errors="replace")
        self.p += n
        return s

    def item(self):
        flags = self.i32()
        t = flags & 0xFF
        has_attr = bool(flags & (1 << 9))
        has_tag = bool(flags & (1 << 10))
        if t == 254 or t in (242, 241, 247, 251, 252, 253):  # NULL, envs, markers
            return None
        if t == 255:  # REFSXP
            idx = flags >> 8
            if idx == 0:
                idx = self.i32()
            return self.refs[idx - 1]
        if t == 1:  # SYMSXP
            name = self.item()
            self.refs.append(name)
            return name
        if t == 9:  # CHARSXP
            return self.charsxp()
        if t in (2, 239):  # LISTSXP (pairlist) / ATTRLISTSXP
            out = {}
            while True:
                if has_attr:
                    self.item()
                tag = self.item() if has_tag else None
                out[tag if tag is not None else len(out)] = self.item()
                flags = self.i32()
                t = flags & 0xFF
                if t == 254:
                    return out
                if t not in (2, 239):
                    raise ValueError(f"unexpected pairlist continuation type {t}")
                has_attr = bool(flags & (1 << 9))
                has_tag = bool(flags & (1 << 10))
        if t in (16, 19, 20):  # STRSXP, VECSXP, EXPRSXP
            n = self.i32()
            if n == -1:
                raise ValueError("long vectors are not supported")
            val = [self.item() for _ in range(n)]
        elif t == 13 or t == 10:  # INTSXP, LGLSXP
            n = self.i32()
            val = list(struct.unpack_from(f">{n}i", self.b, self.p))
            self.p += 4 * n
        elif t == 14:  # REALSXP
            n = self.i32()
            val = list(struct.unpack_from(f">{n}d", self.b, self.p))
            self.p += 8 * n
        else:
            raise ValueError(f"unsupported R SEXP type {t}")
        if has_attr:
            attrs = self.item()
            names = attrs.get("names") if isinstance(attrs, dict) else None
            if names is not None and t == 19:
                return dict(zip(names, val))
        return val


def read_rdb_object(rdb_bytes, offset, length):
    blob = rdb_bytes[offset:offset + length]
    size = struct.unpack(">I", blob[:4])[0]
    data = zlib.decompress(blob[4:])
    if len(data) != size:
        raise ValueError("R lazy-load entry has the wrong uncompressed size")
    return RReader(data).start()


def read_austen(data_dir):
    rdx_path = Path(data_dir) / "Rdata.rdx"
    rdb_path = Path(data_dir) / "Rdata.rdb"
    raw = rdx_path.read_bytes()
    size = struct.unpack(">I", raw[:4])[0]
    try:
        idx_bytes = zlib.decompress(raw[4:])
    except zlib.error:
        import gzip
        idx_bytes = gzip.decompress(raw)
    if idx_bytes[:2] != b"X\n":  # .rdx may be a gzip'ed serialization
        import gzip
        idx_bytes = gzip.decompress(raw)
    index = RReader(idx_bytes).start()
    variables = index["variables"]
    rdb = rdb_path.read_bytes()
    books = {}
    for name in NOVELS:
        if name not in variables:
            raise SystemExit(f"error: {name} missing from {rdb_path}")
        off, ln = variables[name]
        lines = read_rdb_object(rdb, off, ln)
        books[name] = [("" if s is None else s) for s in lines]
    return books


def fetch_corpus(workdir):
    """Return the janeaustenr data directory: the installed package, else apt-get download."""
    installed = Path("/") / RDB_DIR
    if (installed / "Rdata.rdb").is_file():
        return installed, "installed package"
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise SystemExit(f"error: corpus missing: {installed}/Rdata.rdb not installed and "
                         "apt-get/dpkg-deb not available to download Debian package "
                         f"{DEB_NAME}")
    r = subprocess.run(["apt-get", "download", DEB_NAME], cwd=workdir,
                       capture_output=True, text=True)
    debs = glob.glob(os.path.join(workdir, f"{DEB_NAME}_*.deb"))
    if r.returncode != 0 or not debs:
        raise SystemExit(f"error: corpus missing: `apt-get download {DEB_NAME}` failed "
                         f"(run `apt-get update` first?):\n{r.stderr.strip()}")
    root = os.path.join(workdir, "deb")
    subprocess.run(["dpkg-deb", "-x", debs[0], root], check=True)
    d = Path(root) / RDB_DIR
    if not (d / "Rdata.rdb").is_file():
        raise SystemExit(f"error: {debs[0]} has no {RDB_DIR}/Rdata.rdb")
    return d, os.path.basename(debs[0])


def lines_to_text(lines):
    """Join the printed lines into paragraphs (blank line = paragraph break)."""
    paras, cur = [], []
    for ln in lines:
        ln = ln.strip()
        if ln:
            cur.append(ln)
        elif cur:
            paras.append(" ".join(cur))
            cur = []
    if cur:
        paras.append(" ".join(cur))
    return "\n\n".join(paras)


# ---------------------------------------------------------------- model

def load_tokenizer():
    tok_dir = REPO / "weights" / "gpt2"
    tok = GPT2TokenizerFast(vocab=str(tok_dir / "vocab.json"), merges=str(tok_dir / "merges.txt"))
    ids = tok("Hello world")["input_ids"]
    assert ids == [15496, 995], f"tokenizer is not GPT-2's: Hello world -> {ids}"
    assert len(tok) == 50257, len(tok)
    return tok


def make_config(args):
    return GPT2Config(
        vocab_size=50257, n_positions=args.n_positions, n_embd=args.n_embd,
        n_layer=args.n_layer, n_head=args.n_head, n_inner=None,
        activation_function="gelu_new", layer_norm_epsilon=1e-5,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        tie_word_embeddings=True, bos_token_id=50256, eos_token_id=50256,
    )


def attention_stats(model, tok, text):
    ids = torch.tensor([tok(text)["input_ids"]])
    with torch.no_grad():
        att = model(ids, output_attentions=True).attentions  # L x (1,H,S,S)
    att = torch.stack([a[0] for a in att]).float()  # L,H,S,S
    L, H, S, _ = att.shape
    rows = torch.arange(1, S)
    prev = att[:, :, rows, rows - 1].mean(-1)  # L,H   (rows >= 1)
    first = att[:, :, rows, 0].mean(-1)  # L,H   (rows >= 1; row 0 attends only to itself)
    # distance of the last layer's mean-over-heads map from the uniform causal map
    last = att[-1].mean(0)
    uni = torch.tril(torch.ones(S, S)) / torch.arange(1, S + 1).unsqueeze(1)
    tv = 0.5 * (last - uni).abs().sum(-1)[1:].mean().item()  # mean total variation per row
    ent = -(last.clamp_min(1e-12).log() * last).sum(-1)[1:]
    ent_uni = torch.log(torch.arange(2, S + 1).float())
    return dict(tokens=tok.convert_ids_to_tokens(ids[0].tolist()), prev=prev.tolist(),
                first=first.tolist(), last_tv_from_uniform=tv,
                last_entropy_ratio=(ent.sum() / ent_uni.sum()).item()), att


def format_stats(name, st):
    out = [f"{name}: {len(st['tokens'])} tokens {st['tokens']}",
           "  layer head  prev-token  first-token"]
    for l, (pr, fr) in enumerate(zip(st["prev"], st["first"])):
        for h, (p, f) in enumerate(zip(pr, fr)):
            out.append(f"  {l:5d} {h:4d}  {p:10.3f}  {f:11.3f}")
    out.append(f"  last layer mean-over-heads: total variation from uniform causal "
               f"{st['last_tv_from_uniform']:.3f}, entropy / uniform entropy "
               f"{st['last_entropy_ratio']:.3f}")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(REPO / "weights" / "gpt2-tiny-headmap"))
    ap.add_argument("--minutes", type=float, default=11.5, help="training time budget")
    ap.add_argument("--steps", type=int, default=0, help="fixed number of steps (overrides --minutes)")
    ap.add_argument("--est-steps", type=int, default=0,
                    help="step count the cosine schedule assumes (default: measured from the budget)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=256, help="window length (trains every position)")
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument("--neg-samples", type=int, default=2048)
    ap.add_argument("--softmax", choices=["corpus", "batch"], default="corpus",
                    help="training-loss columns: 'corpus' = every id of the training text exact "
                         "+ uniform samples of the rest (what made the committed weights); "
                         "'batch' = the batch's targets exact + unigram^0.75 samples (faster)")
    ap.add_argument("--n-embd", type=int, default=104)
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--n-positions", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--summary", default="/tmp/gpt2-tiny-headmap.train.json",
                    help="where to write the loss log and attention statistics (JSON)")
    ap.add_argument("--check-only", action="store_true", help="only load corpus + tokenizer")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    tok = load_tokenizer()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, source = fetch_corpus(tmp)
        books = read_austen(data_dir)
    texts = {k: lines_to_text(v) for k, v in books.items()}
    nchars = sum(len(t) for t in texts.values())
    print(f"corpus: {DEB_NAME} ({source}), {len(texts)} novels, {nchars} characters")

    # Tokenize each novel; documents separated by <|endoftext|>.
    eot = tok.eos_token_id
    ids = []
    for name in NOVELS:
        paras = texts[name].split("\n\n")
        enc = tok(["\n\n".join(paras[i:i + 200]) + ("\n\n" if i + 200 < len(paras) else "")
                   for i in range(0, len(paras), 200)])["input_ids"]
        for e in enc:
            ids.extend(e)
        ids.append(eot)
    ids = np.array(ids, dtype=np.int64)
    # held-out split: the last 5% of every 20 equal chunks (so every novel is represented)
    n = len(ids)
    chunk = n // 20
    val_len = chunk // 20
    train_parts, val_parts = [], []
    for c in range(20):
        s, e = c * chunk, (c + 1) * chunk if c < 19 else n
        train_parts.append(ids[s:e - val_len])
        val_parts.append(ids[e - val_len:e])
    train = np.concatenate(train_parts)
    val_list = val_parts
    print(f"tokens: {n} total, {len(train)} train, {sum(len(v) for v in val_list)} validation, "
          f"{len(np.unique(ids))} distinct ids")
    counts = np.bincount(train, minlength=50257).astype(np.float64)
    # unigram baseline on validation (add-one smoothing over the full vocabulary)
    p_uni = (counts + 1) / (counts.sum() + 50257)
    val_all = np.concatenate(val_list)
    unigram_loss = float(-np.log(p_uni[val_all]).mean())
    print(f"unigram baseline validation loss: {unigram_loss:.4f} nats")
    if args.check_only:
        return

    cfg = make_config(args)
    model = GPT2LMHeadModel(cfg)
    model.train()
    nparams = sum(p.numel() for p in model.parameters())
    print(f"model: {nparams} parameters")

    decay, no_decay = [], []
    for nme, p in model.named_parameters():
        (decay if p.dim() >= 2 else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)

    gen = torch.Generator().manual_seed(args.seed)
    train_t = torch.from_numpy(train)

    def batch():
        starts = torch.randint(0, len(train_t) - args.seq - 1, (args.batch,), generator=gen)
        x = torch.stack([train_t[s:s + args.seq + 1] for s in starts.tolist()])
        return x[:, :-1], x[:, 1:]

    def val_loss():
        model.eval()
        tot, cnt = 0.0, 0
        with torch.no_grad():
            for v in val_list:
                vt = torch.from_numpy(v)
                for s in range(0, len(vt) - 1, args.seq):
                    x = vt[s:s + args.seq + 1]
                    if len(x) < 2:
                        continue
                    logits = model(x[:-1].unsqueeze(0)).logits[0]
                    tot += torch.nn.functional.cross_entropy(logits, x[1:], reduction="sum").item()
                    cnt += len(x) - 1
        model.train()
        return tot / cnt

    used_ids = torch.from_numpy(np.nonzero(counts)[0])
    rest_mask = torch.ones(50257, dtype=torch.bool)
    rest_mask[used_ids] = False
    rest_ids = torch.nonzero(rest_mask)[:, 0]
    remap = torch.full((50257,), -1, dtype=torch.long)
    remap[used_ids] = torch.arange(len(used_ids))
    corr = torch.zeros(len(used_ids) + args.neg_samples)
    corr[len(used_ids):] = math.log(len(rest_ids) / args.neg_samples)
    proposal = torch.from_numpy((counts + 1.0) ** 0.75).float()
    if args.softmax == "corpus":
        print(f"sampled softmax: {len(used_ids)} training ids + {args.neg_samples} of "
              f"{len(rest_ids)} other ids per step")
    else:
        print(f"sampled softmax: the batch's target ids + {args.neg_samples} ids drawn from "
              "unigram^0.75 per step")

    budget = args.minutes * 60.0
    total_steps = args.est_steps or args.steps
    log = []
    t0 = time.time()
    step = 0
    ema = None
    while True:
        if args.steps and step >= args.steps:
            break
        if not args.steps and time.time() - t0 >= budget:
            break
        if not total_steps and step == 20:
            # measure speed, then fix the schedule length for the time budget
            per = (time.time() - t0) / 20
            total_steps = max(int(budget / per * 0.97), step + 1)
            print(f"{per:.3f} s/step -> schedule of {total_steps} steps")
        T = total_steps or 10**9
        if step < args.warmup:
            lr = args.lr * (step + 1) / args.warmup
        else:
            prog = min(1.0, (step - args.warmup) / max(1, T - args.warmup))
            lr = args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * prog)))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batch()
        if args.softmax == "corpus":
            # Sampled softmax: exact logits for every id of the training text, plus
            # --neg-samples ids drawn uniformly from the rest of the 50257-token vocabulary
            # with the importance correction log(n_rest / k), so the partition function is
            # an unbiased estimate of the full one (about 3x cheaper than the full softmax
            # on one CPU thread; the validation loss below uses the full vocabulary).
            neg = rest_ids[torch.randint(0, len(rest_ids), (args.neg_samples,), generator=gen)]
            cols = torch.cat([used_ids, neg])
            h = model.transformer(x).last_hidden_state
            logits = h @ model.transformer.wte.weight[cols].T + corr
            tgt = remap[y]
        else:  # "batch": exact logits for this batch's targets only, the rest sampled
            # from a smoothed unigram^0.75 proposal q (renormalised over the ids that are
            # not targets of this batch) with the correction -log(k q(j)); about 8x cheaper.
            tg, tgt = torch.unique(y, return_inverse=True)
            qb = proposal.clone()
            qb[tg] = 0
            qb /= qb.sum()
            neg = torch.multinomial(qb, args.neg_samples, replacement=True, generator=gen)
            cols = torch.cat([tg, neg])
            c = torch.zeros(len(cols))
            c[len(tg):] = -torch.log(args.neg_samples * qb[neg])
            h = model.transformer(x).last_hidden_state
            logits = h @ model.transformer.wte.weight[cols].T + c
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)),
                                                 tgt.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        lv = loss.item()
        ema = lv if ema is None else 0.95 * ema + 0.05 * lv
        if step % 25 == 0 or step == 1:
            log.append((step, lv, ema, time.time() - t0))
            print(f"step {step:5d}  loss {lv:.4f}  ema {ema:.4f}  lr {lr:.2e}  "
                  f"{time.time() - t0:6.0f}s", flush=True)
        if total_steps and step >= total_steps and not args.steps:
            break
    train_time = time.time() - t0
    vl = val_loss()
    print(f"trained {step} steps in {train_time:.0f}s; final train loss (ema) {ema:.4f}; "
          f"validation loss {vl:.4f} (unigram baseline {unigram_loss:.4f})")

    # ---- save fp16 in the HF layout, with the tokenizer files
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for f in out.glob("*"):
        if f.is_file():
            f.unlink()
    model.eval()
    model.half().save_pretrained(out, safe_serialization=True)
    for f in ("vocab.json", "merges.txt"):
        shutil.copyfile(REPO / "weights" / "gpt2" / f, out / f)
    if (out / "generation_config.json").exists():
        (out / "generation_config.json").unlink()
    with safe_open(str(out / "model.safetensors"), "pt") as sf:
        names = list(sf.keys())
        dtypes = {str(sf.get_tensor(k).dtype) for k in names}
    assert all(k.startswith("transformer.") for k in names), names
    assert "lm_head.weight" not in names
    assert dtypes == {"torch.float16"}, dtypes
    size = (out / "model.safetensors").stat().st_size
    print(f"wrote {out}: model.safetensors {size} bytes, {len(names)} tensors")
    assert size <= 12 * 1000 * 1000, size

    # ---- reload as the engine's reference does, and measure attention
    ref, info = GPT2Model.from_pretrained(out, attn_implementation="eager", dtype=torch.float32,
                                          output_loading_info=True)
    print(f"reload: missing {info['missing_keys']} unexpected {info['unexpected_keys']}")
    assert not info["missing_keys"], info
    ref.eval()
    lm = GPT2LMHeadModel.from_pretrained(out, dtype=torch.float32).eval()
    model = lm
    vl16 = val_loss()
    print(f"validation loss of the saved fp16 weights: {vl16:.4f}")
    reports = []
    summary = {"steps": step, "train_seconds": round(train_time), "final_train_loss_ema": ema,
               "val_loss": vl, "val_loss_fp16": vl16, "unigram_val_loss": unigram_loss,
               "tokens_total": int(n), "tokens_train": int(len(train)),
               "model_bytes": size, "log": log, "args": vars(args), "attention": {}}
    for name, text in (("seed", SEED_SENTENCE), ("held_out", HELD_OUT_SENTENCE)):
        st, _ = attention_stats(ref, tok, text)
        summary["attention"][name] = st
        reports.append(format_stats(name, st))
    print("\n".join(reports))
    with torch.no_grad():
        g = lm.generate(torch.tensor([tok("It is a truth universally")["input_ids"]]),
                        max_new_tokens=30, do_sample=False)
    sample = tok.decode(g[0])
    print("greedy sample:", repr(sample))
    summary["greedy_sample"] = sample
    Path(args.summary).write_text(json.dumps(summary, indent=1))
    print(f"summary: {args.summary}")


if __name__ == "__main__":
    main()

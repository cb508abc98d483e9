#!/usr/bin/env python3
"""Writes the data subsets the GPU check needs into one folder (the payload script packs it as data.tar.xz).

    python3 build/gpu/make_data.py DATASETS OUT [--fm-train N] [--cifar-train N] [--cifar-test N]

DATASETS is the shared datasets folder (fashion-mnist/*.gz, cifar-10/cifar-10-jpeg.tar.gz). OUT receives
  fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte  the first N training images of the official file (the
                                                             same order, so a prefix) and the whole official test set
  cifar-10/{train,test}/<class>/NNNN.jpg                      the first N (M) files of every class, by file name
Everything is deterministic: the same arguments give the same files, here and in the CPU reference runs.
"""
import argparse, gzip, os, struct, tarfile


def idx_prefix(source, target, count):
    with gzip.open(source, "rb") as f:
        data = f.read()
    magic, total = struct.unpack(">II", data[:8])
    dims = magic & 0xFF
    header = 4 + 4 * dims
    shape = struct.unpack(">" + "I" * dims, data[4:header])
    record = 1
    for d in shape[1:]:
        record *= d
    count = total if count is None else min(count, total)
    with open(target, "wb") as f:
        f.write(struct.pack(">II", magic, count) + data[8:header])
        f.write(data[header:header + count * record])
    return count


def main():
    p = argparse.ArgumentParser()
    p.add_argument("datasets")
    p.add_argument("out")
    p.add_argument("--fm-train", type=int, default=20000)
    p.add_argument("--cifar-train", type=int, default=1500, help="images per class")
    p.add_argument("--cifar-test", type=int, default=300, help="images per class")
    a = p.parse_args()

    fm = os.path.join(a.out, "fashion-mnist")
    os.makedirs(fm, exist_ok=True)
    src = os.path.join(a.datasets, "fashion-mnist")
    for split, n in (("train", a.fm_train), ("t10k", None)):
        for kind in ("images-idx3", "labels-idx1"):
            got = idx_prefix(os.path.join(src, f"{split}-{kind}-ubyte.gz"), os.path.join(fm, f"{split}-{kind}-ubyte"), n)
        print(f"fashion-mnist {split}: {got} images")

    per_class = {"train": a.cifar_train, "test": a.cifar_test}
    chosen = {}
    with tarfile.open(os.path.join(a.datasets, "cifar-10", "cifar-10-jpeg.tar.gz")) as t:
        members = sorted((m for m in t if m.isfile() and m.name.endswith(".jpg")), key=lambda m: m.name)
        for m in members:
            split, cls, _ = m.name.split("/")[-3:]
            taken = chosen.setdefault((split, cls), 0)
            if split in per_class and taken < per_class[split]:
                folder = os.path.join(a.out, "cifar-10", split, cls)
                os.makedirs(folder, exist_ok=True)
                with open(os.path.join(folder, os.path.basename(m.name)), "wb") as f:
                    f.write(t.extractfile(m).read())
                chosen[(split, cls)] = taken + 1
    for split in ("train", "test"):
        print(f"cifar-10 {split}: {sum(v for (s, _), v in chosen.items() if s == split)} images")


if __name__ == "__main__":
    main()

"""Importing field submissions into the Incoming queue: time and peak memory for N synthetic submissions with
photos, against the cost of cleaning the photos alone (the part no import can skip), timed in the same run.

    python bench/submissions_import.py [--n 1000] [--photo 1600x1200] [--photos-per 1]

A synthetic ODK Central export zip (tests/submission_exports.py layout) of N submissions, each with
``--photos-per`` JPEGs of ``--photo`` pixels carrying EXIF GPS, is imported into a fresh copy of the demo.
Printed: import seconds (and per submission), the baseline (``layers.photos.clean_photo`` over the same
photos, in a plain loop), their ratio, ``queue()`` with candidate places, ``accept_batch`` of every submission
as one undo step, ``check_workspace`` after it, and the peak RSS after each stage
(``check_workspace`` hashes every photo row in layers.history_store's 20,000-row chunks).
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _photo(size: tuple[int, int]) -> bytes:
    """A phone-like JPEG (noise over a gradient: it compresses like a photo) with EXIF GPS."""
    import io

    import numpy as np
    from PIL import Image

    w, h = size
    rng = np.random.default_rng(1)
    gradient = np.linspace(0, 200, w, dtype=np.float32)[None, :, None] + np.zeros((h, 1, 3), np.float32)
    pixels = np.clip(gradient + rng.normal(0, 25, (h, w, 3)), 0, 255).astype("uint8")
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (56.0, 57.0, 1.5), 3: "E", 4: (24.0, 6.0, 2.5)})
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def _rss() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--photo", default="1600x1200")
    parser.add_argument("--photos-per", type=int, default=1)
    args = parser.parse_args()
    size = tuple(int(x) for x in args.photo.split("x"))

    from audit import submissions
    from audit.check import check_workspace
    from audit.commands import History
    from audit.demo import build_demo
    from layers.photos import clean_photo
    from layers.workspace import Workspace
    from tests.submission_exports import Sub, write_odk_zip

    folder = Path(tempfile.mkdtemp(prefix="lantern-bench-submissions-"))
    build_demo(folder / "demo.gpkg").close()
    with Workspace.open(folder / "demo.gpkg") as ws:
        points = list(ws.read_layer("worksites").geometry.representative_point())
    photo = _photo(size)
    subs, media = [], {}
    for i in range(args.n):
        names = [f"{i:05d}-{k}.jpg" for k in range(args.photos_per)]
        media.update({n: photo for n in names})
        p = points[i % len(points)]
        subs.append(Sub(f"5a1e0000-0000-4000-8000-{i:012d}", photos=names[:3], extra_photos=names[3:],
                        lat=p.y + 0.0002, lon=p.x, place="new", place_type="workplace"))
    export = write_odk_zip(folder / "odk.zip", subs, media)
    print(f"{args.n:,} submissions, {len(media):,} photos of {size[0]}x{size[1]} ({len(photo) / 1e3:.0f} kB each); "
          f"export {export.stat().st_size / 1e6:.1f} MB")

    t = time.perf_counter()
    for _ in range(len(media)):
        clean_photo(photo)
    baseline = time.perf_counter() - t

    with Workspace.open(folder / "demo.gpkg") as ws:
        t = time.perf_counter()
        report = submissions.import_submissions(ws, export, author="bench")
        imported = time.perf_counter() - t
        rss_import = _rss()
        t = time.perf_counter()
        items = submissions.queue(ws)
        queued = time.perf_counter() - t
        t = time.perf_counter()
        History(ws, "bench").do(submissions.accept_batch(ws, report.ids, "bench"))
        accepted = time.perf_counter() - t
    t = time.perf_counter()
    rss_review = _rss()
    ok = check_workspace(folder / "demo.gpkg").ok
    checked = time.perf_counter() - t
    print(f"import: {imported:.2f} s ({imported / args.n * 1e3:.1f} ms per submission), {report.added} added, "
          f"{report.photos} photos")
    print(f"baseline, clean_photo alone over the same photos: {baseline:.2f} s; import / baseline = "
          f"{imported / baseline:.2f}")
    print(f"queue() with candidates: {queued:.2f} s ({sum(1 for i in items if i.candidate)} with a candidate)")
    print(f"accept_batch of all, one undo step: {accepted:.2f} s; check afterwards: {checked:.2f} s, ok={ok}")
    print(f"workspace {(folder / 'demo.gpkg').stat().st_size / 1e6:.1f} MB; "
          f"peak RSS after import {rss_import:.0f} MB, after queue and accept {rss_review:.0f} MB, "
          f"after the check {_rss():.0f} MB")


if __name__ == "__main__":
    main()

"""Photos from the field, cleaned before they are stored: pixels only, no metadata.

A phone writes EXIF (GPS position, device, time), XMP, ICC profiles and comments into a photo. The pixels
are decoded with Pillow and written into a *new* image (``Image.frombytes``), so nothing of the original
file's ``info`` — EXIF, XMP, ICC, comments, PNG text chunks — can reach the stored copy, whatever Pillow
would otherwise carry over on save. The EXIF orientation is applied to the pixels first, so the photo is
not shown on its side once the tag is gone.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".gif", ".tif", ".tiff")


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    mime: str


def is_photo_name(value) -> bool:
    return isinstance(value, str) and value.strip().lower().endswith(PHOTO_SUFFIXES)


def clean_photo(data: bytes) -> CleanPhoto:
    """The photo re-encoded without any metadata (JPEG stays JPEG, anything else becomes PNG).

    Raises ValueError when Pillow cannot read it (a format it does not know, a truncated file, or a
    decompression bomb).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt = im.format
            im = ImageOps.exif_transpose(im)
            is_jpeg = fmt == "JPEG"
            mode = ("L" if im.mode in ("L", "1") else "RGB") if is_jpeg else \
                ("RGBA" if im.mode in ("RGBA", "LA", "P", "PA") else ("L" if im.mode in ("L", "1") else "RGB"))
            pixels = im.convert(mode)
            bare = Image.frombytes(mode, pixels.size, pixels.tobytes())  # a new image: empty info, no metadata
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from exc
    out = io.BytesIO()
    if is_jpeg:
        bare.save(out, "JPEG", quality=88, optimize=True)
        return CleanPhoto(out.getvalue(), "image/jpeg")
    bare.save(out, "PNG", optimize=False)
    return CleanPhoto(out.getvalue(), "image/png")

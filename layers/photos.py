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


#: a photo larger than this is refused unread (a decompression bomb: a small file of huge pixel dimensions)
MAX_PIXELS = 100_000_000
#: the stored photo's longer side at most (pixels): a reviewer's screen needs no more, and a phone's 50
#: megapixels would make every copy of the workspace heavy
MAX_SIDE = 4096


def clean_photo(data: bytes) -> CleanPhoto:
    """The photo re-encoded without any metadata (JPEG stays JPEG, anything else becomes PNG), its longer side
    reduced to MAX_SIDE.

    Raises ValueError when Pillow cannot read it (a format it does not know, a truncated file) or when it has
    more than MAX_PIXELS pixels; the pixels are never decoded then.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise ValueError(f"{width} × {height} px")
            fmt = im.format
            if fmt == "JPEG":
                im.draft("RGB" if im.mode not in ("L", "1") else "L", (MAX_SIDE, MAX_SIDE))  # decoded reduced
            im = ImageOps.exif_transpose(im)
            is_jpeg = fmt == "JPEG"
            mode = ("L" if im.mode in ("L", "1") else "RGB") if is_jpeg else \
                ("RGBA" if im.mode in ("RGBA", "LA", "P", "PA") else ("L" if im.mode in ("L", "1") else "RGB"))
            pixels = im.convert(mode)
            if max(pixels.size) > MAX_SIDE:
                pixels.thumbnail((MAX_SIDE, MAX_SIDE))
            bare = Image.frombytes(mode, pixels.size, pixels.tobytes())  # a new image: empty info, no metadata
    except UnidentifiedImageError as exc:
        raise ValueError("not an image format Pillow reads") from exc
    except (OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from exc
    out = io.BytesIO()
    if is_jpeg:
        bare.save(out, "JPEG", quality=88, optimize=True)
        return CleanPhoto(out.getvalue(), "image/jpeg")
    bare.save(out, "PNG", optimize=False)
    return CleanPhoto(out.getvalue(), "image/png")

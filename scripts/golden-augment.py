# Golden outputs of Pillow's ImageOps / ImageEnhance / transform ops for test/augment/pil-golden.test.ts (run: python3 scripts/golden-augment.py).
# Inputs are generated here (seeded) and stored with the outputs as base64 bytes (planar CHW levels).
import base64, json, random, sys
import PIL
from PIL import Image, ImageEnhance, ImageOps

rng = random.Random(0)

def make(mode, w, h):
    bands = 3 if mode == "RGB" else 1
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    planes = []
    for b in range(bands):
        lo, hi = rng.randint(0, 60), rng.randint(150, 255)
        px = []
        for y in range(h):
            for x in range(w):
                d = ((x - cx) ** 2 + (y - cy) ** 2) ** 0.5 / max(w, h)
                v = int(hi - (hi - lo) * min(1.0, 1.5 * d)) + rng.randint(-12, 12)
                px.append(max(0, min(255, v)))
        planes.append(px)
    if mode == "L":
        im = Image.new("L", (w, h)); im.putdata(planes[0])
    else:
        im = Image.merge("RGB", [Image.new("L", (w, h)) for _ in range(3)])
        chans = []
        for p in planes:
            c = Image.new("L", (w, h)); c.putdata(p); chans.append(c)
        im = Image.merge("RGB", chans)
    return im

def planar(im):
    out = bytearray()
    for band in im.split():
        out += bytes(band.getdata())
    return base64.b64encode(bytes(out)).decode()

images = [make("RGB", 20, 20), make("L", 20, 20), make("RGB", 15, 11), make("L", 28, 28)]
ops = []
def add(name, param, fn):
    ops.append((name, param, fn))

add("autoContrast", None, lambda im: ImageOps.autocontrast(im))
add("equalize", None, lambda im: ImageOps.equalize(im))
for b in [4, 5, 6, 7, 8]:
    add("posterize", b, lambda im, b=b: ImageOps.posterize(im, b))
for t in [0, 77.5, 128, 200.3, 256]:
    add("solarize", t, lambda im, t=t: ImageOps.solarize(im, t))
for f in [0.05, 0.37, 0.95]:
    add("color", f, lambda im, f=f: ImageEnhance.Color(im).enhance(f))
    add("contrast", f, lambda im, f=f: ImageEnhance.Contrast(im).enhance(f))
    add("brightness", f, lambda im, f=f: ImageEnhance.Brightness(im).enhance(f))
    add("sharpness", f, lambda im, f=f: ImageEnhance.Sharpness(im).enhance(f))
for a in [-30, -12.5, 7, 29.9, 90, -90, 180]:
    add("rotate", a, lambda im, a=a: im.rotate(a))
for v in [-0.3, 0.17]:
    add("shearX", v, lambda im, v=v: im.transform(im.size, Image.AFFINE, (1, v, 0, 0, 1, 0)))
    add("shearY", v, lambda im, v=v: im.transform(im.size, Image.AFFINE, (1, 0, 0, v, 1, 0)))
for v in [-5.4, 3.2]:
    add("translateX", v, lambda im, v=v: im.transform(im.size, Image.AFFINE, (1, 0, v, 0, 1, 0)))
    add("translateY", v, lambda im, v=v: im.transform(im.size, Image.AFFINE, (1, 0, 0, 0, 1, v)))

out = {
    "generator": "scripts/golden-augment.py",
    "pillow": PIL.__version__,
    "images": [{"channels": len(im.getbands()), "width": im.size[0], "height": im.size[1], "data": planar(im)} for im in images],
    "cases": [{"op": n, "param": p, "outputs": [planar(fn(im)) for im in images]} for (n, p, fn) in ops],
}
json.dump(out, open(sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/golden/augment-pil.json", "w"))

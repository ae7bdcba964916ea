"""Independent reading of one heatmap figure mims-train wrote (slice-NNN.svg and the PNG drawn from it).

Usage: heatmap_figure.py PNG SVG

Parses the SVG with Python's XML parser, decodes its embedded data-URI image with base64 and Pillow,
decodes the PNG with Pillow, and prints JSON:
  png_size, svg_size, embedded_size: (width, height) of each;
  embedded: the embedded image's pixels as a list of RGB triples (row-major);
  bar: for the colour bar's lowest and highest step, the PNG's colour at the step's centre and
       jet at the step's middle value by the closed form min(1, max(0, 1.5 - |4v - c|)), c = 3, 2, 1;
  caption: the SVG's first text; lesions: the lesion rectangles [x, y, width, height];
  outlined: per lesion rectangle, whether the PNG is magenta (255, 0, 255) at the middle of its
            four edges.
"""
import base64
import io
import json
import sys
import xml.etree.ElementTree as E

from PIL import Image

NS = "{http://www.w3.org/2000/svg}"
png = Image.open(sys.argv[1]).convert("RGB")
svg = E.parse(sys.argv[2]).getroot()
image = svg.find(NS + "image")
href = image.get("href")
assert href.startswith("data:image/png;base64,")
embedded = Image.open(io.BytesIO(base64.b64decode(href.split(",", 1)[1]))).convert("RGB")
scale = png.size[0] / float(svg.get("width"))


def jet(v):
    c = lambda x: min(1.0, max(0.0, x))
    return [round(255 * c(1.5 - abs(4 * v - k))) for k in (3, 2, 1)]


def at(x, y):
    return list(png.getpixel((min(png.size[0] - 1, int(x * scale)), min(png.size[1] - 1, int(y * scale)))))


bar_group = next(g for g in svg.iter(NS + "g") if g.get("class") == "colorbar")
steps = [r for r in bar_group.findall(NS + "rect") if r.get("fill") != "none"]
bar = []
for k in (0, len(steps) - 1):
    r = steps[k]
    x, y, w, h = (float(r.get(a)) for a in ("x", "y", "width", "height"))
    bar.append({"png": at(x + w / 2, y + h / 2 - 0.25), "jet": jet((k + 0.5) / len(steps))})
lesions, outlined = [], []
for r in svg.iter(NS + "rect"):
    if r.get("class") == "lesion":
        x, y, w, h = (float(r.get(k)) for k in ("x", "y", "width", "height"))
        lesions.append([x, y, w, h])
        edges = [(x + w / 2, y), (x + w / 2, y + h), (x, y + h / 2), (x + w, y + h / 2)]
        outlined.append(all(at(ex, ey) == [255, 0, 255] for ex, ey in edges))
print(json.dumps({
    "png_size": png.size, "svg_size": [float(svg.get("width")), float(svg.get("height"))], "embedded_size": embedded.size,
    "embedded": [list(p) for p in embedded.getdata()], "bar": bar,
    "caption": svg.findall(NS + "text")[0].text, "lesions": lesions, "outlined": outlined,
}))

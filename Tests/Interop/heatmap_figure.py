"""Independent reading of one heatmap figure mims-train wrote (slice-NNN.png and slice-NNN.svg).

Usage: heatmap_figure.py PNG SVG PANEL_WIDTH HEIGHT

Decodes the PNG with Pillow, parses the SVG with Python's XML parser, decodes the SVG's embedded
data-URI image with base64 and Pillow, and prints JSON:
  png_size, embedded_size: (width, height) of each;
  panels_equal: the PNG's two panels (its left 2*PANEL_WIDTH columns) equal the embedded image;
  bar: the PNG's colour-bar strip (the first column right of the panels that is not white) at its top
       and bottom rows, and jet(1), jet(0) by the closed form min(1, max(0, 1.5 - |4v - c|)), c = 3, 2, 1;
  caption: the SVG's first text; lesions: the SVG's lesion rectangles [x, y, width, height];
  magenta: for each lesion rectangle of the left panel, in frame pixels, whether the PNG is magenta
           (255, 0, 255) at its four corners in both panels.
"""
import base64
import io
import json
import sys
import xml.etree.ElementTree as E

from PIL import Image

NS = "{http://www.w3.org/2000/svg}"
png_path, svg_path, panel, height = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
png = Image.open(png_path).convert("RGB")
svg = E.parse(svg_path).getroot()
image = svg.find(NS + "image")
href = image.get("href")
assert href.startswith("data:image/png;base64,")
embedded = Image.open(io.BytesIO(base64.b64decode(href.split(",", 1)[1]))).convert("RGB")
panels = png.crop((0, 0, 2 * panel, height))


def jet(v):
    c = lambda x: min(1.0, max(0.0, x))
    return [round(255 * c(1.5 - abs(4 * v - k))) for k in (3, 2, 1)]


bar_x = next(x for x in range(2 * panel, png.size[0]) if png.getpixel((x, height // 2)) != (255, 255, 255))
scale = float(image.get("width")) / (2 * panel)
top = float(image.get("y"))
lesions, magenta = [], []
for r in svg.iter(NS + "rect"):
    if r.get("class") == "lesion":
        box = [float(r.get(k)) for k in ("x", "y", "width", "height")]
        lesions.append(box)
        if box[0] / scale < panel:
            x0, y0 = round(box[0] / scale), round((box[1] - top) / scale)
            x1, y1 = x0 + round(box[2] / scale) - 1, y0 + round(box[3] / scale) - 1
            corners = [(x, y) for x in (x0, x1) for y in (y0, y1)]
            magenta.append(all(png.getpixel((x + off, y)) == (255, 0, 255) for x, y in corners for off in (0, panel)))
print(json.dumps({
    "png_size": png.size, "embedded_size": embedded.size,
    "panels_equal": list(panels.getdata()) == list(embedded.getdata()),
    "bar": {"top": list(png.getpixel((bar_x, 0))), "bottom": list(png.getpixel((bar_x, height - 1))), "jet1": jet(1.0), "jet0": jet(0.0)},
    "caption": svg.findall(NS + "text")[0].text, "lesions": lesions, "magenta": magenta,
}))

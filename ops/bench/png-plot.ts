/**
 * A PNG line plot without a dependency: an RGB raster with lines, rectangles and a 5×7 bitmap font,
 * encoded with node:zlib (PNG is a signature, an IHDR, zlib-deflated scanlines in IDAT and an IEND,
 * each chunk CRC-32'd — zlib.crc32). bench:e2e draws latency over time for a chaos run with it.
 */
import zlib from 'node:zlib';

export type Rgb = readonly [number, number, number];

const crc32 = (data: Buffer): number => (zlib as unknown as { crc32(data: Buffer): number }).crc32(data);

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** 8-bit truecolour PNG of `width` × `height` RGB pixels (row-major). */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    rows[y * (width * 3 + 1)] = 0; // filter: none
    rows.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// 5×7 glyphs, one string per row, '#' = ink (upper case, digits, a little punctuation)
const GLYPHS: Record<string, string> = {
  A: '.###.#...##...#######...##...##...#',
  B: '####.#...#####.#...##...##...#####.',
  C: '.#####....#....#....#....#.....####',
  D: '####.#...##...##...##...##...#####.',
  E: '######....####.#....#....#....#####',
  F: '######....####.#....#....#....#....',
  G: '.#####....#....#.####...##...#.###.',
  H: '#...##...#######...##...##...##...#',
  I: '.###...#....#....#....#....#...###.',
  J: '..###...#....#....#....#.#..#..##..',
  K: '#...##..#.###..#.#..#..#.#...##...#',
  L: '#....#....#....#....#....#....#####',
  M: '#...###.###.#.##...##...##...##...#',
  N: '#...###..##.#.##..###...##...##...#',
  O: '.###.#...##...##...##...##...#.###.',
  P: '####.#...##...#####.#....#....#....',
  Q: '.###.#...##...##...##.#.##..#..##.#',
  R: '####.#...##...#####.#.#..#..#.#...#',
  S: '.#####....#.....###.....#....#####.',
  T: '#####..#....#....#....#....#....#..',
  U: '#...##...##...##...##...##...#.###.',
  V: '#...##...##...##...##...#.#.#...#..',
  W: '#...##...##...##.#.##.#.##.#.#.#.#.',
  X: '#...##...#.#.#...#...#.#.#...##...#',
  Y: '#...##...#.#.#...#....#....#....#..',
  Z: '#####....#...#...#...#...#....#####',
  '0': '.###.#...##..###.#.###..##...#.###.',
  '1': '..#...##....#....#....#....#...###.',
  '2': '.###.#...#....#...#...#...#...#####',
  '3': '#####...#...#...###.....##...#.###.',
  '4': '...#...##..#.#.#..#.#####...#....#.',
  '5': '######....####.....#....##...#.###.',
  '6': '..##..#...#....####.#...##...#.###.',
  '7': '#####....#...#...#...#....#....#...',
  '8': '.###.#...##...#.###.#...##...#.###.',
  '9': '.###.#...##...#.####....#...#..##..',
  ' ': '...................................',
  '.': '..........................##...##..',
  ':': '......##...##........##...##.......',
  '/': '.....#...#...#...#...#.............',
  '-': '...............#####...............',
  '=': '..........#####.....#####..........',
  ',': '.....................##....#...#...',
  '(': '...#...#...#....#....#.....#.....#.',
  ')': '.#.....#.....#....#....#...#...#...',
  '>': '.#.....#.....#...#...#...#.........',
  '%': '##...##..#...#...#...#...#..##...##',
  '×': '.....#...#.#.#...#...#.#.#...#.....',
  _: '..............................#####',
  '+': '.......#....#..#####..#....#.......',
};

export class Canvas {
  readonly pixels: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = [255, 255, 255],
  ) {
    this.pixels = new Uint8Array(width * height * 3);
    for (let index = 0; index < width * height; index++) this.pixels.set(background, index * 3);
  }

  set(x: number, y: number, color: Rgb): void {
    const px = Math.round(x);
    const py = Math.round(y);
    if (px < 0 || py < 0 || px >= this.width || py >= this.height) return;
    this.pixels.set(color, (py * this.width + px) * 3);
  }

  rect(x: number, y: number, width: number, height: number, color: Rgb): void {
    for (let dy = 0; dy < height; dy++) for (let dx = 0; dx < width; dx++) this.set(x + dx, y + dy, color);
  }

  /** a line `thickness` px wide (Bresenham, widened by a square brush) */
  line(x0: number, y0: number, x1: number, y1: number, color: Rgb, thickness = 1): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    const offset = Math.floor(thickness / 2);
    for (let step = 0; step <= steps; step++) {
      const x = x0 + ((x1 - x0) * step) / steps;
      const y = y0 + ((y1 - y0) * step) / steps;
      if (thickness <= 1) this.set(x, y, color);
      else this.rect(Math.round(x) - offset, Math.round(y) - offset, thickness, thickness, color);
    }
  }

  /** text in the 5×7 font, upper-cased, `scale` px per font pixel; returns the width drawn */
  text(x: number, y: number, text: string, color: Rgb, scale = 1): number {
    let cursor = x;
    for (const character of text.toUpperCase()) {
      const glyph = GLYPHS[character] ?? GLYPHS[' ']!;
      for (let row = 0; row < 7; row++)
        for (let column = 0; column < 5; column++)
          if (glyph[row * 5 + column] === '#') this.rect(cursor + column * scale, y + row * scale, scale, scale, color);
      cursor += 6 * scale;
    }
    return cursor - x;
  }

  png(): Buffer {
    return encodePng(this.width, this.height, this.pixels);
  }
}

export interface Series {
  readonly name: string;
  readonly color: Rgb;
  /** [x (s), y (ms)] in x order; a gap in x longer than `gapSeconds` breaks the line */
  readonly points: ReadonlyArray<readonly [number, number]>;
}

export interface Band {
  readonly from: number;
  readonly to: number;
  readonly label: string;
}

export interface LatencyPlot {
  readonly title: string;
  readonly subtitle?: string;
  readonly series: readonly Series[];
  /** shaded x ranges (outages) */
  readonly bands: readonly Band[];
  readonly xMax: number;
  readonly width?: number;
  readonly height?: number;
  readonly gapSeconds?: number;
}

/** latency (ms, log scale 0.1 ms … 100 s) over time (s) */
export function plotLatency(plot: LatencyPlot): Buffer {
  const width = plot.width ?? 1200;
  const height = plot.height ?? 560;
  const canvas = new Canvas(width, height);
  const left = 70;
  const right = width - 20;
  const top = 60;
  const bottom = height - 60;
  const [logMin, logMax] = [-1, 5];
  const xOf = (seconds: number) => left + (seconds / plot.xMax) * (right - left);
  const yOf = (ms: number) => bottom - ((Math.log10(Math.max(ms, 10 ** logMin)) - logMin) / (logMax - logMin)) * (bottom - top);
  const ink: Rgb = [40, 40, 40];
  const grid: Rgb = [225, 225, 225];
  for (const band of plot.bands) {
    canvas.rect(xOf(band.from), top, Math.max(1, xOf(band.to) - xOf(band.from)), bottom - top, [255, 228, 210]);
    canvas.text(xOf(band.from) + 3, top + 4, band.label, [170, 60, 20]);
  }
  for (let exponent = logMin; exponent <= logMax; exponent++) {
    const y = yOf(10 ** exponent);
    canvas.line(left, y, right, y, grid);
    const label =
      exponent < 0
        ? '0.1'
        : exponent < 3
          ? String(10 ** exponent)
          : `${10 ** (exponent - 3)}S`.replace('1S', '1 S').replace('10S', '10 S').replace('100S', '100 S');
    canvas.text(left - 8 - label.length * 6, y - 3, label, ink);
  }
  const xStep = plot.xMax > 120 ? 20 : 10;
  for (let seconds = 0; seconds <= plot.xMax; seconds += xStep) {
    const x = xOf(seconds);
    canvas.line(x, top, x, bottom, grid);
    canvas.text(x - String(seconds).length * 3, bottom + 8, String(seconds), ink);
  }
  canvas.line(left, top, left, bottom, ink);
  canvas.line(left, bottom, right, bottom, ink);
  canvas.text(left + (right - left) / 2 - 60, bottom + 24, 'SECONDS INTO THE RUN', ink);
  canvas.text(8, top - 16, 'MS (LOG)', ink);
  canvas.text(left, 10, plot.title, ink, 2);
  if (plot.subtitle) canvas.text(left, 32, plot.subtitle, [90, 90, 90]);
  const gap = plot.gapSeconds ?? 2;
  for (const series of plot.series) {
    let previous: readonly [number, number] | undefined;
    for (const point of series.points) {
      if (previous && point[0] - previous[0] <= gap)
        canvas.line(xOf(previous[0]), yOf(previous[1]), xOf(point[0]), yOf(point[1]), series.color, 2);
      else canvas.rect(xOf(point[0]) - 1, yOf(point[1]) - 1, 3, 3, series.color);
      previous = point;
    }
  }
  let legend = right - 10 - plot.series.reduce((sum, series) => sum + series.name.length * 6 + 30, 0);
  for (const series of plot.series) {
    canvas.rect(legend, bottom + 40, 16, 4, series.color);
    legend += 20 + canvas.text(legend + 20, bottom + 37, series.name, ink) + 10;
  }
  return canvas.png();
}

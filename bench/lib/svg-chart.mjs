// Charts as hand-written SVG (no dependency, no browser): one file per part, drawn by report.mjs from
// the `chart` a part stores in its result file. A chart is one or more panels; a panel is groups of
// bars (one group per target: a Node line, Bun, Deno); a bar is a median with a whisker over the
// range of rounds; goal lines are drawn across the panel (a fixed goal: 1.02×, +64 B, 0) or across
// one group (a goal relative to that group's fastest peer).
//
// chart = {
//   title: 'Part 1 — …',
//   note: 'one line under the title',                      (optional)
//   goalLegend: 'goal ≤ 1.02× bare',                       (the legend's words for the goal line)
//   kindNames: { control: '…' },                           (the legend's words for a kind of bar)
//   panels: [{
//     title: 'CPU per request vs bare',
//     unit: '×',                                           (appended to values)
//     digits: 3,                                           (value labels)
//     base: 1,                                             (bars grow from here; default 0)
//     goal: { value: 1.02, label: 'goal ≤ 1.02×' },        (optional, across the panel)
//     groups: [{
//       label: 'node 22.23.5',
//       goal: { value: 12.3, label: 'fastest peer' },      (optional, across this group)
//       bars: [{ label: 'quiesce', value, min, max, kind: 'quiesce' | 'bare' | 'anchor' | 'floor' | 'control' }],
//     }],
//   }],
// }

const COLORS = {
  quiesce: '#2563eb',
  bare: '#6b7280',
  anchor: '#f59e0b',
  floor: '#10b981',
  control: '#c4c9d1',
};
const KIND_NAMES = { quiesce: 'Quiesce', bare: 'bare runtime', anchor: 'anchor (another library)', floor: 'floor (exit at once)', control: 'noise control' };
const GOAL = '#dc2626';
const FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"';

const esc = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (x) => (Math.round(x * 10) / 10).toString();

/** A "nice" step for about `count` ticks over `span`. */
function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * power;
}

function format(value, digits, unit) {
  if (!Number.isFinite(value)) return '-';
  const d = Math.abs(value) >= 100 ? 0 : digits;
  return `${value.toFixed(d)}${unit}`;
}

/**
 * The panel's value range: from the base (or the lowest whisker) to the highest whisker or goal, but
 * at most 3× the median of the bars' values above the base, so one huge bar (bare Node waiting ~6 s
 * for its keep-alive timeout) does not flatten the rest: it is drawn cut, with its value.
 */
function panelRange(panel) {
  const base = panel.base ?? 0;
  const bars = panel.groups.flatMap((g) => g.bars).filter((b) => Number.isFinite(b.value));
  const highs = bars.map((b) => Math.max(b.value, Number.isFinite(b.max) ? b.max : b.value));
  const lows = bars.map((b) => Math.min(b.value, Number.isFinite(b.min) ? b.min : b.value));
  const goals = [panel.goal?.value, ...panel.groups.map((g) => g.goal?.value)].filter(Number.isFinite);
  const distances = bars.map((b) => Math.abs(b.value - base)).sort((a, b) => a - b);
  const typical = distances.length ? distances[distances.length >> 1] : 0;
  let hi = Math.max(base, ...highs, ...goals);
  let lo = Math.min(base, ...lows, ...goals);
  if (typical > 0) {
    hi = Math.min(hi, Math.max(base + 3 * typical, ...goals.map((g) => g + (g - base) * 0.25)));
    lo = Math.max(lo, Math.min(base - 3 * typical, ...goals));
  }
  if (hi === lo) hi = lo + 1;
  const step = niceStep(hi - lo, 5);
  return { lo: Math.floor(lo / step) * step, hi: Math.ceil((hi + (hi - lo) * 0.08) / step) * step, step, base };
}

const BAR = 16;
const BAR_GAP = 4;
const GROUP_GAP = 26;
const LEFT = 64;
const RIGHT = 16;
const PANEL_H = 230;
/** A group is at least this wide, so that its name (a runtime and version) fits under it. */
const GROUP_MIN = 84;
const CHAR = 5.6;

const barsWidth = (group) => group.bars.length * (BAR + BAR_GAP) - BAR_GAP;
const groupWidth = (group) => Math.max(GROUP_MIN, barsWidth(group));

function panelWidth(panel) {
  return panel.groups.reduce((w, g) => w + groupWidth(g) + GROUP_GAP, GROUP_GAP);
}

/** Room under the axis for the turned bar names (sin 55° of the longest) and the group names. */
function labelHeight(panel) {
  const longest = Math.max(4, ...panel.groups.flatMap((g) => g.bars.map((b) => String(b.label).length)));
  return Math.round(longest * CHAR * 0.82) + 34;
}

/** One panel at vertical offset `top`; returns its SVG and height. */
function drawPanel(panel, top, width) {
  const { lo, hi, step, base } = panelRange(panel);
  const unit = panel.unit ?? '';
  const digits = panel.digits ?? 1;
  const plotTop = top + 30;
  const LABEL_H = labelHeight(panel);
  const y = (v) => plotTop + PANEL_H - ((Math.min(Math.max(v, lo), hi) - lo) / (hi - lo)) * PANEL_H;
  const out = [];
  out.push(`<text x="${LEFT}" y="${top + 16}" font-size="13" font-weight="bold" ${FONT}>${esc(panel.title)}</text>`);
  if (panel.goal?.label) {
    out.push(`<text x="${width - RIGHT}" y="${top + 16}" font-size="11.5" text-anchor="end" fill="${GOAL}" ${FONT}>${esc(panel.goal.label)}</text>`);
  }
  // Grid and axis labels.
  for (let v = lo; v <= hi + step / 1000; v += step) {
    out.push(`<line x1="${LEFT}" x2="${width - RIGHT}" y1="${num(y(v))}" y2="${num(y(v))}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${LEFT - 6}" y="${num(y(v) + 4)}" font-size="10" text-anchor="end" fill="#374151" ${FONT}>${esc(format(v, step < 0.01 ? 3 : step < 0.1 ? 2 : step < 1 ? 1 : 0, unit))}</text>`);
  }
  out.push(`<line x1="${LEFT}" x2="${width - RIGHT}" y1="${num(y(base))}" y2="${num(y(base))}" stroke="#374151"/>`);
  let x = LEFT + GROUP_GAP;
  for (const group of panel.groups) {
    const slot = groupWidth(group);
    const slotStart = x;
    x += (slot - barsWidth(group)) / 2;
    const groupStart = x;
    for (const bar of group.bars) {
      const color = COLORS[bar.kind] ?? COLORS.anchor;
      if (Number.isFinite(bar.value)) {
        const cut = bar.value > hi || bar.value < lo;
        const y0 = y(base);
        const y1 = y(bar.value);
        out.push(
          `<rect x="${num(x)}" y="${num(Math.min(y0, y1))}" width="${BAR}" height="${num(Math.max(1, Math.abs(y1 - y0)))}" fill="${color}"` +
            `${bar.kind === 'floor' || bar.kind === 'control' ? ' stroke="#374151" stroke-width="0.6"' : ''}><title>${esc(`${group.label} ${bar.label}: ${format(bar.value, digits, unit)}`)}</title></rect>`,
        );
        if (cut) {
          // A cut bar: two white slashes near its end and the value printed inside the plot.
          const yc = bar.value > hi ? y(hi) + 10 : y(lo) - 10;
          out.push(`<path d="M${num(x - 2)} ${num(yc + 3)} l${BAR + 4} -6 M${num(x - 2)} ${num(yc + 7)} l${BAR + 4} -6" stroke="#fff" stroke-width="2"/>`);
        }
        if (Number.isFinite(bar.min) && Number.isFinite(bar.max) && bar.max > bar.min) {
          const cx = x + BAR / 2;
          out.push(
            `<path d="M${num(cx)} ${num(y(bar.min))} V${num(y(bar.max))} M${num(cx - 4)} ${num(y(bar.min))} h8 M${num(cx - 4)} ${num(y(bar.max))} h8" stroke="#111827" stroke-width="1.2" fill="none"/>`,
          );
        }
        if (cut) {
          // The value of a cut bar, turned, inside the bar (it would not fit above it).
          const tx = x + BAR / 2 + 3;
          const ty = bar.value > hi ? y(hi) + 22 : y(lo) - 22;
          out.push(
            `<text x="${num(tx)}" y="${num(ty)}" font-size="9" fill="${bar.kind === 'control' || bar.kind === 'anchor' ? '#111827' : '#ffffff'}" text-anchor="${bar.value > hi ? 'end' : 'start'}" transform="rotate(-90 ${num(tx)} ${num(ty)})" ${FONT}>${esc(format(bar.value, digits, unit))}</text>`,
          );
        } else {
          const labelY =
            bar.value >= base
              ? Math.min(y(bar.value), Number.isFinite(bar.max) ? y(bar.max) : Number.POSITIVE_INFINITY) - 4
              : Math.max(y(bar.value), Number.isFinite(bar.min) ? y(bar.min) : Number.NEGATIVE_INFINITY) + 11;
          out.push(
            `<text x="${num(x + BAR / 2)}" y="${num(Math.max(plotTop - 2, Math.min(plotTop + PANEL_H + 10, labelY)))}" font-size="8.5" text-anchor="middle" fill="#111827" ${FONT}>${esc(format(bar.value, digits, ''))}</text>`,
          );
        }
      } else {
        out.push(`<text x="${num(x + BAR / 2)}" y="${num(y(base) - 4)}" font-size="9" text-anchor="middle" fill="#6b7280" ${FONT}>n/a</text>`);
      }
      // The bar's name, turned, under the axis.
      const ly = plotTop + PANEL_H + 8;
      out.push(
        `<text x="${num(x + BAR / 2 + 3)}" y="${num(ly)}" font-size="9.5" text-anchor="end" transform="rotate(-55 ${num(x + BAR / 2 + 3)} ${num(ly)})"${bar.kind === 'quiesce' ? ' font-weight="bold"' : ''} fill="#111827" ${FONT}>${esc(bar.label)}</text>`,
      );
      x += BAR + BAR_GAP;
    }
    const groupEnd = x - BAR_GAP;
    const slotEnd = slotStart + slot;
    if (group.goal && Number.isFinite(group.goal.value)) {
      const gy = y(group.goal.value);
      out.push(`<line x1="${num(groupStart - 6)}" x2="${num(groupEnd + 6)}" y1="${num(gy)}" y2="${num(gy)}" stroke="${GOAL}" stroke-width="1.6" stroke-dasharray="5 3"><title>${esc(`${group.label}: ${group.goal.label} ${format(group.goal.value, digits, unit)}`)}</title></line>`);
    }
    out.push(
      `<text x="${num((slotStart + slotEnd) / 2)}" y="${num(plotTop + PANEL_H + LABEL_H - 4)}" font-size="11" font-weight="bold" text-anchor="middle" fill="#111827" ${FONT}>${esc(group.label)}</text>`,
    );
    if (group !== panel.groups.at(-1)) {
      const sx = slotEnd + GROUP_GAP / 2;
      out.push(`<line x1="${num(sx)}" x2="${num(sx)}" y1="${plotTop}" y2="${plotTop + PANEL_H + LABEL_H - 16}" stroke="#d1d5db" stroke-dasharray="2 3"/>`);
    }
    x = slotEnd + GROUP_GAP;
  }
  if (panel.goal && Number.isFinite(panel.goal.value)) {
    const gy = y(panel.goal.value);
    out.push(`<line x1="${LEFT}" x2="${width - RIGHT}" y1="${num(gy)}" y2="${num(gy)}" stroke="${GOAL}" stroke-width="1.6" stroke-dasharray="6 3"><title>${esc(panel.goal.label)}</title></line>`);
  }
  return { svg: out.join('\n'), height: 30 + PANEL_H + LABEL_H + 8 };
}

/** The SVG document of `chart` (see the top of this file). */
export function renderChart(chart) {
  const panels = chart.panels.filter((p) => p.groups.some((g) => g.bars.length > 0));
  // Wide enough for the bars and for the titles (bold 15 px ≈ 8.6 px a character, 13 px ≈ 7.6 px).
  const width = Math.ceil(
    Math.max(
      640,
      LEFT + RIGHT + Math.max(...panels.map(panelWidth), 0),
      LEFT + RIGHT + chart.title.length * 8.6,
      LEFT + RIGHT + (chart.note?.length ?? 0) * 5.8,
      ...panels.map((p) => LEFT + RIGHT + p.title.length * 7.6 + (p.goal?.label ? 24 + p.goal.label.length * 6.4 : 0)),
    ),
  );
  const parts = [];
  let top = 12;
  parts.push(`<text x="${LEFT}" y="${top + 14}" font-size="15" font-weight="bold" ${FONT}>${esc(chart.title)}</text>`);
  top += 20;
  if (chart.note) {
    parts.push(`<text x="${LEFT}" y="${top + 12}" font-size="10.5" fill="#374151" ${FONT}>${esc(chart.note)}</text>`);
    top += 16;
  }
  // Legend: the kinds that appear, the goal line, the whisker; wrapped to the chart's width.
  const kinds = Object.keys(COLORS).filter((k) => panels.some((p) => p.groups.some((g) => g.bars.some((b) => b.kind === k))));
  const items = [
    ...kinds.map((kind) => ({
      text: chart.kindNames?.[kind] ?? KIND_NAMES[kind],
      mark: (x, t) => `<rect x="${x}" y="${t}" width="11" height="11" fill="${COLORS[kind]}"${kind === 'floor' || kind === 'control' ? ' stroke="#374151" stroke-width="0.6"' : ''}/>`,
    })),
    { text: chart.goalLegend ?? 'goal', mark: (x, t) => `<line x1="${x - 4}" x2="${x + 13}" y1="${t + 6}" y2="${t + 6}" stroke="${GOAL}" stroke-width="1.6" stroke-dasharray="5 3"/>` },
    { text: 'range of rounds', mark: (x, t) => `<path d="M${x + 5} ${t} V${t + 11} M${x + 1} ${t} h8 M${x + 1} ${t + 11} h8" stroke="#111827" stroke-width="1.2"/>` },
  ];
  let lx = LEFT;
  top += 6;
  for (const item of items) {
    const w = 26 + item.text.length * 6;
    if (lx + w > width - RIGHT && lx > LEFT) {
      lx = LEFT;
      top += 16;
    }
    parts.push(item.mark(lx, top));
    parts.push(`<text x="${lx + 15}" y="${top + 10}" font-size="10.5" ${FONT}>${esc(item.text)}</text>`);
    lx += w;
  }
  top += 18;
  for (const panel of panels) {
    const { svg, height } = drawPanel(panel, top, width);
    parts.push(svg);
    top += height;
  }
  const height = top + 6;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(chart.title)}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

// A plain-text table for the terminal and the same rows as Markdown for the README.

export function formatTable(columns, rows) {
  const cells = rows.map((row) => columns.map((c) => cell(row[c.key])));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((r) => r[i].length)));
  const line = (values) => values.map((v, i) => (columns[i].align === 'left' ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  return [line(columns.map((c) => c.title)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function markdownTable(columns, rows) {
  const head = `| ${columns.map((c) => c.title).join(' | ')} |`;
  const rule = `|${columns.map((c) => (c.align === 'left' ? ' --- ' : ' ---: ')).join('|')}|`;
  return [head, rule, ...rows.map((row) => `| ${columns.map((c) => cell(row[c.key]).replace(/\|/g, '\\|')).join(' | ')} |`)].join('\n');
}

function cell(value) {
  if (value === undefined || value === null || (typeof value === 'number' && !Number.isFinite(value))) return '-';
  return String(value);
}

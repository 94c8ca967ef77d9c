// CSV made in the browser (the import's problem list): RFC 4180 quoting,
// CRLF line ends, UTF-8 with a BOM so that Excel on Japanese Windows opens it
// as UTF-8. Cells that a spreadsheet would run as a formula are defused.

const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell: a leading quote defuses formulas, then quotes when needed. */
export function csvCell(value) {
  let text = value === undefined || value === null ? '' : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  if (/[",\r\n]/.test(text)) text = `"${text.replace(/"/g, '""')}"`;
  return text;
}

/** Rows (arrays of cells) as CSV text, each row ended by CRLF. */
export function toCsv(rows) {
  return rows.map((row) => `${row.map(csvCell).join(',')}\r\n`).join('');
}

/** The same as a Blob: UTF-8 with BOM. */
export function csvBlob(rows) {
  return new Blob(['\uFEFF', toCsv(rows)], { type: 'text/csv;charset=utf-8' });
}

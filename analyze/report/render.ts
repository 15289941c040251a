/** A finished report as text, JSON or one HTML page: what `analyze`, `merge` and bundles write. */
import type { Report } from './report.js';
import { renderText } from './text.js';
import { renderHtml } from './html.js';

export type ReportFormat = 'text' | 'json' | 'html';

export function renderReport(report: Report, format: ReportFormat, text: { limit: number; color: boolean }): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'html':
      return renderHtml(report);
    case 'text':
      return renderText(report, text);
    default: {
      const never: never = format;
      throw new Error(`format ${String(never)}`);
    }
  }
}

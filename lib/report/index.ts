/**
 * `emosteer/report`: the HTML reports, one self-contained file each with inline SVG plots
 * (Vega-Lite, rendered here; the page opens offline).
 *
 * {@link renderReport} shows one run (evaluation, and the steering section when the run has
 * one); {@link renderSpecificitySection} adds a run folder's specificity matrix to it (through
 * `extraSections`); {@link renderStudyReport} compares many models and quantizations;
 * {@link renderQualitySection} shows a quality comparison of `emosteer/quality` (KL divergence
 * against bits per weight, and the table). Loads vega
 * and vega-lite: import it only where you write reports.
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * import { evaluateRun } from 'emosteer/evaluate';
 * import { renderReport } from 'emosteer/report';
 * await writeFile('report.html', await renderReport(await evaluateRun('runs/gemma')));
 * ```
 *
 * @module emosteer/report
 */
export { renderReport, type ReportSection, type ReportOptions } from './html-report.js';
export { renderStudyReport } from './study-report.js';
export { renderSpecificitySection } from './specificity-section.js';
export { renderQualitySection } from './quality-section.js';

// Reports as values (portable): mean ± std aggregation, markdown and CSV tables, self-contained HTML, AUROC; SVG plots and run folders are in iml-engine/node.

export * from './aggregate.js';
export * from './markdown.js';
export * from './csv.js';
export * from './html.js';
export * from './auroc.js';

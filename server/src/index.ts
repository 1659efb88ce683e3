// Library entry (dist/lib.js): the editor-agnostic API, used by benchmarks and scripts.
export * as model from './model/index';
export * as analysis from './analysis/index';
export { hoverAt, entityCard, cardForRef } from './features/hover';

/** Detection rules (issue 4): schema, cross-rule checks and the incremental detector. */
export * from './schema.ts';
export { ruleProblems, compositeOrder } from './problems.ts';
export { createDetector, audienceOf, type DetectorOptions, type DetectorRestore, type RuleDetector } from './detector.ts';

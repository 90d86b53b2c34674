/**
 * The local rules' evaluator: the shared `createDetector` of @kentongan/firmware-protocol, the
 * same code the server's alert engine runs, so a rule means the same on the edge and centrally.
 */
import { createDetector, type Rule } from '@kentongan/firmware-protocol';
import type { DetectorFactory } from './local-warning.ts';

export const defaultCreateDetector: DetectorFactory = (rules, snapshot) => createDetector(rules as readonly Rule[], snapshot);

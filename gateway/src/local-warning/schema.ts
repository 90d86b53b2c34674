/**
 * Config keys of the local warning: `localRules` (the shared rule definitions, validated with
 * `ruleSchema` and `ruleProblems` of @kentongan/firmware-protocol, exactly as the server does),
 * `offlineAfterMs`.
 */
import { ruleProblems, ruleSchema } from '@kentongan/firmware-protocol';
import { z } from 'zod';

/** Five minutes: long enough to ride out a 4G cell change, short for a flash flood. */
export const DEFAULT_OFFLINE_AFTER_MS = 5 * 60_000;

export const offlineAfterMsSchema = z.int().min(1000).max(7 * 24 * 3_600_000).default(DEFAULT_OFFLINE_AFTER_MS);

/** A Pi evaluates a few dozen rules; 256 bounds memory against a hostile push. */
export const localRulesSchema = z
  .array(ruleSchema)
  .max(256)
  .default([])
  .superRefine((rules, ctx) => {
    // Duplicate ids, composites naming unknown rules, level order: problems the schema cannot express.
    for (const problem of ruleProblems(rules)) ctx.addIssue({ code: 'custom', message: problem });
  });

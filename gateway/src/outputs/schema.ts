/**
 * Local outputs (siren, lamp relay) in the gateway config, key `outputs`:
 * - `gpio`: a relay on a GPIO line, driven through the kernel's sysfs GPIO interface
 *   (`/sys/class/gpio`); the gateway runs the level's on/off pattern itself;
 * - `command`: a program run once per pattern change with `{pattern}` in its arguments replaced
 *   (e.g. a siren controller's CLI, or `gpioset` from Debian's gpiod package).
 */
import { z } from 'zod';
import { ID_PATTERN } from '@kentongan/firmware-protocol';

const outputId = z.string().regex(ID_PATTERN, 'must be 1-32 letters, digits, "-" or "_"');

export const gpioOutputSchema = z.strictObject({
  id: outputId,
  kind: z.literal('gpio'),
  /** Line number as sysfs numbers it (on Raspberry Pi OS with kernel 6.6+ BCM pin + 512, see README). */
  line: z.int().min(0).max(4095),
  /** The relay closes on a low level (many relay boards). */
  activeLow: z.boolean().default(false),
  /** sysfs GPIO folder; tests point it at a temporary folder. */
  sysfsRoot: z.string().min(1).max(256).default('/sys/class/gpio'),
});

export const commandOutputSchema = z.strictObject({
  id: outputId,
  kind: z.literal('command'),
  /** Program and arguments, run without a shell; `{pattern}` in an argument becomes the pattern name. */
  argv: z.array(z.string().max(1024)).min(1).max(32),
  /** A run that takes longer is killed and counted as failed. */
  timeoutMs: z.int().min(100).max(60_000).default(5000),
});

export const outputSchema = z.discriminatedUnion('kind', [gpioOutputSchema, commandOutputSchema]);
export type OutputConfig = z.output<typeof outputSchema>;
export type GpioOutputConfig = z.output<typeof gpioOutputSchema>;
export type CommandOutputConfig = z.output<typeof commandOutputSchema>;

export const outputsSchema = z
  .array(outputSchema)
  .max(16)
  .default([])
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((o, i) => {
      if (seen.has(o.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `output id "${o.id}" is used twice` });
      seen.add(o.id);
    });
  });

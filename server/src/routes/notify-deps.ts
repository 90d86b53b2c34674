/** What the recipients, CAP and delivery routes need (passed to `buildApp` as `notify`). */
import type { CapLog } from '../cap/cap-log.ts';
import type { Outbox } from '../notify/outbox.ts';
import type { RecipientStore } from '../recipients/store.ts';

export interface NotifyDeps {
  recipients: RecipientStore;
  outbox: Outbox;
  cap: CapLog;
  /** Configured channels (id and kind). */
  channels: readonly { id: string; kind: string }[];
}

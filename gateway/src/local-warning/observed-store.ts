/**
 * The ingest store with a listener: after a frame's readings are committed (never before, so the
 * local rules see only what is on disk), they are handed to the local warning. Drivers take it
 * where they take an IngestStore.
 */
import type { Reading } from '@kentongan/firmware-protocol';
import { IngestStore, type FrameCommit } from '../queue/ingest-store.ts';

export class ObservedIngestStore extends IngestStore {
  private listener: ((readings: readonly Reading[]) => void) | undefined;

  /** Sets the one listener (the local warning). */
  observe(listener: (readings: readonly Reading[]) => void): void {
    this.listener = listener;
  }

  override commit(c: FrameCommit): void {
    super.commit(c);
    if (c.readings.length > 0) this.listener?.(c.readings);
  }
}

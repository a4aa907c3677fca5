import "server-only";
import { sanitizeDbError } from "@/lib/db/client";
import { logger } from "@/lib/log";

/**
 * A download streamed from keyset batches: pull-based, so a slow client holds back the database instead of
 * filling memory. A failure mid-stream is logged (database message only: drivers put bound parameters into
 * theirs) and ends the file with `failureLine`, so a truncated export never looks complete. Cancelling the
 * download stops the batch iterator.
 */
export function streamBatches<T>(opts: {
  batches: AsyncGenerator<T[], unknown, unknown>;
  encode: (rows: T[]) => string;
  header?: string;
  failureLine: string;
  /** For the log line, e.g. "inventory export". */
  what: string;
}): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let headerSent = opts.header === undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(opts.header!));
        return;
      }
      try {
        const next = await opts.batches.next();
        if (next.done) {
          controller.close();
          return;
        }
        controller.enqueue(encoder.encode(opts.encode(next.value)));
      } catch (err) {
        logger.error({ err: sanitizeDbError(err).message }, `${opts.what} failed mid-stream`);
        controller.enqueue(encoder.encode(opts.failureLine));
        controller.close();
      }
    },
    async cancel() {
      await opts.batches.return(undefined);
    },
  });
}

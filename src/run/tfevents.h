/* hops — TensorBoard event files (private to the library).
 *
 * A writer appends scalar summaries to DIR/events.out.tfevents.<secs>.<host>
 * in the format TensorBoard reads: TFRecord framing (uint64 LE length,
 * masked CRC-32C of the length, the data, masked CRC-32C of the data) around
 * hand-encoded tensorflow.Event protobufs. No protobuf library is needed.
 *
 * Records are buffered in memory and written with write(2) when the buffer
 * fills (64 KiB), on hops__tfevents_flush and on hops__tfevents_close; there
 * is no fsync, so a killed process loses at most its unflushed records, and
 * a reader sees at worst a truncated last record, which TensorBoard tolerates.
 *
 * A writer is not thread-safe; one thread at a time.
 */
#ifndef HOPS_RUN_TFEVENTS_H
#define HOPS_RUN_TFEVENTS_H

#include "core/core.h"   /* hops_status, hops__error(status, fmt, ...) which sets the thread-local error message and returns status */

typedef struct hops_tfevents hops_tfevents;

#define HOPS_TFEVENTS_MAX_TAG 65535   /* longest tag, in bytes */

/* hops__tfevents_open: <unix seconds> is zero-padded to 10 digits, as
 * TensorFlow does. The file is created with O_EXCL, never truncating another
 * writer's file: when the name is taken (two writers in one directory within
 * a second), ".1", ".2", ... is appended (TensorBoard reads any file whose
 * name contains "tfevents"). The first record is written to the file before
 * this returns, so the file is a valid event file from the start.
 * Returns HOPS_OK, HOPS_EINVAL (NULL, empty or too long DIR), HOPS_ENOMEM,
 * or HOPS_EIO (directory or file cannot be created or written); on error
 * *out is NULL and nothing is left behind but the directories it created. */
/* Create DIR if needed and a new file DIR/events.out.tfevents.<unix seconds>.<hostname>; write the first record, an Event with wall_time and file_version "brain.Event:2". Caller owns *out. */
hops_status hops__tfevents_open(hops_tfevents **out, const char *dir);

/* hops__tfevents_scalar: TAG must be non-NULL, valid UTF-8 (protobuf readers
 * reject anything else in a string field) and at most HOPS_TFEVENTS_MAX_TAG
 * bytes long; it is copied. Any STEP is fine (negative steps encode as
 * 10-byte varints, a step of 0 is left out as proto3 does); VALUE may be NaN
 * or infinite. Touches the file only when the buffer is full.
 * Returns HOPS_OK, HOPS_EINVAL (bad TAG; nothing appended), HOPS_ENOMEM, or
 * HOPS_EIO (the writer is broken, see hops__tfevents_flush). */
/* Append one Event {wall_time, step, summary{value{tag, simple_value}}}. Buffered. */
hops_status hops__tfevents_scalar(hops_tfevents *w, const char *tag, int64_t step, double wall_time, float value);

/* hops__tfevents_flush: HOPS_OK, or HOPS_EIO "cannot write '<path>':
 * <strerror>". A write error is sticky: the file may now end in a partial
 * record, so the buffered records are dropped and every later scalar or flush
 * on this writer returns HOPS_EIO with the same message. Close it and open a
 * new one to go on logging.
 * hops__tfevents_close: the final flush's error is lost; call
 * hops__tfevents_flush first to see it.
 * hops__tfevents_path: "DIR/events.out.tfevents...", valid until close. */
hops_status hops__tfevents_flush(hops_tfevents *w);   /* write buffered records to the file (write(2)); no fsync */
void hops__tfevents_close(hops_tfevents *w);          /* flush, close, free; NULL is fine */
const char *hops__tfevents_path(const hops_tfevents *w);  /* borrowed */

/* CRC-32C: reflected polynomial 0x82F63B78, initial value and final xor
 * 0xFFFFFFFF, so "123456789" gives 0xE3069283. DATA may be NULL when N is 0.
 * The masked form is what TFRecord framing stores. */
uint32_t hops__crc32c(const void *data, size_t n);    /* CRC-32C (Castagnoli), table driven */
uint32_t hops__crc32c_masked(const void *data, size_t n); /* ((crc >> 15) | (crc << 17)) + 0xa282ead8 */

#endif

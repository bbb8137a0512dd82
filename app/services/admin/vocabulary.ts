/**
 * Closed vocabularies shared by the admin's services (validation) and pages (select options).
 * Not `*.server.ts`: the browser bundle needs them too, and they hold no server code.
 */
import type { RootCause } from "../../domain/incidents";
import type { BufferKind } from "../../domain/types";

export const BUFFER_KINDS = [
  "reserve_units",
  "percent_of_ats",
  "max_shown",
  "zero_at_or_below",
] as const satisfies readonly BufferKind[];

export const ROOT_CAUSES = [
  "sync_delay",
  "simultaneous_channels",
  "low_buffer",
  "allocation_error",
  "integration_failure",
  "unknown",
] as const satisfies readonly RootCause[];

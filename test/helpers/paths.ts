/** The checkout's root, and the tsx binary the tests, benches and worlds start processes with. */
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");

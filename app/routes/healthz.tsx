import { db, sql } from "../lib/sql.server";

/** Liveness and readiness for load balancers and the sandbox: the database must answer. */
export const loader = async () => {
  try {
    await db().query(sql`SELECT 1`);
    return Response.json({ ok: true });
  } catch {
    return Response.json({ ok: false, reason: "database unavailable" }, { status: 503 });
  }
};

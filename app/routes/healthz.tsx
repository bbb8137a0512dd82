/** `/healthz`: liveness and readiness for load balancers and the sandbox (the database must answer). */
import { databaseReady } from "../services/status.server";

export const loader = async () => {
  if (await databaseReady()) return Response.json({ ok: true });
  return Response.json({ ok: false, reason: "database unavailable" }, { status: 503 });
};

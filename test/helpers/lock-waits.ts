import type { PrismaClient } from "@prisma/client";

/**
 * Polls until a session of this database waits for a lock (true), or until `done()` says the
 * work under test finished without waiting (false); throws after about 5 s of neither.
 */
export async function untilSomeoneWaitsForALock(
  prisma: PrismaClient,
  what: string,
  done: () => boolean = () => false,
): Promise<boolean> {
  for (let i = 0; !done(); i++) {
    const waiting = await prisma.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM pg_stat_activity
       WHERE wait_event_type = 'Lock' AND datname = current_database()`;
    if (Number(waiting[0]!.n) > 0) return true;
    if (i > 200) throw new Error(`${what} neither finished nor waited for a lock`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

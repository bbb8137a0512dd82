/**
 * Transaction boundaries for services: a service that must change several rows atomically runs
 * its repository calls inside `transaction` and hands the `Tx` to each. Services never see a pool
 * or SQL text; repositories take the `Tx` as their first argument.
 */
import { transaction, type SqlClient } from "../lib/sql.server";

export type Tx = SqlClient;
export { transaction };

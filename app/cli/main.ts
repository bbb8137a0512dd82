/**
 * `npm run cli -- <command>`: operator commands for self-hosted installs and the sandbox.
 * Every command validates its input, prints a result (JSON with --json), and exits non-zero with
 * a one-line reason on failure.
 */
import { Command, CommanderError } from "commander";
import { ZodError } from "zod";
import { ChannelError } from "../channels/errors";
import { disconnectDb } from "../db.server";
import { env } from "../env.server";
import { runShutdown } from "../lib/lifecycle.server";
import { connectShopWithToken } from "../services/shop-connect.server";

process.env.STOCKGUARD_PROCESS ??= "cli";
process.env.LOG_LEVEL ??= "warn";

function print(value: unknown, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else if (typeof value === "string") process.stdout.write(`${value}\n`);
  else
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      process.stdout.write(`${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}\n`);
    }
}

export function buildProgram(): Command {
  const program = new Command("stockguard")
    .description("StockGuard operator commands (run with `npm run cli -- <command>`)")
    .showHelpAfterError();

  program
    .command("shop:connect")
    .description(
      "Register a store with an Admin API access token and import its catalog and source-location quantities",
    )
    .requiredOption("--shop <domain>", "the store's myshopify.com domain")
    .requiredOption("--token <admin-api-token>", "an Admin API access token for the store")
    .option("--json", "print JSON", false)
    .action(async (opts: { shop: string; token: string; json: boolean }) => {
      const result = await connectShopWithToken({ shop: opts.shop, token: opts.token });
      print(result, opts.json);
    });

  return program;
}

function describe(error: unknown): string {
  if (error instanceof ZodError) {
    return error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ");
  }
  if (error instanceof ChannelError) return `${error.name}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

async function main(argv: string[]): Promise<number> {
  env();
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    process.stderr.write(`error: ${describe(error)}\n`);
    return 1;
  } finally {
    await runShutdown(3_000);
    await disconnectDb();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  void main(process.argv).then((code) => process.exit(code));
}

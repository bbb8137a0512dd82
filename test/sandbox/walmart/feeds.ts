/**
 * Bulk inventory feeds: the multipart/form-data upload (`file` part) and the feed file itself,
 * per Walmart's InventoryFeed schemas: spec 1.4 single node, JSON
 * `{ InventoryHeader: { version }, Inventory: [{ sku, quantity: { unit: "EACH", amount } }] }` or
 * XML `<InventoryFeed><InventoryHeader><version/></InventoryHeader><inventory>…</inventory>…`,
 * and spec 1.5 multi-node JSON
 * `{ inventoryHeader: { version: "1.5" }, inventory: [{ sku, shipNodes: [{ shipNode, quantity }] }] }`.
 * A file that cannot be read fails as a whole (feed status ERROR); a bad record fails alone
 * (DATA_ERROR), as the feed status definitions describe.
 */
import type { FeedItemRec, IngestionError } from "./state";

export type MultipartPart = {
  name: string | null;
  filename: string | null;
  contentType: string | null;
  data: Buffer;
};

/** Parses a multipart/form-data body; null when the content type has no boundary. */
export function parseMultipart(body: Buffer, contentType: string): MultipartPart[] | null {
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2]?.trim();
  if (!boundary) return null;
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let start = body.indexOf(delimiter);
  if (start < 0) return [];
  for (;;) {
    start += delimiter.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    let chunk = body.subarray(start, next);
    if (chunk.subarray(0, 2).toString() === "\r\n") chunk = chunk.subarray(2);
    if (chunk.subarray(chunk.length - 2).toString() === "\r\n")
      chunk = chunk.subarray(0, chunk.length - 2);
    const headerEnd = chunk.indexOf("\r\n\r\n");
    if (headerEnd >= 0) {
      const headers = chunk.subarray(0, headerEnd).toString("utf8");
      const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? "";
      parts.push({
        name: /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? null,
        filename: /\bfilename="([^"]*)"/i.exec(disposition)?.[1] ?? null,
        contentType: /content-type:\s*([^\r\n]*)/i.exec(headers)?.[1]?.trim() ?? null,
        data: chunk.subarray(headerEnd + 4),
      });
    }
    start = next;
  }
  return parts;
}

export type ParsedFeed = {
  format: "json" | "xml";
  specVersion: string | null;
  items: FeedItemRec[];
  /** Set when the file as a whole cannot be processed (feed status ERROR). */
  fileError: IngestionError | null;
};

const fileError = (description: string): IngestionError => ({
  type: "DATA_ERROR",
  code: "ERR_INVALID_FEED_FILE",
  description,
});

const MAX_RECORDS = 100_000;

function record(
  index: number,
  sku: string,
  shipNodes: { shipNode: string; amount: number }[],
  errors: IngestionError[],
): FeedItemRec {
  return { index, sku, shipNodes, status: errors.length > 0 ? "DATA_ERROR" : "INPROGRESS", errors };
}

function quantityErrors(
  quantity: unknown,
  where: string,
): { amount: number; errors: IngestionError[] } {
  const errors: IngestionError[] = [];
  if (typeof quantity !== "object" || quantity === null || Array.isArray(quantity)) {
    errors.push({
      type: "DATA_ERROR",
      code: "INVALID_QUANTITY",
      description: `${where}quantity is required`,
    });
    return { amount: 0, errors };
  }
  const q = quantity as Record<string, unknown>;
  const extra = Object.keys(q).filter((k) => k !== "unit" && k !== "amount");
  if (extra.length > 0) {
    errors.push({
      type: "DATA_ERROR",
      code: "INVALID_QUANTITY",
      description: `${where}quantity has unknown fields ${extra.join(", ")}`,
    });
  }
  if (q.unit !== "EACH") {
    errors.push({
      type: "DATA_ERROR",
      code: "INVALID_QUANTITY",
      description: `${where}quantity.unit must be EACH`,
    });
  }
  const amount = q.amount;
  if (typeof amount !== "number" || !Number.isInteger(amount) || amount < 0) {
    errors.push({
      type: "DATA_ERROR",
      code: "INVALID_QUANTITY",
      description: `${where}quantity.amount must be an integer >= 0`,
    });
  }
  return { amount: typeof amount === "number" ? amount : 0, errors };
}

/** Reads an inventory feed file (JSON spec 1.4 or 1.5, or XML spec 1.4). */
export function parseInventoryFeed(
  content: Buffer,
  shipNodeParam: string | null,
  defaultShipNode: string,
): ParsedFeed {
  const text = content
    .toString("utf8")
    .replace(/^\uFEFF/, "")
    .trim();
  if (text.startsWith("<")) return parseXmlFeed(text, shipNodeParam ?? defaultShipNode);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return {
      format: "json",
      specVersion: null,
      items: [],
      fileError: fileError("The feed file is not valid JSON or XML"),
    };
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    return {
      format: "json",
      specVersion: null,
      items: [],
      fileError: fileError("The feed file must be a JSON object"),
    };
  }
  const d = doc as Record<string, unknown>;
  const multi = Array.isArray(d.inventory) && !Array.isArray(d.Inventory);
  const header = (multi ? d.inventoryHeader : d.InventoryHeader) as
    Record<string, unknown> | undefined;
  const specVersion = typeof header?.version === "string" ? header.version : null;
  const list = multi ? d.inventory : d.Inventory;
  if (!Array.isArray(list)) {
    return {
      format: "json",
      specVersion,
      items: [],
      fileError: fileError(
        "The feed file needs an Inventory array (spec 1.4) or an inventory array (spec 1.5)",
      ),
    };
  }
  if (list.length === 0 || list.length > MAX_RECORDS) {
    return {
      format: "json",
      specVersion,
      items: [],
      fileError: fileError(`The feed must hold between 1 and ${MAX_RECORDS} records`),
    };
  }
  const items = list.map((entry, index): FeedItemRec => {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      return record(
        index,
        "",
        [],
        [{ type: "DATA_ERROR", code: "INVALID_RECORD", description: "record must be an object" }],
      );
    }
    const e = entry as Record<string, unknown>;
    const sku = typeof e.sku === "string" ? e.sku : "";
    const errors: IngestionError[] = [];
    if (sku === "")
      errors.push({ type: "DATA_ERROR", code: "INVALID_RECORD", description: "sku is required" });
    if (!multi) {
      const extra = Object.keys(e).filter((k) => k !== "sku" && k !== "quantity");
      if (extra.length > 0) {
        errors.push({
          type: "DATA_ERROR",
          code: "INVALID_RECORD",
          description: `unknown fields ${extra.join(", ")}`,
        });
      }
      const q = quantityErrors(e.quantity, "");
      errors.push(...q.errors);
      return record(
        index,
        sku,
        [{ shipNode: shipNodeParam ?? defaultShipNode, amount: q.amount }],
        errors,
      );
    }
    if (!Array.isArray(e.shipNodes) || e.shipNodes.length === 0) {
      errors.push({
        type: "DATA_ERROR",
        code: "INVALID_RECORD",
        description: "shipNodes is required (spec 1.5)",
      });
      return record(index, sku, [], errors);
    }
    const nodes = e.shipNodes.map((n: unknown, i: number) => {
      const node = (typeof n === "object" && n !== null ? n : {}) as Record<string, unknown>;
      if (typeof node.shipNode !== "string" || node.shipNode === "") {
        errors.push({
          type: "DATA_ERROR",
          code: "INVALID_RECORD",
          description: `shipNodes[${i}].shipNode is required`,
        });
      }
      const q = quantityErrors(node.quantity, `shipNodes[${i}].`);
      errors.push(...q.errors);
      return { shipNode: String(node.shipNode ?? ""), amount: q.amount };
    });
    return record(index, sku, nodes, errors);
  });
  return { format: "json", specVersion, items, fileError: null };
}

function tag(xml: string, name: string): string | null {
  const m = new RegExp(`<(?:\\w+:)?${name}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:\\w+:)?${name}>`).exec(
    xml,
  );
  return m?.[1]?.trim() ?? null;
}

function parseXmlFeed(xml: string, shipNode: string): ParsedFeed {
  if (!/<(?:\w+:)?InventoryFeed[\s>]/.test(xml)) {
    return {
      format: "xml",
      specVersion: null,
      items: [],
      fileError: fileError("The XML feed needs an InventoryFeed root"),
    };
  }
  const specVersion = tag(tag(xml, "InventoryHeader") ?? "", "version");
  const blocks = [
    ...xml.matchAll(/<(?:\w+:)?inventory(?:\s[^>]*)?>([\s\S]*?)<\/(?:\w+:)?inventory>/g),
  ].map((m) => m[1] ?? "");
  if (blocks.length === 0 || blocks.length > MAX_RECORDS) {
    return {
      format: "xml",
      specVersion,
      items: [],
      fileError: fileError(`The feed must hold between 1 and ${MAX_RECORDS} records`),
    };
  }
  const items = blocks.map((block, index) => {
    const sku = tag(block, "sku") ?? "";
    const quantity = tag(block, "quantity");
    const amountText = quantity === null ? null : tag(quantity, "amount");
    const parsed =
      amountText !== null && /^\d+$/.test(amountText) ? Number(amountText) : amountText;
    const q = quantityErrors(
      quantity === null
        ? undefined
        : { unit: tag(quantity, "unit") ?? undefined, amount: parsed ?? undefined },
      "",
    );
    const errors: IngestionError[] = [...q.errors];
    if (sku === "")
      errors.unshift({
        type: "DATA_ERROR",
        code: "INVALID_RECORD",
        description: "sku is required",
      });
    return record(index, sku, [{ shipNode, amount: q.amount }], errors);
  });
  return { format: "xml", specVersion, items, fileError: null };
}

/** Reads a single-item PUT /v3/inventory XML body (`<inventory><sku/><quantity>…`). */
export function parseInventoryXml(xml: string): { sku: unknown; quantity: unknown } | null {
  if (!/<(?:\w+:)?inventory[\s>]/.test(xml)) return null;
  const quantity = tag(xml, "quantity");
  const amount = quantity === null ? null : tag(quantity, "amount");
  return {
    sku: tag(xml, "sku") ?? undefined,
    quantity:
      quantity === null
        ? undefined
        : {
            unit: tag(quantity, "unit") ?? undefined,
            amount:
              amount !== null && /^-?\d+(\.\d+)?$/.test(amount)
                ? Number(amount)
                : (amount ?? undefined),
          },
  };
}

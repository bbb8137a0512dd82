/**
 * extensions/ as the Shopify CLI loads it, against the app: every trigger the app fires is
 * declared with exactly the payload keys the app sends (and the TOML rules the CLI enforces:
 * trigger keys of letters and spaces, https runtime URLs), every action's properties are the keys
 * its route reads, every runtime_url has its route, and the product block targets the product page.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FLOW_ACTIONS, FLOW_TRIGGERS } from "../../../app/services/flow/definitions";
import { loadExtensionManifests, parseExtensionToml, payloadKey } from "./flow-manifest";

const manifests = loadExtensionManifests();
const triggers = manifests.filter((m) => m.type === "flow_trigger");
const actions = manifests.filter((m) => m.type === "flow_action");

const SAMPLE: Record<string, unknown> = {
  single_line_text_field: "gid://shopify/ProductVariant/1",
  number_decimal: 3,
  url: "https://stockguard.test/app/incidents",
  boolean: true,
  email: "a@b.c",
};

describe("the manifest parser", () => {
  it("reads the extension, its fields and targets, ignoring comments", () => {
    const m = parseExtensionToml(`
# handle = "not-this"
api_version = "2026-10"
[[extensions]]
name = "Thing happened"
type = "flow_trigger"
handle = "thing-happened"

[settings]
  [[settings.fields]]
  type = "product_reference"
  [[settings.fields]]
  type = "number_decimal"
  key = "units"

[[extensions.targeting]]
module = "./src/Block.jsx"
target = "admin.product-details.block.render"
`);
    expect(m).toMatchObject({
      type: "flow_trigger",
      handle: "thing-happened",
      apiVersion: "2026-10",
      fields: [{ type: "product_reference" }, { type: "number_decimal", key: "units" }],
      targets: [{ module: "./src/Block.jsx", target: "admin.product-details.block.render" }],
    });
    expect(m.fields.map(payloadKey)).toEqual(["product_id", "units"]);
  });
});

describe("Flow triggers", () => {
  it("the app declares exactly the triggers it fires", () => {
    expect(triggers.map((t) => t.handle).sort()).toEqual(Object.keys(FLOW_TRIGGERS).sort());
  });

  for (const trigger of triggers) {
    describe(trigger.handle, () => {
      const definition = FLOW_TRIGGERS[trigger.handle as keyof typeof FLOW_TRIGGERS];

      it("follows the CLI's rules and Flow's naming", () => {
        expect(trigger.name).toMatch(/^[A-Z][a-z]+( [a-z]+)*$/); // sentence case, no punctuation
        for (const field of trigger.fields) {
          if (!field.type.endsWith("_reference")) expect(field.key).toMatch(/^[a-zA-Z\s]+$/);
        }
      });

      it("the app's payload has exactly the declared keys and types", () => {
        const keys = trigger.fields.map(payloadKey);
        const sample = Object.fromEntries(
          trigger.fields
            .filter((f) => !f.type.endsWith("_reference"))
            .map((f) => [f.key!, f.key === "since" ? new Date().toISOString() : SAMPLE[f.type]]),
        );
        expect(definition.payload.safeParse(sample).success).toBe(true);
        expect(definition.productReference).toBe(keys.includes("product_id"));
        for (const key of Object.keys(sample)) {
          const { [key]: _dropped, ...without } = sample;
          expect(definition.payload.safeParse(without).success, `${key} required`).toBe(false);
        }
        expect(definition.payload.safeParse({ ...sample, extra: 1 }).success).toBe(false);
      });
    });
  }
});

describe("Flow actions", () => {
  it("the app handles exactly the actions it declares", () => {
    expect(actions.map((a) => a.handle).sort()).toEqual(Object.keys(FLOW_ACTIONS).sort());
  });

  for (const action of actions) {
    it(`${action.handle}: properties are the keys the route reads, runtime_url has its route`, () => {
      const schema = FLOW_ACTIONS[action.handle as keyof typeof FLOW_ACTIONS];
      expect(action.fields.map(payloadKey).sort()).toEqual(Object.keys(schema.shape).sort());
      expect(action.runtimeUrl).toMatch(/^https:\/\//);
      const path = new URL(action.runtimeUrl!).pathname;
      const route = join(
        process.cwd(),
        "app",
        "routes",
        `${path.slice(1).replace(/\//g, ".")}.tsx`,
      );
      expect(existsSync(route), route).toBe(true);
      for (const field of action.fields) {
        if (!field.type.endsWith("_reference")) expect(field.name, field.key).toBeTruthy();
      }
    });
  }
});

describe("the product block", () => {
  it("targets the product details page with a module that exists", () => {
    const block = manifests.find((m) => m.type === "ui_extension");
    expect(block?.targets).toEqual([
      { target: "admin.product-details.block.render", module: expect.any(String) },
    ]);
    const dir = block!.dir.replace(/shopify\.extension\.toml$/, "");
    expect(existsSync(join(dir, block!.targets[0]!.module))).toBe(true);
  });
});

/**
 * `/app/counts/:countId`: one cycle count — enter counted quantities scanner-style (scan or type
 * a SKU or barcode, Enter, type the quantity, Enter, next), or upload a CSV (per-row errors,
 * nothing recorded until fixed); the variance report (units and value per SKU, totals); submit
 * for review, reopen, cancel, and approve (after confirmation) to book the corrections.
 */
import {
  data,
  unstable_parseMultipartFormData,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
} from "@remix-run/node";
import { Form, useActionData, useFetcher, useLoaderData, useNavigation } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  IndexTable,
  InlineGrid,
  InlineStack,
  Page,
  Text,
  TextField,
} from "@shopify/polaris";
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { FormErrorBanner, useSuccessToast, type ActionResult } from "../components/action-feedback";
import { ConfirmButton } from "../components/confirm";
import { formatUtc, signed } from "../components/format";
import { NotFoundPage } from "../components/not-found";
import { parseForm } from "../services/admin/forms.server";
import {
  getCountDetail,
  MAX_CSV_BYTES,
  performCountAction,
  uploadCountSheet,
  ZCountAction,
  ZCountId,
} from "../services/counts/counts.server";
import { authenticate } from "../shopify.server";

const notFound = () => new Response("Count not found", { status: 404 });

export function ErrorBoundary() {
  return <NotFoundPage what="count" back={{ content: "Cycle counts", url: "/app/counts" }} />;
}

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const id = ZCountId.safeParse(params.countId);
  if (!id.success) throw notFound();
  const detail = await getCountDetail(session.shop, id.data);
  if (!detail) throw notFound();
  return detail;
};

export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session, sessionToken } = await authenticate.admin(request);
  const id = ZCountId.safeParse(params.countId);
  if (!id.success) throw notFound();
  const actor = `admin:user/${sessionToken?.sub ?? "unknown"}`;
  if ((request.headers.get("content-type") ?? "").startsWith("multipart/form-data")) {
    // A count sheet: read as text, at most MAX_CSV_BYTES (a larger file is refused unread).
    const length = Number(request.headers.get("content-length") ?? "0");
    const tooLarge = {
      ok: false as const,
      intent: "upload",
      fieldErrors: {},
      formError: `The file is larger than ${MAX_CSV_BYTES / 1_000_000} MB; split it`,
      status: 400 as const,
    };
    if (length > MAX_CSV_BYTES + 10_000) return data(tooLarge, { status: 400 });
    let csv = "";
    let size = 0;
    const form = await unstable_parseMultipartFormData(request, async (part) => {
      // Every part is read (the handler sees plain fields too), each within the size limit.
      const chunks: Uint8Array[] = [];
      for await (const chunk of part.data) {
        size += chunk.byteLength;
        if (size > MAX_CSV_BYTES) return undefined;
        chunks.push(chunk);
      }
      const text = Buffer.concat(chunks).toString("utf8");
      if (part.name !== "file") return text;
      csv = text;
      return "received";
    });
    if (size > MAX_CSV_BYTES) return data(tooLarge, { status: 400 });
    if (form.get("intent") !== "upload" || !csv) {
      const missing = { ...tooLarge, formError: "Choose a CSV file with the columns sku,counted" };
      return data(missing, { status: 400 });
    }
    const result = await uploadCountSheet({
      shopDomain: session.shop,
      countId: id.data,
      actor,
      csv,
    });
    if (!result) throw notFound();
    return data(result, { status: result.ok ? 200 : result.status });
  }
  const parsed = parseForm(ZCountAction, await request.formData());
  if (!parsed.ok) return data(parsed, { status: parsed.status });
  const result = await performCountAction({
    shopDomain: session.shop,
    countId: id.data,
    actor,
    action: parsed.data,
  });
  if (!result) throw notFound();
  return data(result, { status: result.ok ? 200 : result.status });
};

const money = (cents: number | null) =>
  cents === null
    ? "—"
    : `${cents < 0 ? "−" : cents > 0 ? "+" : ""}${(Math.abs(cents) / 100).toLocaleString("en-US", {
        minimumFractionDigits: 2,
        maximumFractionDigits: 2,
      })}`;

type EntryResult = {
  ok: boolean;
  intent?: string | null;
  message?: string;
  fieldErrors?: Record<string, string>;
  formError?: string;
  entered?: { sku: string; counted: number; expected: number | null };
};

type ScanEntryValue = { code: string; counted: string };

/**
 * Scanner-friendly entry: a scanner types the code and sends Enter, which moves to the quantity;
 * Enter there queues the entry, clears both fields and returns to the code at once, so the next
 * scan can start before the answer comes. Entries are sent one at a time in scan order (a second
 * submission on one fetcher would abort the first's answer). A refused entry is named in a list
 * above the fields, never put back into them: the next scan may already be on its way into them.
 *
 * Entries not answered yet are kept in the browser's storage for this count until they are: a
 * page closed or reloaded meanwhile sends them when the count is opened again, in the same order
 * (an entry sets the line's counted quantity, so one sent twice records the same thing).
 */
function ScanEntry({ countId }: { countId: string }) {
  const fetcher = useFetcher<EntryResult>();
  const [code, setCode] = useState("");
  const [counted, setCounted] = useState("");
  const [waiting, setWaiting] = useState<ScanEntryValue[]>([]);
  const [resumed, setResumed] = useState(0);
  const [restored, setRestored] = useState(false);
  const storageKey = `stockguard:count-entries:${countId}`;
  // Restored after hydration (the server renders an empty queue), then kept as it changes.
  useEffect(() => {
    const saved = readSavedEntries(storageKey);
    setResumed(saved.length);
    setWaiting((queue) => [...saved, ...queue]);
    setRestored(true);
  }, [storageKey]);
  useEffect(() => {
    if (restored) saveEntries(storageKey, waiting);
  }, [restored, storageKey, waiting]);
  const [recorded, setRecorded] = useState<EntryResult["entered"]>();
  const [refused, setRefused] = useState<{ entry: ScanEntryValue; why: string }[]>([]);
  const sent = useRef<{ entry: ScanEntryValue; busy: boolean } | null>(null);
  const focus = (name: string) =>
    (document.querySelector(`input[name="${name}"]`) as HTMLInputElement | null)?.focus();

  useEffect(() => {
    const inFlight = sent.current;
    if (fetcher.state !== "idle") {
      if (inFlight) inFlight.busy = true;
      return;
    }
    if (inFlight?.busy) {
      // The answer to the entry in flight.
      sent.current = null;
      const result = fetcher.data;
      if (result?.ok) setRecorded(result.entered);
      else {
        const why = result
          ? [result.formError, ...Object.values(result.fieldErrors ?? {})].filter(Boolean)
          : ["no answer from StockGuard"];
        setRefused((list) => [...list, { entry: inFlight.entry, why: why.join("; ") }]);
      }
      setWaiting((queue) => queue.slice(1));
    } else if (!inFlight && waiting[0]) {
      sent.current = { entry: waiting[0], busy: false };
      fetcher.submit({ intent: "enter", ...waiting[0] }, { method: "post" });
    }
  }, [fetcher, fetcher.state, fetcher.data, waiting]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const target = event.target as HTMLInputElement;
    if (event.key === "Enter" && target.name === "code") {
      event.preventDefault();
      if (code.trim()) focus("counted");
    }
  };
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (code.trim() || counted.trim()) {
      setWaiting((queue) => [...queue, { code, counted }]);
      setCode("");
      setCounted("");
    }
    focus("code");
  };
  return (
    <div onKeyDown={onKeyDown}>
      <form method="post" onSubmit={onSubmit}>
        <BlockStack gap="300">
          {refused.length > 0 && (
            <Banner
              tone="critical"
              title={`Not recorded (${refused.length}): correct and enter again`}
              onDismiss={() => setRefused([])}
            >
              <ul data-testid="refused-entries">
                {refused.map(({ entry, why }, i) => (
                  <li key={i}>{`${entry.code.trim() || "(no code)"} × ${
                    entry.counted.trim() || "(no count)"
                  }: ${why}`}</li>
                ))}
              </ul>
            </Banner>
          )}
          <InlineGrid columns={{ xs: 1, sm: "2fr 1fr auto" }} gap="300" alignItems="end">
            <TextField
              label="SKU or barcode"
              name="code"
              value={code}
              onChange={setCode}
              autoComplete="off"
              autoFocus
              helpText="Scan or type, then Enter"
            />
            <TextField
              label="Counted"
              name="counted"
              value={counted}
              onChange={setCounted}
              autoComplete="off"
              inputMode="numeric"
            />
            {/* Never disabled while entries are on their way: a disabled default button would
                stop Enter in the fields from submitting (implicit submission). */}
            <Button submit variant="primary">
              Record
            </Button>
          </InlineGrid>
          {resumed > 0 && (
            <span data-testid="resumed-entries">
              <Text as="p" tone="subdued">{`Resumed ${
                resumed === 1 ? "1 entry" : `${resumed} entries`
              } not recorded before this page was last closed.`}</Text>
            </span>
          )}
          {waiting.length > 0 && (
            <Text
              as="p"
              tone="subdued"
            >{`Recording ${waiting.length === 1 ? "1 entry" : `${waiting.length} entries`}…`}</Text>
          )}
          {recorded && (
            <span data-testid="last-entry">
              <Text as="p" tone="success">
                {`${recorded.sku}: ${recorded.counted} counted${
                  recorded.expected === null
                    ? ""
                    : ` (expected ${recorded.expected}, ${signed(recorded.counted - recorded.expected)})`
                }`}
              </Text>
            </span>
          )}
        </BlockStack>
      </form>
    </div>
  );
}

/** Entries saved by an earlier visit (anything unreadable is ignored). */
function readSavedEntries(key: string): ScanEntryValue[] {
  try {
    const saved: unknown = JSON.parse(window.localStorage.getItem(key) ?? "[]");
    if (!Array.isArray(saved)) return [];
    return saved.filter(
      (e): e is ScanEntryValue =>
        typeof e === "object" &&
        e !== null &&
        typeof (e as ScanEntryValue).code === "string" &&
        typeof (e as ScanEntryValue).counted === "string",
    );
  } catch {
    return [];
  }
}

/** Keeps the entries not answered yet (storage refused, e.g. a private window: kept in the page only). */
function saveEntries(key: string, entries: ScanEntryValue[]): void {
  try {
    if (entries.length === 0) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, JSON.stringify(entries));
  } catch {
    // Nothing else to do: the queue still lives in the page.
  }
}

export default function CountDetail() {
  const count = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  useSuccessToast(result as ActionResult | undefined);
  const failed = result && !result.ok ? result : undefined;
  const rowErrors: { row: number; message: string }[] =
    failed && "rowErrors" in failed && Array.isArray(failed.rowErrors)
      ? (failed.rowErrors as { row: number; message: string }[])
      : [];
  const t = count.totals;
  const open = count.status === "open";
  const review = count.status === "review";

  return (
    <Page
      title={`Count #${count.id}`}
      subtitle={`${count.location} · started ${formatUtc(count.startedAt)}`}
      titleMetadata={<Badge>{count.status === "review" ? "in review" : count.status}</Badge>}
      backAction={{ content: "Cycle counts", url: "/app/counts" }}
    >
      <TitleBar title={`Count #${count.id}`} />
      <BlockStack gap="400">
        {failed && failed.intent !== "upload" && (
          <FormErrorBanner result={failed} intent={failed.intent ?? ""} />
        )}
        {count.status === "approved" && (
          <Banner tone="success" title="Approved">
            <p>
              {`Approved ${count.approvedAt ? formatUtc(count.approvedAt) : ""}: every variance was booked as a correction and sent to the store as a cycle count.`}
            </p>
          </Banner>
        )}
        {open && (
          <Card>
            <BlockStack gap="300">
              <Text as="h2" variant="headingMd">
                Enter counts
              </Text>
              <ScanEntry countId={count.id} />
            </BlockStack>
          </Card>
        )}
        {open && (
          <Card>
            <Form method="post" encType="multipart/form-data">
              <input type="hidden" name="intent" value="upload" />
              <BlockStack gap="300">
                <Text as="h2" variant="headingMd">
                  Upload a count sheet
                </Text>
                <Text as="p" tone="subdued">
                  A CSV with the header sku,counted (a barcode column works too). Any bad row and
                  nothing is recorded.
                </Text>
                <InlineStack gap="300" blockAlign="center">
                  <input type="file" name="file" accept=".csv,text/csv" aria-label="Count sheet" />
                  <Button submit loading={navigation.state === "submitting"}>
                    Upload
                  </Button>
                </InlineStack>
                {failed?.intent === "upload" && (
                  <Banner tone="critical" title="Nothing was recorded">
                    <BlockStack gap="100">
                      <p>{failed.formError}</p>
                      {rowErrors.length > 0 && (
                        <ul data-testid="row-errors">
                          {rowErrors.map((e) => (
                            <li key={e.row}>{`Row ${e.row}: ${e.message}`}</li>
                          ))}
                        </ul>
                      )}
                    </BlockStack>
                  </Banner>
                )}
              </BlockStack>
            </Form>
          </Card>
        )}

        <Card>
          <BlockStack gap="300">
            <InlineStack align="space-between" blockAlign="center">
              <Text as="h2" variant="headingMd">
                Variance
              </Text>
              <InlineStack gap="200">
                {open && (
                  <Form method="post">
                    <input type="hidden" name="intent" value="submit" />
                    <Button submit variant="primary" disabled={t.counted === 0}>
                      Submit for review
                    </Button>
                  </Form>
                )}
                {review && (
                  <Form method="post">
                    <input type="hidden" name="intent" value="reopen" />
                    <Button submit>Reopen</Button>
                  </Form>
                )}
                {review && (
                  <ConfirmButton
                    label="Approve"
                    variant="primary"
                    title={`Approve count #${count.id}?`}
                    body={`${t.withVariance} correction(s) will be booked (net ${signed(t.netUnits)} unit(s), ${money(t.netCents)}) and written to the store with the reason "cycle count". ${t.uncounted} SKU(s) not counted stay as they are.`}
                    confirmLabel="Approve and book"
                    fields={{ intent: "approve" }}
                  />
                )}
                {(open || review) && (
                  <ConfirmButton
                    label="Cancel count"
                    tone="critical"
                    variant="plain"
                    title="Cancel this count?"
                    body="Nothing is booked; the counts entered are kept for reference."
                    confirmLabel="Cancel count"
                    destructive
                    fields={{ intent: "cancel" }}
                  />
                )}
              </InlineStack>
            </InlineStack>
            <InlineGrid columns={{ xs: 2, md: 6 }} gap="300">
              <Stat label="Counted" value={`${t.counted} / ${t.lines}`} />
              <Stat label="With variance" value={String(t.withVariance)} />
              <Stat label="Net units" value={signed(t.netUnits)} testId="net-units" />
              <Stat label="Units off" value={String(t.absoluteUnits)} />
              <Stat label="Net value" value={money(t.netCents)} testId="net-value" />
              <Stat label="Accuracy" value={`${t.accuracyPercent}%`} />
            </InlineGrid>
          </BlockStack>
        </Card>

        <Card padding="0">
          <IndexTable
            resourceName={{ singular: "SKU", plural: "SKUs" }}
            itemCount={count.lines.length}
            selectable={false}
            headings={[
              { title: "SKU" },
              { title: "At start", alignment: "end" },
              { title: "During count", alignment: "end" },
              { title: "Expected", alignment: "end" },
              { title: "Counted", alignment: "end" },
              { title: "Variance", alignment: "end" },
              { title: "Value", alignment: "end" },
              { title: "" },
            ]}
          >
            {count.lines.map((l, index) => (
              <IndexTable.Row id={l.itemId} key={l.itemId} position={index}>
                <IndexTable.Cell>
                  <BlockStack gap="050">
                    <Text as="span" fontWeight="semibold">
                      {l.sku}
                    </Text>
                    <Text as="span" variant="bodySm" tone="subdued">
                      {[l.title, l.barcode].filter(Boolean).join(" · ")}
                    </Text>
                  </BlockStack>
                </IndexTable.Cell>
                <Num value={String(l.snapshotOnHand)} />
                <Num value={l.duringCount === null ? "—" : signed(l.duringCount)} />
                <Num value={l.expectedAtCount === null ? "—" : String(l.expectedAtCount)} />
                <Num value={l.counted === null ? "not counted" : String(l.counted)} />
                <Num
                  value={l.varianceUnits === null ? "—" : signed(l.varianceUnits)}
                  tone={
                    l.varianceUnits === null || l.varianceUnits === 0
                      ? undefined
                      : l.varianceUnits < 0
                        ? "critical"
                        : "caution"
                  }
                />
                <Num value={money(l.varianceCents)} />
                <IndexTable.Cell>
                  {l.booked ? <Badge tone="success">booked</Badge> : null}
                </IndexTable.Cell>
              </IndexTable.Row>
            ))}
          </IndexTable>
          {count.hiddenLines > 0 && (
            <Box padding="400">
              <Text as="p" tone="subdued">
                {`${count.hiddenLines} more SKU(s) not listed (variances are listed first); the totals include them.`}
              </Text>
            </Box>
          )}
        </Card>
      </BlockStack>
    </Page>
  );
}

function Num(props: { value: string; tone?: "critical" | "caution" }) {
  return (
    <IndexTable.Cell>
      <Text as="span" alignment="end" numeric tone={props.tone}>
        {props.value}
      </Text>
    </IndexTable.Cell>
  );
}

function Stat(props: { label: string; value: string; testId?: string }) {
  return (
    <Box>
      <Text as="p" variant="bodySm" tone="subdued">
        {props.label}
      </Text>
      <span data-testid={props.testId}>
        <Text as="p" variant="headingMd">
          {props.value}
        </Text>
      </span>
    </Box>
  );
}

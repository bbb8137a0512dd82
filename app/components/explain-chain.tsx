/**
 * Why a listing shows its number, in one line: "ATS 3 → Hold back 2 (shop rule) → shows 1", each
 * rule a link to edit it on the Buffer rules page. Intermediate values are printed only when more
 * than one step changes the number.
 */
import { Link as RemixLink } from "@remix-run/react";
import { Text } from "@shopify/polaris";
import { Fragment } from "react";
import type { ExplainStep } from "../services/admin/explain";

export function ExplainChain(props: { steps: readonly ExplainStep[] }) {
  const steps = props.steps;
  if (steps.length === 0) return null;
  const first = steps[0]!;
  const last = steps[steps.length - 1]!;
  const middle = steps.slice(1, -1);
  const showValues = middle.length > 1;
  const parts = [
    <Text as="span" key="start">
      {first.label === "Available to sell" ? "ATS" : first.label} {first.value}
    </Text>,
    ...middle.map((step, i) => (
      <Text as="span" key={i}>
        {step.label}
        {step.rule && (
          <>
            {" ("}
            <RemixLink to={`/app/rules?edit=${step.rule.id}`} data-rule-link={step.rule.id}>
              {step.rule.scope}
            </RemixLink>
            {")"}
          </>
        )}
        {showValues ? ` = ${step.value}` : ""}
      </Text>
    )),
    <Text as="span" key="end" fontWeight="semibold">
      shows {last.value}
    </Text>,
  ];
  return (
    <span data-testid="explain-chain">
      {parts.map((part, i) => (
        <Fragment key={i}>
          {i > 0 && " → "}
          {part}
        </Fragment>
      ))}
    </span>
  );
}

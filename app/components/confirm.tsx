/**
 * A button that asks before it acts: a Polaris modal (rendered inside the app's frame, so it
 * works in the admin and in the sandbox shell alike) whose primary action submits `fields` as a
 * POST form to the current route.
 */
import { useNavigation, useSubmit } from "@remix-run/react";
import { Button, Modal, Text } from "@shopify/polaris";
import { useState, type ReactNode } from "react";

export function ConfirmButton(props: {
  /** The button that opens the dialog. */
  label: string;
  accessibilityLabel?: string;
  title: string;
  /** What will happen, in a sentence or two. */
  body: ReactNode;
  confirmLabel: string;
  destructive?: boolean;
  /** Submitted on confirmation (includes `intent`). */
  fields: Record<string, string>;
  variant?: "primary" | "secondary" | "plain" | "tertiary";
  tone?: "critical" | "success";
  size?: "slim" | "medium" | "large";
  disabled?: boolean;
}) {
  const [open, setOpen] = useState(false);
  const submit = useSubmit();
  const navigation = useNavigation();
  const submitting =
    navigation.state === "submitting" &&
    Object.entries(props.fields).every(([k, v]) => navigation.formData?.get(k) === v);
  return (
    <>
      <Button
        variant={props.variant}
        tone={props.tone}
        size={props.size}
        disabled={props.disabled}
        loading={submitting}
        accessibilityLabel={props.accessibilityLabel}
        onClick={() => setOpen(true)}
      >
        {props.label}
      </Button>
      <Modal
        open={open}
        onClose={() => setOpen(false)}
        title={props.title}
        primaryAction={{
          content: props.confirmLabel,
          destructive: props.destructive,
          onAction: () => {
            // The dialog closes at once; the button shows the submission, the page its result.
            setOpen(false);
            submit(props.fields, { method: "post" });
          },
        }}
        secondaryActions={[{ content: "Cancel", onAction: () => setOpen(false) }]}
      >
        <Modal.Section>
          {typeof props.body === "string" ? <Text as="p">{props.body}</Text> : props.body}
        </Modal.Section>
      </Modal>
    </>
  );
}

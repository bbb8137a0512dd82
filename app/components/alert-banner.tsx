/**
 * The admin banner of open alerts (confirmed oversells, stale channels, drift, failing
 * subscriptions): shown above every page until the condition clears, with a link to Incidents.
 */
import { Banner, Box, List } from "@shopify/polaris";

export function AlertBanner(props: { alerts: { id: string; title: string }[] }) {
  if (props.alerts.length === 0) return null;
  return (
    <Box padding="400" paddingBlockEnd="0">
      <div data-testid="alert-banner">
        <Banner
          tone="critical"
          title={`${props.alerts.length === 1 ? "1 alert needs" : `${props.alerts.length} alerts need`} attention`}
          action={{ content: "Open incidents", url: "/app/incidents" }}
        >
          <List>
            {props.alerts.map((a) => (
              <List.Item key={a.id}>{a.title}</List.Item>
            ))}
          </List>
        </Banner>
      </div>
    </Box>
  );
}

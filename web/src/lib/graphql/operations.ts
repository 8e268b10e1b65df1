/** Every GraphQL document the dashboard sends, in one place so they are easy to check against the SDL. */

const ALERT_FIELDS = 'id model twinId severity title message at acknowledged data type status count firstAt lastAt clearedAt assignee comment change';
const TWIN_FIELDS = 'id model state lat lng updatedAt level';
/** what the map draws a twin from: its state is left to the tooltip, which fetches it on hover */
const MAP_TWIN_FIELDS = 'id model lat lng updatedAt level';
/**
 * the feed also takes the twin, so the map can place an alerting twin without asking again; not its
 * state, which under an alert storm was most of the bytes the page parsed
 */
const FEED_ALERT_FIELDS = `${ALERT_FIELDS} twin { ${MAP_TWIN_FIELDS} }`;

export const MODELS = /* GraphQL */ `
  query Models {
    models {
      name
      description
      twinCount
      fields {
        name
        type
      }
    }
  }
`;

export const STATUS = /* GraphQL */ `
  query Status {
    status {
      version
      ready
      uptimeSeconds
      messagesIn
      messagesApplied
      messagesFailed
      ingestRate
      twins
      mailboxDepth
      connectors {
        name
        state
        connections
      }
      nodes {
        id
        partitions
        self
      }
    }
  }
`;

export const TWIN = /* GraphQL */ `
  query Twin($model: String!, $id: ID!, $alerts: Int, $history: Int) {
    twin(model: $model, id: $id) {
      ${TWIN_FIELDS} createdAt
      lastError { at code message }
      pendingCommands
      alerts(limit: $alerts) { ${ALERT_FIELDS} }
      history(limit: $history) { at state }
    }
  }
`;

export const TWIN_LOCATION = /* GraphQL */ `
  query TwinLocation($model: String!, $id: ID!) { twin(model: $model, id: $id) { ${TWIN_FIELDS} } }
`;

export const TWINS = /* GraphQL */ `
  query Twins($model: String!, $where: TwinFilter, $orderBy: [TwinOrder!], $first: Int, $after: String) {
    twins(model: $model, where: $where, orderBy: $orderBy, first: $first, after: $after) {
      totalCount
      edges { cursor node { ${TWIN_FIELDS} } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export const ALERTS = /* GraphQL */ `
  query Alerts($model: String, $minSeverity: Severity, $acknowledged: Boolean, $first: Int) {
    alerts(model: $model, minSeverity: $minSeverity, acknowledged: $acknowledged, first: $first) { ${FEED_ALERT_FIELDS} }
  }
`;

export const ACKNOWLEDGE_ALERT = /* GraphQL */ `
  mutation AcknowledgeAlert($id: ID!) { acknowledgeAlert(id: $id) { ${ALERT_FIELDS} } }
`;

export const CLEAR_ALERT = /* GraphQL */ `
  mutation ClearAlert($id: ID!) { clearAlert(id: $id) { ${ALERT_FIELDS} } }
`;

export const ASSIGN_ALERT = /* GraphQL */ `
  mutation AssignAlert($id: ID!, $assignee: String) { assignAlert(id: $id, assignee: $assignee) { ${ALERT_FIELDS} } }
`;

export const SEND_TO_TWIN = /* GraphQL */ `
  mutation SendToTwin($model: String!, $id: ID!, $message: JSON!) {
    sendToTwin(model: $model, id: $id, message: $message)
  }
`;

export const SEND_COMMAND = /* GraphQL */ `
  mutation SendCommand($model: String!, $id: ID!, $command: JSON!) {
    sendCommand(model: $model, id: $id, command: $command)
  }
`;

export const REMOVE_TWIN = /* GraphQL */ `
  mutation RemoveTwin($model: String!, $id: ID!) {
    removeTwin(model: $model, id: $id)
  }
`;

export const ALERTS_SUBSCRIPTION = /* GraphQL */ `
  subscription AlertFeed($model: String, $minSeverity: Severity) { alerts(model: $model, minSeverity: $minSeverity) { ${FEED_ALERT_FIELDS} } }
`;

export const TWIN_CHANGES = /* GraphQL */ `
  subscription TwinChanges($model: String!, $where: TwinFilter, $throttleMs: Int, $withState: Boolean = true) {
    twinChanges(model: $model, where: $where, throttleMs: $throttleMs) { kind id twin { ${TWIN_FIELDS.replace('state', 'state @include(if: $withState)')} } }
  }
`;

export const HEX_AGGREGATE = /* GraphQL */ `
  subscription HexAggregate($model: String!, $resolution: Int!, $where: TwinFilter, $metrics: [MetricInput!], $everyMs: Int) {
    hexAggregate(model: $model, resolution: $resolution, where: $where, metrics: $metrics, everyMs: $everyMs) {
      cell
      count
      values
    }
  }
`;

export const AGGREGATE = /* GraphQL */ `
  subscription Aggregate($model: String!, $where: TwinFilter, $groupBy: String, $metrics: [MetricInput!], $everyMs: Int) {
    aggregate(model: $model, where: $where, groupBy: $groupBy, metrics: $metrics, everyMs: $everyMs) {
      key
      count
      values
    }
  }
`;

/** demo scenarios the simulator registered (servers without them answer a validation error) */
export const SCENARIOS = /* GraphQL */ `
  query Scenarios {
    scenarios {
      name
      description
    }
  }
`;

export const TRIGGER_SCENARIO = /* GraphQL */ `
  mutation TriggerScenario($name: String!) {
    triggerScenario(name: $name)
  }
`;

const GEOFENCE_FIELDS = 'name model geometry bbox dwellMs alarm { severity type } source';

export const GEOFENCES = /* GraphQL */ `
  query Geofences {
    geofences { ${GEOFENCE_FIELDS} }
  }
`;

export const PUT_GEOFENCE = /* GraphQL */ `
  mutation PutGeofence($input: GeofenceInput!) {
    putGeofence(input: $input) { ${GEOFENCE_FIELDS} }
  }
`;

export const REMOVE_GEOFENCE = /* GraphQL */ `
  mutation RemoveGeofence($name: String!) {
    removeGeofence(name: $name)
  }
`;
